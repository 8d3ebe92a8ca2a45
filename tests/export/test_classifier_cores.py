"""Classifiers' numeric cores: from the preprocessor's ids (or uint8 images) to what the task model serves, in numbers."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from tests.fixtures.releases import LATEST
from toolkit.export.classifier_cores import image_classifier_core, text_classifier_core


def test_the_text_core_answers_the_preprocessors_ids_as_the_task_serves_the_texts(recorded_models):
    model = recorded_models["sentiment"]
    texts = np.load(LATEST / "sentiment" / "inputs.npy").tolist()
    core = text_classifier_core(model)
    assert list(core.inputs) == ["token_ids", "ngram_ids"] and core.loops_over_time
    ids = {name: value.numpy() for name, value in model.preprocessor(tf.constant(texts)).items()}
    outputs, served = core.expected(ids), model.serve(np.array(texts, dtype=object))
    np.testing.assert_allclose(outputs["probabilities"], served["probabilities"], atol=1e-6)
    np.testing.assert_allclose(outputs["probability"], served["probability"], atol=1e-6)
    assert [model.class_names[index] for index in outputs["class_id"]] == [v.decode() for v in served["label"].numpy()]
    # More padding, as a batch with a longer text gets, changes nothing: padding is masked.
    padded = core.expected({name: np.pad(value, [(0, 0), (0, 7)]) for name, value in ids.items()})
    np.testing.assert_allclose(padded["probabilities"], outputs["probabilities"], atol=1e-6)


def test_the_image_core_takes_uint8_images_as_the_task_serves_them(recorded_models):
    model = recorded_models["image_classification"]
    images = np.load(LATEST / "image_classification" / "inputs.npy")
    core = image_classifier_core(model)
    assert (
        core.describe_inputs() == {"images": {"dtype": "uint8", "shape": [None, 28, 28]}} and not core.loops_over_time
    )
    outputs = core.expected({"images": images})
    np.testing.assert_allclose(outputs["probabilities"], model.serve(images)["probabilities"], atol=1e-6)
    np.testing.assert_array_equal(outputs["class_id"], np.argmax(outputs["probabilities"], axis=-1))
