"""Serving limits: refused before any work, with the limit and its key named, in Python, the SavedModel and after a reload."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from toolkit import config as config_lib
from toolkit.errors import InputError
from toolkit.models.classifier import softmax_head
from toolkit.models.raw_inputs import as_image_batch
from toolkit.models.serving_limits import GenerationServingLimits, ImageServingLimits, ServingLimits, TextServingLimits
from toolkit.models.text_classifier import TextClassifier, TextClassifierConfig, build_text_backbone
from toolkit.models.text_generator import CharLanguageModel, CharLanguageModelConfig, TextGenerator, text_vectorizer
from toolkit.preprocessing.text import text_vectorizer as word_vectorizer


@pytest.fixture(scope="module")
def classifier():
    texts = np.array(["a good film", "a bad film"], dtype=object)
    preprocessor = word_vectorizer(texts, max_tokens=20, max_length=8)
    backbone = build_text_backbone(preprocessor.vocabulary_size(), TextClassifierConfig(embedding_dim=4))
    limits = {"max_batch": 3, "max_characters": 20}
    return TextClassifier(backbone, softmax_head(2), ["negative", "positive"], preprocessor, limits=limits)


@pytest.fixture(scope="module")
def generator():
    preprocessor = text_vectorizer("abc def ghi\n" * 20, 20)
    network = CharLanguageModel(preprocessor.vocabulary_size(), CharLanguageModelConfig(embedding_dim=2, units=4))
    limits = {"max_batch": 2, "max_characters": 10, "max_generate_length": 50}
    return TextGenerator(network, preprocessor, length=5, limits=limits)


def test_the_defaults_are_sensible_and_every_limit_can_be_turned_off():
    assert config_lib.to_dict(ServingLimits()) == {"max_batch": 1024}
    assert config_lib.to_dict(TextServingLimits())["max_characters"] == 100_000
    assert config_lib.to_dict(ImageServingLimits())["max_image_pixels"] == 40_000_000
    assert config_lib.to_dict(GenerationServingLimits()) == {
        "max_batch": 1024, "max_characters": 10_000, "max_generate_length": 10_000,
    }
    assert config_lib.from_dict(TextServingLimits, {"max_batch": None, "max_characters": None}).max_batch is None


def test_a_batch_over_max_batch_is_refused_with_the_key_named(classifier):
    assert classifier.serve(["good", "bad", "a film"])["label"].shape == (3,)
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"at most 3 inputs per call \(serving.max_batch\); got\W+4"):
        classifier.serve(["good", "bad", "a film", "film"])


def test_a_text_over_max_characters_is_refused_naming_its_row(classifier):
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"at most 20 characters per text \(serving.max_characters\); longer texts at rows\W+1"):
        classifier.serve(["good", "é" * 21])
    assert classifier.serve(["é" * 20])["label"].shape == (1,), "characters, not bytes, are counted"


def test_the_limits_travel_with_the_model_through_keras_and_the_saved_model(classifier, tmp_path):
    classifier.save(tmp_path / "model.keras")
    reloaded = keras.saving.load_model(tmp_path / "model.keras")
    assert reloaded.limits == {"max_batch": 3, "max_characters": 20}
    classifier.export_serving(tmp_path / "serving")
    serving = tf.saved_model.load(str(tmp_path / "serving")).signatures["serving_default"]
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"serving.max_batch"):
        serving(text=tf.constant(["a"] * 4))


def test_a_model_saved_without_limits_has_none(classifier, tmp_path):
    config = classifier.get_config()
    del config["limits"]
    assert TextClassifier.from_config(config).limits == {}


def test_a_huge_generation_is_refused_before_anything_is_generated(generator):
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"at most 50 characters per call \(serving.max_generate_length\)"):
        generator.generate(["abc"], length=10**9)
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"at most 10 characters per prompt \(serving.max_characters\)"):
        generator.generate(["abc def ghi jkl"], length=3)
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"serving.max_batch"):
        generator.generate(["a", "b", "c"], length=3)
    assert len(generator.generate(["abc"], length=50)[0]) == 50


def test_an_image_file_over_max_image_pixels_is_refused_from_its_header(tmp_path):
    Image.fromarray(np.zeros((40, 30), "uint8")).save(tmp_path / "big.png")
    with pytest.raises(InputError, match=r"big.png: 30x40 pixels, more than the 1000 .*serving.max_image_pixels"):
        as_image_batch([str(tmp_path / "big.png")], (28, 28), max_pixels=1000)
    assert as_image_batch([str(tmp_path / "big.png")], (28, 28), max_pixels=1200).shape == (1, 28, 28)
