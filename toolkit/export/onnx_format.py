"""Numeric cores to ONNX with tf2onnx, checked in ONNX Runtime against TensorFlow; tf2onnx is imported only here.

Two conversions of tf2onnx are replaced, each with the exact form:

- A select (`tf.where`) becomes `cond * x + (1 - cond) * y`, unless tf2onnx
  sees an infinity among constants. A masked maximum fills its masked steps
  with `-inf` at run time, and `0 * -inf` is NaN: every select becomes ONNX's
  `Where` instead.
- `Log1p` has no converter: it becomes `Log(1 + x)`.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from toolkit import keras_private
from toolkit.errors import ExportRefusedError
from toolkit.export.numeric_core import NumericCore

# Opset 17: ONNX Runtime 1.13 and later, and every ONNX runtime of 2023 and later, run it.
OPSET = 17
# Domains of ops that ONNX Runtime runs without extensions.
_STANDARD_DOMAINS = ("", "ai.onnx", "ai.onnx.ml")


def _exact_selects(graph, nodes):
    """Marks every select as one whose branches may hold infinities, so that tf2onnx writes it as `Where`."""
    for node in nodes:
        if node.type in ("Select", "SelectV2"):
            node.set_attr("handles_nan", True)
    return nodes


def _log1p(ctx, node, name, args):
    """`Log1p(x)` as `Log(Add(x, 1))`; for the volumes of price windows (1 and more) the two agree to float32's precision."""
    from tf2onnx import utils

    dtype = utils.map_onnx_to_numpy_type(ctx.get_dtype(node.input[0]))
    one = ctx.make_const(utils.make_name(f"{name}_one"), np.array(1, dtype))
    plus_one = ctx.make_node("Add", [node.input[0], one.output[0]])
    ctx.replace_inputs(node, [plus_one.output[0]])
    node.type = "Log"


def _frozen_graph(core: NumericCore):
    """The core's graph with its variables and captured tensors as constants, its input and output tensors' names,
    and the names they get in the ONNX model.

    tf2onnx's own `from_function` freezes the variables but keeps other
    captured tensors (a `Normalization` layer's fixed mean, say) as inputs
    of the ONNX model, which no caller could feed.
    """
    import tensorflow as tf

    concrete = core.concrete_function()
    frozen = keras_private.FROZEN_FUNCTION.resolve()(concrete, lower_control_flow=False, aggressive_inlining=True)
    # The outputs in the order of the flattened dict they were returned as: by name.
    output_names = tf.nest.flatten({name: name for name in concrete.structured_outputs})
    inputs, outputs = [tensor.name for tensor in frozen.inputs], [tensor.name for tensor in frozen.outputs]
    renamed = {**dict(zip(inputs, core.inputs)), **dict(zip(outputs, output_names))}
    return frozen.graph.as_graph_def(add_shapes=True), inputs, outputs, renamed


def _unconverted_ops(graph) -> list[str]:
    """The op types of nodes (in subgraphs too) that are not standard ONNX: TensorFlow ops tf2onnx left as they were."""
    import onnx

    found = []
    for node in graph.node:
        if node.domain not in _STANDARD_DOMAINS or not onnx.defs.has(node.op_type, node.domain):
            found.append(node.op_type)
        for attribute in node.attribute:
            for subgraph in [attribute.g] if attribute.HasField("g") else list(attribute.graphs):
                found += _unconverted_ops(subgraph)
    return found


def convert(core: NumericCore, path: Path) -> dict:
    """Writes `core` as an ONNX model at `path`, then checks it in ONNX Runtime; returns what was written.

    Raises:
        ExportRefusedError: Naming the ops of `core` that tf2onnx cannot
            convert, or the outputs that ONNX Runtime computes otherwise than
            TensorFlow; nothing is written to `path` then.
    """
    import onnx
    import tf2onnx

    logging.getLogger("tf2onnx").setLevel(logging.ERROR)
    graph, inputs, outputs, renamed = _frozen_graph(core)
    model, _ = tf2onnx.convert.from_graph_def(
        graph,
        name=core.name,
        input_names=inputs,
        output_names=outputs,
        tensors_to_rename=renamed,
        opset=OPSET,
        custom_op_handlers={"Log1p": (_log1p, [])},
        custom_rewriter=[_exact_selects],
    )
    unconverted = sorted(set(_unconverted_ops(model.graph)))
    if unconverted:
        raise ExportRefusedError(
            f"onnx: {core.part} holds {', '.join(unconverted)}, which tf2onnx {tf2onnx.__version__} cannot convert to "
            "standard ONNX ops; ONNX Runtime could not run the model."
        )
    model.doc_string = f"toolkit export: {core.part}"
    onnx.save(model, str(path))
    return {
        "file": path.name,
        "inputs": core.describe_inputs(),
        "outputs": [output.name for output in model.graph.output],
        "batch": None,
        "largest_difference": _check(core, path),
    }


def _check(core: NumericCore, path: Path, tolerance: float = 1e-4) -> float:
    """The largest difference between ONNX Runtime's float outputs and TensorFlow's on the core's example batch.

    Raises:
        ExportRefusedError: If one exceeds `tolerance` (relative to the output's size, at least 1).
    """
    import onnxruntime

    inputs = core.example(4)
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    names = [output.name for output in session.get_outputs()]
    actual = dict(zip(names, session.run(names, inputs)))
    return core.largest_difference("onnx", "ONNX Runtime", actual, inputs, tolerance)
