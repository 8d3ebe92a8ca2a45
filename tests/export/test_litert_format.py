"""LiteRT exports: builtin ops only; every pipeline's model files run in LiteRT's interpreter, in a process without
TensorFlow, and answer as the SavedModel does; a graph that would need Flex ops is refused, naming them."""

from __future__ import annotations

import json

import numpy as np
import pytest
import tensorflow as tf

from tests.export.conftest import QUANTIZED, assert_same_answers, portable_answers
from toolkit.errors import ExportRefusedError
from toolkit.export import litert_format
from toolkit.export.numeric_core import NumericCore


@pytest.mark.slow
def test_every_pipeline_answers_as_its_saved_model_in_litert_without_tensorflow(exported_runs, serving_cases, tmp_path):
    answers, report = portable_answers(exported_runs, serving_cases, "litert", tmp_path, int8=QUANTIZED)
    assert report == {"forbidden": [], "runtimes": ["ai_edge_litert"]}
    for name, case in serving_cases.items():
        assert_same_answers(name, answers[name], case["expected"])
    for name in QUANTIZED:  # the int8 variants run in LiteRT too, close to the float model
        quantized, expected = answers[f"{name}/int8"], serving_cases[name]["expected"]
        np.testing.assert_allclose(quantized["probabilities"], expected["probabilities"], atol=0.02, err_msg=name)


@pytest.mark.slow
def test_recurrent_models_take_a_batch_of_one_and_the_others_any_batch(exported_runs):
    batches = {
        name: {
            model: entry["batch"]
            for model, entry in json.loads((run / "litert" / "spec.json").read_text())["models"].items()
        }
        for name, run in exported_runs.items()
    }
    assert batches == {
        "sentiment": {"model": 1},
        "stock": {"model": 1},
        "image_classification": {"model": None},
        "captioning": {"encoder": None, "step": None},
        "text_generation": {"step": None},
    }
    for name in QUANTIZED:
        litert = exported_runs[name] / "litert"
        assert (litert / "model.int8.tflite").stat().st_size < (litert / "model.tflite").stat().st_size


def _core(call, inputs: dict[str, tf.TensorSpec], example, loops_over_time: bool = False) -> NumericCore:
    return NumericCore("model", "a test graph", inputs, call, [], example, loops_over_time)


def test_ops_that_would_need_flex_are_refused_naming_them_and_nothing_is_written(tmp_path):
    core = _core(
        lambda text: {"length": tf.strings.length(tf.strings.lower(text))},
        {"text": tf.TensorSpec([None], tf.string)},
        lambda batch: {"text": np.array(["Ab"], object)},
    )
    with pytest.raises(ExportRefusedError) as refused:
        litert_format.convert(core, tmp_path / "model.tflite")
    message = str(refused.value)
    assert message.startswith("litert: a test graph: holds ")
    assert "StringLength" in message and "StringLower" in message
    assert "not LiteRT builtin ops" in message and "Flex ops (SELECT_TF_OPS)" in message
    assert not list(tmp_path.iterdir())


def test_a_loop_over_a_tensor_list_of_any_batch_is_refused_as_needing_flex():
    def call(values):
        written = tf.TensorArray(tf.float32, size=tf.shape(values)[1], element_shape=values[:, 0].shape)
        _, written = tf.while_loop(
            lambda t, _: t < tf.shape(values)[1], lambda t, w: (t + 1, w.write(t, values[:, t])), (0, written)
        )
        return {"steps": tf.transpose(written.stack())}

    core = _core(call, {"values": tf.TensorSpec([None, None], tf.float32)}, lambda batch: {})
    with pytest.raises(
        ExportRefusedError, match="litert: a test graph: a loop over a tensor list whose shape is not static"
    ):
        litert_format.flatbuffer(core)
    # At a batch of one, as recurrent models are exported, the same loop converts to builtin ops.
    fixed = _core(call, core.inputs, lambda batch: {"values": np.arange(8, dtype="float32").reshape(2, 4)}, True)
    assert litert_format.batch_of(fixed) == 1
    assert litert_format.flatbuffer(fixed)
