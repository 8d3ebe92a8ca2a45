"""A numeric core: one model file of a portable export, as a TensorFlow function of named tensors to named tensors."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import tensorflow as tf

from toolkit.errors import ExportRefusedError
from toolkit.layers.compiled_inference import uncompiled_inference


@dataclass(frozen=True)
class NumericCore:
    """The part of a task model's serving graph that maps numbers to numbers, as another runtime runs it.

    A task model serves raw inputs (strings, say) and names (class labels,
    caption strings); a portable runtime gets the numbers between them:
    token ids, uint8 images or price windows in; probabilities, class ids,
    prices or next-token scores out. `portable.py` does the rest.

    Attributes:
        name: The model file's stem: `model`, or `encoder` and `step` for a decoder.
        part: What it is, for messages, such as "the text classifier's network".
        inputs: Each input's spec by name, the batch first (`None`).
        call: Takes the inputs by keyword and returns the outputs by name.
        variables: The TensorFlow variables it reads.
        example: Gives realistic inputs for a batch of the given size, for
            checking a converted model against this function.
        loops_over_time: Whether it runs a recurrence over a sequence in a
            loop, which LiteRT's builtin ops can run only at a fixed batch (1).
    """

    name: str
    part: str
    inputs: dict[str, tf.TensorSpec]
    call: Callable[..., dict[str, tf.Tensor]]
    variables: list
    example: Callable[[int], dict[str, np.ndarray]]
    loops_over_time: bool = False

    def input_signature(self, batch: int | None = None) -> list[tf.TensorSpec]:
        """The inputs' specs, in order, with the batch fixed to `batch` (`None`: any)."""
        return [tf.TensorSpec([batch, *spec.shape[1:]], spec.dtype, name=name) for name, spec in self.inputs.items()]

    def describe_inputs(self, batch: int | None = None) -> dict[str, dict]:
        """Each input's dtype and shape (`None` for any size), by name, as `spec.json` records them."""
        return {
            spec.name: {"dtype": spec.dtype.name, "shape": spec.shape.as_list()} for spec in self.input_signature(batch)
        }

    def function(self, batch: int | None = None) -> tf.types.experimental.GenericFunction:
        """`call` as a `tf.function` of positional inputs, for the batch `batch`; trace it within `uncompiled_inference()`."""
        names = list(self.inputs)
        return tf.function(
            lambda *tensors: self.call(**dict(zip(names, tensors))), input_signature=self.input_signature(batch)
        )

    def concrete_function(self, batch: int | None = None):
        """The traced function, with every LSTM's plain recurrence (no XLA, no choice between paths)."""
        with uncompiled_inference():
            return self.function(batch).get_concrete_function()

    def expected(self, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """What TensorFlow answers for `inputs`: the reference a conversion is checked against."""
        with uncompiled_inference():
            return {
                name: value.numpy()
                for name, value in self.call(**{k: tf.constant(v) for k, v in inputs.items()}).items()
            }

    def largest_difference(
        self,
        export_format: str,
        runtime: str,
        actual: dict[str, np.ndarray],
        inputs: dict[str, np.ndarray],
        tolerance: float = 1e-4,
    ) -> float:
        """The largest difference of a converted model's float outputs for `inputs` from TensorFlow's, each
        relative to its output's scale (at least 1).

        Raises:
            ExportRefusedError: If one exceeds `tolerance`, naming the output: the export would not answer as the
                SavedModel does.
        """
        largest = 0.0
        for name, value in self.expected(inputs).items():
            if not np.issubdtype(value.dtype, np.floating):
                continue
            scale = max(1.0, float(np.max(np.abs(value), initial=0.0)))
            difference = float(np.max(np.abs(actual[name] - value), initial=0.0)) / scale
            if not difference <= tolerance:
                raise ExportRefusedError(
                    f"{export_format}: {self.part} converts, but {runtime} computes its output {name!r} otherwise "
                    f"than TensorFlow (a difference of {difference:.3g} of its scale, above {tolerance:g}); the "
                    "export would not answer as the SavedModel does."
                )
            largest = max(largest, difference)
        return largest


def tensorflow_variables(layers) -> list[tf.Variable]:
    """The TensorFlow variables behind the Keras variables of `layers` (what a converter must find tracked)."""
    return [variable.value for layer in layers for variable in layer.variables]
