"""The character language model and the task that continues prompts, sampling in the graph; checked by hand where it can be."""

from __future__ import annotations

import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from toolkit.errors import InputTypeError
from toolkit.models import text_generator as generator_module
from toolkit.models.text_generator import (
    CharLanguageModel,
    CharLanguageModelConfig,
    TextGenerator,
    bits_per_character,
    text_vectorizer,
)

TEXT = "aabc abd abe\n" * 30 + "zz"  # a 120 times, b 90, the space 60


def generator(seed: int = 0) -> TextGenerator:
    preprocessor = text_vectorizer(TEXT, 20)
    network = CharLanguageModel(preprocessor.vocabulary_size(), CharLanguageModelConfig(embedding_dim=3, units=6))
    rng = np.random.default_rng(seed)  # wide weights: the next character depends on what came before
    network.set_weights([rng.normal(0, 1.5, weight.shape).astype("float32") for weight in network.get_weights()])
    return TextGenerator(network, preprocessor, length=4, temperature=0.7)


def test_the_vocabulary_is_padding_unknown_then_characters_by_frequency():
    vocabulary = text_vectorizer(TEXT, 20).get_vocabulary()
    assert vocabulary[:2] == ["", "[UNK]"]
    assert vocabulary[2:5] == ["a", "b", " "] and set(vocabulary[2:]) == set(TEXT)
    assert text_vectorizer(TEXT, 5).get_vocabulary() == ["", "[UNK]", "a", "b", " "]
    assert text_vectorizer(TEXT, 5).get_config()["vocabulary"] is not None, "the characters travel in the config"


def test_bits_per_character_of_uniform_logits_is_log2_of_the_vocabulary():
    logits = np.zeros((2, 3, 8), "float32")
    np.testing.assert_allclose(bits_per_character(np.ones((2, 3)), logits), np.full((2, 3), 3.0), rtol=1e-6)


def test_the_network_maps_ids_to_logits_and_an_older_config_is_upgraded():
    network = CharLanguageModel(9, {"embedding_dim": 2, "units": 5, "depth": 2})
    assert network(np.array([[2, 3, 4]])).shape == (1, 3, 9)
    assert [layer.name for layer in network.lstm_layers] == ["lstm_1", "lstm_2"]
    config = network.get_config()
    del config["architecture"]["dropout"]  # saved before the setting existed
    assert CharLanguageModel.from_config(config).architecture == network.architecture


def test_temperature_zero_continues_with_the_most_likely_character_each_step():
    model = generator()
    vocabulary = model.preprocessor.get_vocabulary()
    text = "ab"
    for _ in range(4):
        logits = model.network(model.character_ids("\n" + text)[None]).numpy()[0, -1]
        logits[:2] = -np.inf  # padding and unknown are never generated
        text += vocabulary[int(logits.argmax())]
    assert model.generate("ab", length=4, temperature=0.0) == [text[2:]]
    assert model.generate(["ab"], length=4, temperature=1.0, top_k=1) == [text[2:]], "top-1 is the most likely"


def test_sampling_is_repeatable_by_seed_and_draws_only_characters_of_the_vocabulary():
    model = generator()
    first = model.generate(["a", "", "abc ab"], length=30, seed=7)
    assert first == model.generate(["a", "", "abc ab"], length=30, seed=7)
    assert [len(text) for text in first] == [30, 30, 30]
    assert set("".join(first)) <= set(TEXT)
    assert model.generate(["a"], length=30, seed=8) != first[:1]
    assert model.generate([], length=5) == [] and model.generate("a", length=0) == [""]


def test_serve_uses_the_tasks_own_settings():
    model = generator()
    texts = model.serve(tf.constant(["a", "b"]))["text"].numpy()
    assert [len(text.decode()) for text in texts] == [4, 4]
    assert [t.decode() for t in texts] == model.generate(["a", "b"], length=4, temperature=0.7, seed=0)


def test_bad_settings_are_refused_before_anything_is_generated():
    model = generator()
    with pytest.raises(tf.errors.InvalidArgumentError, match="length: expected 0 or more characters"):
        model.generate("a", length=-1)
    with pytest.raises(tf.errors.InvalidArgumentError, match="temperature: expected 0 or more"):
        model.generate("a", temperature=-0.5)
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"top_k: expected 0 \(all\) or more"):
        model.generate("a", top_k=-1)
    with pytest.raises(tf.errors.InvalidArgumentError, match=rf"at most {generator_module.MAX_GENERATED} characters per call"):
        model.generate("a", length=generator_module.MAX_GENERATED + 1)
    with pytest.raises(InputTypeError, match=r"prompts: expected a string or a list of strings; got dict\."):
        model.generate({"prompt": "a"})
    with pytest.raises(InputTypeError, match=r"got list\."):
        model.generate(["a", 3])


def test_character_ids_of_a_long_text_are_read_in_pieces(monkeypatch):
    model = generator()
    monkeypatch.setattr(generator_module, "_PIECE", 7)
    ids = model.character_ids(TEXT)
    assert len(ids) == len(TEXT)
    vocabulary = model.preprocessor.get_vocabulary()
    assert "".join(vocabulary[i] for i in ids) == TEXT


def test_the_exported_signature_takes_the_sampling_settings(tmp_path):
    model = generator()
    serving = tf.saved_model.load(str(model.export_serving(tmp_path / "serving"))).signatures["serving_default"]
    outputs = serving(prompt=tf.constant(["ab"]), length=tf.constant(4), temperature=tf.constant(0.0),
                      top_k=tf.constant(0), seed=tf.constant(0))
    assert [text.decode() for text in outputs["text"].numpy()] == model.generate("ab", length=4, temperature=0.0)
    assert math.isclose(model.get_config()["temperature"], 0.7) and model.get_config()["length"] == 4


def test_it_is_saved_and_generates_the_same_after_loading(tmp_path):
    model = generator()
    model.save(tmp_path / "model.keras")
    loaded = keras.saving.load_model(tmp_path / "model.keras")
    assert loaded.generate(["ab", ""], length=10, seed=3) == model.generate(["ab", ""], length=10, seed=3)
