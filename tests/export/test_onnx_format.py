"""ONNX exports: every pipeline's model files run in ONNX Runtime, in a process without TensorFlow, and answer as
the SavedModel does; a graph tf2onnx cannot convert is refused, naming its ops."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from tests.export.conftest import assert_same_answers, portable_answers
from toolkit.errors import ExportRefusedError
from toolkit.export import onnx_format
from toolkit.export.numeric_core import NumericCore


@pytest.mark.slow
def test_every_pipeline_answers_as_its_saved_model_in_onnx_runtime_without_tensorflow(
    exported_runs, serving_cases, tmp_path
):
    answers, report = portable_answers(exported_runs, serving_cases, "onnx", tmp_path)
    assert report == {"forbidden": [], "runtimes": ["onnxruntime"]}
    for name, case in serving_cases.items():
        assert_same_answers(name, answers[name], case["expected"])


def _core(call, inputs: dict[str, tf.TensorSpec], example) -> NumericCore:
    return NumericCore("model", "a test graph", inputs, call, [], example)


def test_a_masked_maximum_over_infinities_converts_to_where_not_to_nan_arithmetic(tmp_path):
    """tf2onnx writes a select as `cond * x + (1 - cond) * y` unless told otherwise; with -inf filling the masked
    steps that gives NaN. The export writes ONNX's `Where`."""

    def call(values):
        filled = tf.where(values > 0, values, tf.fill(tf.shape(values), float("-inf")))
        return {"maximum": tf.reduce_max(filled, axis=-1)}

    values = np.array([[1.0, -2.0, 3.0], [-1.0, 5.0, -7.0]], "float32")
    core = _core(call, {"values": tf.TensorSpec([None, 3], tf.float32)}, lambda batch: {"values": values})
    described = onnx_format.convert(core, tmp_path / "model.onnx")
    assert described["largest_difference"] == 0.0

    import onnx

    assert "Where" in {node.op_type for node in onnx.load(str(tmp_path / "model.onnx")).graph.node}


def test_log1p_converts_as_the_log_of_one_plus(tmp_path):
    core = _core(
        lambda volume: {"log": tf.math.log1p(volume)},
        {"volume": tf.TensorSpec([None], tf.float32)},
        lambda batch: {"volume": np.array([0.0, 1.0, 1e6, 3e9], "float32")},
    )
    assert onnx_format.convert(core, tmp_path / "model.onnx")["largest_difference"] < 1e-6


def test_string_ops_are_refused_naming_each_op_and_nothing_is_written(tmp_path):
    core = _core(
        lambda text: {"length": tf.strings.length(tf.strings.regex_replace(text, "[ab]", "c"))},
        {"text": tf.TensorSpec([None], tf.string)},
        lambda batch: {"text": np.array(["ab"], object)},
    )
    with pytest.raises(ExportRefusedError) as refused:
        onnx_format.convert(core, tmp_path / "model.onnx")
    message = str(refused.value)
    assert message.startswith("onnx: a test graph holds ")
    assert "StaticRegexReplace" in message and "StringLength" in message and "cannot convert" in message
    assert not (tmp_path / "model.onnx").exists()


def test_a_model_that_answers_otherwise_than_tensorflow_is_refused_naming_the_output(tmp_path, monkeypatch):
    core = _core(
        lambda x: {"doubled": 2 * x},
        {"x": tf.TensorSpec([None], tf.float32)},
        lambda batch: {"x": np.arange(3, dtype="float32")},
    )
    monkeypatch.setattr(NumericCore, "expected", lambda self, inputs: {"doubled": 3 * inputs["x"]})
    with pytest.raises(
        ExportRefusedError, match="ONNX Runtime computes its output 'doubled' otherwise than TensorFlow"
    ):
        onnx_format.convert(core, tmp_path / "model.onnx")
