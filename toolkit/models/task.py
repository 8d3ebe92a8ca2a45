"""The base of every trained task: one Keras model that takes raw inputs and carries what serving them needs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import keras
import numpy as np
import tensorflow as tf

from toolkit.preprocessing.batch_checks import checked_batch

# The one part of the usual fit plan: the task model's network, fitted in the run's own work folder.
ONE_NETWORK = "network"


@dataclass(frozen=True)
class FitPlan:
    """What the training loop fits of a task model, and what it does once they are fitted.

    Attributes:
        parts: The networks to fit, by name, each alone and in this order.
            The usual plan is one part, `ONE_NETWORK`; a classifier with
            branches fits each branch alone, so that one that learns fast
            (and then overfits) cannot starve one that learns slowly.
        join: Called once every part is fitted, with the validation batches
            (or `None`, for a fit without them), to set what combines the
            parts, such as a classifier's branch weights; `None` for nothing.
    """

    parts: dict[str, keras.Model]
    join: Callable[[tf.data.Dataset | None], object] | None = None


class TaskModel(keras.Model):
    """A trained task as one functional Keras model, raw inputs in.

    As keras-hub's tasks do, a task model is a functional `keras.Model`
    whose constructor takes its parts, and whose `get_config()` holds
    those parts and every fact it needs to serve: class names, a window
    length, decoding settings. The vocabulary and any scaling statistics
    are weights or assets of its layers. So `keras.saving.load_model`, after
    `import toolkit`, restores a model that answers raw inputs through
    `serve` exactly as its exported SavedModel does.

    Its graph is raw inputs → `preprocessor` → `network`. Training fits
    `network` alone, on inputs that `tf.data` preprocessed once; the task
    model shares its layers, so it is trained too.

    Subclasses set their own attributes, then call this constructor, and
    implement `raw_input_spec`, `serving_outputs` and `raw_batch`; they may
    refine `checked_inputs`, the in-graph check of a batch's shape, and
    `fit_plan`, what the training loop fits.

    Args:
        network: The trainable model: preprocessed inputs → outputs.
        preprocessor: The layer that turns raw inputs into the network's
            inputs, or `None` when the network takes raw inputs itself.
        inputs: The graph's inputs, for a task whose graph is not
            raw inputs → preprocessor → network (a captioner's is
            `[images, captions]`); `outputs` must then be given too.
        outputs: The graph's outputs, with `inputs`.
        limits: The sizes its serving signature refuses before any work, by
            name (a pipeline's `serving` section, such as `max_batch`; see
            `toolkit.models.serving_limits`); `None` or a missing name is no limit.
        **kwargs: Base model keyword arguments, such as `name`.
    """

    # Constructor arguments that are layers: serialized by `get_config`, rebuilt by `from_config`.
    layer_arguments: ClassVar[tuple[str, ...]] = ("network", "preprocessor")

    def __init__(
        self,
        network: keras.Model,
        preprocessor: keras.layers.Layer | None = None,
        inputs=None,
        outputs=None,
        limits: dict | None = None,
        **kwargs,
    ):
        self.network = network
        self.preprocessor = preprocessor
        # A model saved before limits existed has none: it serves as it always did.
        self.limits = {key: value for key, value in (limits or {}).items() if value is not None}
        if inputs is None:
            spec = self.raw_input_spec()
            inputs = keras.Input(shape=spec.shape[1:], dtype=spec.dtype.name, name=spec.name)
            outputs = network(inputs if preprocessor is None else preprocessor(inputs))
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)

    def fit_plan(self) -> FitPlan:
        """What `toolkit.training.fit_task` fits: by default the one `network`."""
        return FitPlan({ONE_NETWORK: self.network})

    def raw_input_spec(self) -> tf.TensorSpec:
        """The batch of raw inputs `serve` and the serving signature take; its name is the signature's input name."""
        raise NotImplementedError(f"{type(self).__name__} must define raw_input_spec().")

    def serve(self, raw_inputs) -> dict[str, tf.Tensor]:
        """Maps a batch of raw inputs to the named outputs of the serving signature.

        Args:
            raw_inputs: A tensor, an array or a list of the `raw_input_spec`'s
                dtype; for a float spec, any real numbers. A batch of zero
                gives outputs of zero rows.

        Raises:
            TypeError: For inputs of another dtype, such as float images for a
                uint8 spec, which a cast would silently turn into others.
            tf.errors.InvalidArgumentError: For a batch of another shape, from
                `checked_inputs`, naming the input and both shapes.
        """
        spec = self.raw_input_spec()
        inputs = tf.convert_to_tensor(raw_inputs)
        if inputs.dtype != spec.dtype:
            if not (spec.dtype.is_floating and (inputs.dtype.is_floating or inputs.dtype.is_integer)):
                raise TypeError(f"{spec.name}: expected {spec.dtype.name} inputs, got {inputs.dtype.name}.")
            inputs = tf.cast(inputs, spec.dtype)
        return self._outputs_of_any_batch(self.checked_inputs(self.checked_size(inputs)))

    def checked_size(self, raw_inputs: tf.Tensor) -> tf.Tensor:
        """`raw_inputs` after asserting in the graph, before anything else runs, that they are within `limits`.

        The base checks the rows against `max_batch`; subclasses extend it with
        their own sizes (the characters of a text, say). A message names the
        size found, the limit and the config key that sets it.
        """
        max_batch = self.limits.get("max_batch")
        if max_batch is None:
            return raw_inputs
        shape = tf.shape(raw_inputs)
        rows = tf.cond(tf.size(shape) > 0, lambda: tf.cast(shape[0], tf.int64), lambda: tf.constant(1, tf.int64))
        name = self.raw_input_spec().name
        check = tf.debugging.Assert(
            rows <= max_batch,
            [f"{name}: this model serves at most {max_batch} inputs per call (serving.max_batch); got", rows],
        )
        with tf.control_dependencies([check]):
            return tf.identity(raw_inputs)

    def checked_inputs(self, raw_inputs: tf.Tensor) -> tf.Tensor:
        """`raw_inputs` after asserting in the graph that they fit `raw_input_spec`: the rank and each dimension.

        The error names the input, the expected shape and the shape found;
        the result has the spec's static shape.
        """
        spec = self.raw_input_spec()
        return checked_batch(raw_inputs, spec, f"{spec.dtype.name} inputs")

    def _outputs_of_any_batch(self, inputs: tf.Tensor, outputs_of=None) -> dict[str, tf.Tensor]:
        """`outputs_of(inputs)` (by default `serving_outputs`), and for an empty batch, empty outputs of the same kinds.

        Many layers cannot run on zero examples (batch norm, a beam search's
        tensor lists), so an empty batch is served one placeholder input whose
        outputs are then cut away.
        """
        count = tf.shape(inputs)[0]
        placeholder_value = tf.constant("" if inputs.dtype == tf.string else 1, inputs.dtype)
        placeholder = tf.fill(tf.concat([[1], tf.shape(inputs)[1:]], axis=0), placeholder_value)
        batch_shape = tf.TensorShape([None]).concatenate(inputs.shape[1:])
        batch = tf.ensure_shape(tf.cond(count > 0, lambda: inputs, lambda: placeholder), batch_shape)
        return {name: output[:count] for name, output in (outputs_of or self.serving_outputs)(batch).items()}

    def serving_outputs(self, raw_inputs: tf.Tensor) -> dict[str, tf.Tensor]:
        """What `serve` returns for a batch tensor of raw inputs, in TensorFlow ops (traced into the SavedModel)."""
        raise NotImplementedError(f"{type(self).__name__} must define serving_outputs().")

    def raw_batch(self, raw_inputs) -> np.ndarray:
        """Turns what a Python user passes (a list, an array, a DataFrame, a file path) into a batch `serve` takes.

        Raises:
            ValueError: If the inputs do not fit `raw_input_spec`, saying what is expected.
        """
        raise NotImplementedError(f"{type(self).__name__} must define raw_batch().")

    def describe(self) -> dict:
        """A JSON-ready summary for people: the task's class, its input and its own settings (not its layers)."""
        spec = self.raw_input_spec()
        settings = {
            key: value
            for key, value in self.get_config().items()
            if key not in self.layer_arguments and key != "name"
        }
        return {
            "task": type(self).__name__,
            "input": {"name": spec.name, "shape": spec.shape.as_list(), "dtype": spec.dtype.name},
            **settings,
        }

    def export_serving(self, path: str | Path) -> Path:
        """Exports a SavedModel whose `serving_default` is `serve`: raw inputs in, named outputs out.

        All preprocessing and decoding runs inside the graph. Loading it needs
        TensorFlow only: `tf.saved_model.load(path).signatures["serving_default"]`.
        The signature takes a tensor of the spec's dtype and any shape, and
        checks its shape in the graph (`checked_inputs`); an empty batch
        gives empty outputs.
        """
        archive = keras.export.ExportArchive()
        archive.track(self)
        spec = self.raw_input_spec()
        # Any rank: a batch of the wrong shape reaches `checked_inputs` and gets its message,
        # rather than failing deep inside the network (or being answered).
        signature = tf.TensorSpec(None, spec.dtype, name=spec.name)
        archive.add_endpoint("serving_default", tf.function(self.serve, input_signature=[signature]))
        archive.write_out(str(path), verbose=False)
        return Path(path)

    def get_config(self) -> dict:
        # Not chained to `keras.Model.get_config`: a functional model's config is its
        # graph, which this constructor does not take (as in keras-hub's `Task`).
        config = {"name": self.name}
        for argument in self.layer_arguments:
            layer = getattr(self, argument)
            config[argument] = None if layer is None else keras.layers.serialize(layer)
        config["limits"] = dict(self.limits)
        return config

    @classmethod
    def from_config(cls, config: dict) -> TaskModel:
        config = dict(config)
        for argument in cls.layer_arguments:
            if isinstance(config.get(argument), dict):
                config[argument] = keras.layers.deserialize(config[argument])
        return cls(**config)
