"""Numeric cores to LiteRT flatbuffers with builtin ops only, checked in LiteRT's interpreter against TensorFlow.

Only `TFLITE_BUILTINS`: a model that needs Flex ops (`SELECT_TF_OPS`)
converts, but LiteRT's pip interpreter (and most phone builds) cannot run
it, so the converter is left to fail, and the failure names the ops.

A recurrence over a sequence is a `while` loop whose outputs collect in a
tensor list; LiteRT's converter turns that list into plain tensors only
when its shape is static, so such a model is exported for a batch of
exactly 1 (`portable.py` calls it once per row). Every other model takes
any batch.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import tensorflow as tf

from toolkit import keras_private
from toolkit.errors import ExportRefusedError
from toolkit.export.numeric_core import NumericCore

# The int8 variant of each model file: weights quantized to int8 after training, activations kept in float.
QUANTIZED_SUFFIX = ".int8.tflite"


def batch_of(core: NumericCore) -> int | None:
    """The batch a LiteRT model of `core` takes: 1 for a loop over a sequence, any (`None`) otherwise."""
    return 1 if core.loops_over_time else None


def flatbuffer(core: NumericCore, quantize: bool = False) -> bytes:
    """`core` as a LiteRT model, with builtin ops only; `quantize` for int8 weights (dynamic-range quantization).

    Raises:
        ExportRefusedError: Naming the ops that are not LiteRT builtin ops, or what else the converter refused.
    """
    holder = tf.Module()
    holder.variables_read = core.variables  # tracked, so that the converter finds and freezes them
    converter = tf.lite.TFLiteConverter.from_concrete_functions([core.concrete_function(batch_of(core))], holder)
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    if quantize:
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    try:
        return converter.convert()
    except keras_private.CONVERTER_ERROR.resolve() as error:
        raise ExportRefusedError(f"litert: {core.part}: {_reason(str(error))}") from None


def _reason(message: str) -> str:
    flex = re.search(r"TF Select ops: ([^\n]+)", message)
    if flex:
        return (
            f"holds {flex.group(1).strip()}, which are not LiteRT builtin ops; it would need Flex ops "
            "(SELECT_TF_OPS), which LiteRT's pip interpreter cannot run."
        )
    if "Lowering tensor list ops is failed" in message:
        return (
            "a loop over a tensor list whose shape is not static; LiteRT's builtin ops cannot run it (it would "
            "need Flex ops, which LiteRT's pip interpreter cannot run)."
        )
    errors = re.findall(r"error: ([^\n]+)", message)
    return f"the LiteRT converter refused it: {errors[0] if errors else message.strip().splitlines()[-1]}"


def run(model: bytes | Path, inputs: dict[str, np.ndarray], batch: int | None) -> dict[str, np.ndarray]:
    """Runs a LiteRT model in LiteRT's own interpreter, one row at a time for a model of batch 1."""
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=str(model)) if isinstance(model, Path) else Interpreter(model_content=model)
    runner = interpreter.get_signature_runner()
    if batch is None:
        return {name: np.array(value) for name, value in runner(**inputs).items()}
    rows = len(next(iter(inputs.values())))
    answers = [runner(**{name: value[row : row + 1] for name, value in inputs.items()}) for row in range(rows)]
    return {name: np.concatenate([np.array(answer[name]) for answer in answers]) for name in answers[0]}


def convert(core: NumericCore, path: Path, quantize: bool = False) -> dict:
    """Writes `core` as a LiteRT model at `path` (and with `quantize`, its int8 variant beside it), each checked.

    The float model must give TensorFlow's outputs within 1e-4; the int8
    variant's largest difference is recorded, not limited (its accuracy is
    measured in `benchmarks/exports.py`).

    Raises:
        ExportRefusedError: As `flatbuffer` does, or if LiteRT computes an output otherwise than TensorFlow.
    """
    batch = batch_of(core)
    inputs = core.example(4)
    variants = {path: flatbuffer(core)}
    if quantize:
        variants[path.with_name(path.name.replace(".tflite", QUANTIZED_SUFFIX))] = flatbuffer(core, quantize=True)
    described = {"file": path.name, "inputs": core.describe_inputs(batch), "batch": batch}
    for target, model in variants.items():
        actual = run(model, inputs, batch)
        if target == path:
            described["outputs"] = sorted(actual)
            described["largest_difference"] = core.largest_difference("litert", "LiteRT", actual, inputs)
        else:
            described["int8_file"] = target.name
            # Recorded, not limited; but an output that is not a finite number is refused.
            described["int8_largest_difference"] = core.largest_difference(
                "litert", "LiteRT (int8)", actual, inputs, np.inf
            )
        target.write_bytes(model)
    return described
