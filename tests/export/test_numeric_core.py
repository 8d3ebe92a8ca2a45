"""A numeric core: traced with the LSTM's plain recurrence (no XLA, no choice of path), described, and checked."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from toolkit.errors import ExportRefusedError
from toolkit.export.forecaster_core import forecaster_core
from toolkit.export.numeric_core import NumericCore


def _ops_and_xla(graph_def) -> tuple[set[str], bool]:
    """Every op type of a graph and of the functions it calls, and whether any function is compiled with XLA."""
    nodes = list(graph_def.node) + [node for function in graph_def.library.function for node in function.node_def]
    compiled = any(
        function.attr["_XlaMustCompile"].b
        for function in graph_def.library.function
        if "_XlaMustCompile" in function.attr
    )
    return {node.op for node in nodes}, compiled


def test_the_traced_core_holds_the_plain_recurrence_alone(recorded_models):
    core = forecaster_core(recorded_models["stock"])
    ops, compiled = _ops_and_xla(core.concrete_function().graph.as_graph_def())
    assert "While" in ops or "StatelessWhile" in ops
    assert not ops & {"If", "StatelessIf"} and not compiled
    # Traced as a serving function is (a window of fixed length, any batch), the LSTM picks its path at run time.
    ops, compiled = _ops_and_xla(core.function().get_concrete_function().graph.as_graph_def())
    assert ops & {"If", "StatelessIf"} and compiled


def test_inputs_are_described_with_their_batch_as_spec_json_records_them(recorded_models):
    core = forecaster_core(recorded_models["stock"])
    assert core.describe_inputs() == {"windows": {"dtype": "float32", "shape": [None, 11, 5]}}
    assert core.describe_inputs(1) == {"windows": {"dtype": "float32", "shape": [1, 11, 5]}}


def _doubler() -> NumericCore:
    return NumericCore(
        "model",
        "a doubler",
        {"x": tf.TensorSpec([None], tf.float32)},
        lambda x: {"doubled": 2 * x, "count": tf.size(x)},
        [],
        lambda batch: {"x": np.ones(batch, "float32")},
    )


def test_the_largest_difference_is_relative_to_each_outputs_scale_and_counts_float_outputs_alone():
    core = _doubler()
    inputs = {"x": np.array([1.0, 100.0], "float32")}
    actual = {"doubled": np.array([2.0, 200.01], "float32"), "count": np.array(7)}
    assert core.largest_difference("onnx", "ONNX Runtime", actual, inputs, tolerance=1e-4) == pytest.approx(
        0.01 / 200, rel=1e-3
    )


def test_a_difference_above_the_tolerance_is_refused_naming_the_output_and_the_runtime():
    core = _doubler()
    with pytest.raises(ExportRefusedError) as refused:
        core.largest_difference(
            "litert", "LiteRT", {"doubled": np.array([2.5], "float32")}, {"x": np.ones(1, "float32")}
        )
    assert str(refused.value) == (
        "litert: a doubler converts, but LiteRT computes its output 'doubled' otherwise than TensorFlow (a difference "
        "of 0.25 of its scale, above 0.0001); the export would not answer as the SavedModel does."
    )
    with pytest.raises(ExportRefusedError, match="a difference of nan"):
        core.largest_difference(
            "litert",
            "LiteRT",
            {"doubled": np.array([np.nan], "float32")},
            {"x": np.ones(1, "float32")},
            tolerance=np.inf,
        )
