"""The word-presence loss: a multi-label loss on which words a caption holds, added in training only, its input passed through."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from toolkit.layers import WordPresenceLoss


def test_word_presence_adds_the_mean_binary_cross_entropy_over_words_in_training_only():
    layer = WordPresenceLoss(vocabulary_size=5, weight=2.0, ignored_ids=(0, 1))
    features = np.random.default_rng(2).normal(size=(2, 3)).astype("float32")
    ids = np.array([[2, 3, 0], [4, 4, 1]])
    passthrough = np.ones((2, 3, 2), "float32")
    np.testing.assert_array_equal(layer([passthrough, features, ids], training=False), passthrough)
    assert not layer.losses
    layer([passthrough, features, ids], training=True)
    logits = features @ layer.presence.kernel.numpy() + layer.presence.bias.numpy()
    present = np.array([[0, 0, 1, 1, 0], [0, 0, 0, 0, 1]], "float32")
    cross_entropy = np.maximum(logits, 0) - logits * present + np.log1p(np.exp(-np.abs(logits)))
    expected = 2.0 * cross_entropy.mean(axis=0)[2:].mean()
    np.testing.assert_allclose(float(layer.losses[0]), expected, rtol=1e-5)


def test_with_zero_logits_each_word_costs_log_2_whatever_the_caption():
    layer = WordPresenceLoss(vocabulary_size=4, weight=0.5, ignored_ids=(0,))
    layer.build([(None, 2), (None, 3), (None, 2)])
    layer.presence.set_weights([np.zeros((3, 4), "float32"), np.zeros(4, "float32")])
    layer([np.ones((2, 2)), np.ones((2, 3), "float32"), np.array([[1, 2], [3, 0]])], training=True)
    np.testing.assert_allclose(float(layer.losses[0]), 0.5 * np.log(2), rtol=1e-6)


def test_a_weight_of_zero_adds_no_loss():
    layer = WordPresenceLoss(vocabulary_size=4, weight=0.0)
    layer([np.ones((2, 2)), np.ones((2, 3), "float32"), np.array([[1, 2], [3, 0]])], training=True)
    assert layer.losses == []


def test_bad_settings_are_refused_by_name():
    for size in (0, -3, 2.5):
        with pytest.raises(ValueError, match=rf"WordPresenceLoss: `vocabulary_size` must be a positive integer, got {size}"):
            WordPresenceLoss(vocabulary_size=size, weight=1.0)
    with pytest.raises(ValueError, match=r"WordPresenceLoss: `weight` must be at least 0, got -1"):
        WordPresenceLoss(vocabulary_size=4, weight=-1)


def test_in_a_model_the_loss_counts_in_training_steps_only_and_the_mask_passes_through(tmp_path):
    words = keras.Input((None,), dtype="int64")
    features = keras.Input((3,))
    embedded = keras.layers.Embedding(6, 2, mask_zero=True)(words)
    presence = WordPresenceLoss(6, weight=1.0, ignored_ids=(0,), name="word_presence")
    passed = presence([embedded, features, words])
    assert getattr(passed, "_keras_mask", None) is not None, "the embedding's mask goes on"
    model = keras.Model([words, features], keras.layers.GlobalAveragePooling1D()(passed))
    model.compile(optimizer=keras.optimizers.SGD(0.0), loss="mse")
    inputs = [np.array([[1, 2, 0], [3, 0, 0]]), np.ones((2, 3), "float32")]
    targets = np.zeros((2, 2), "float32")
    evaluated = model.test_on_batch(inputs, targets)
    trained = model.train_on_batch(inputs, targets)
    alone = WordPresenceLoss(6, weight=1.0, ignored_ids=(0,))
    alone.build([(None, None, 2), (None, 3), (None, None)])
    alone.presence.set_weights(presence.presence.get_weights())
    alone([np.zeros((2, 3, 2)), inputs[1], inputs[0]], training=True)
    assert trained - evaluated == pytest.approx(float(alone.losses[0]), rel=1e-5)
    model.save(tmp_path / "model.keras")
    restored = keras.saving.load_model(tmp_path / "model.keras").get_layer("word_presence")
    assert (restored.vocabulary_size, restored.weight, restored.ignored_ids) == (6, 1.0, (0,))
    np.testing.assert_array_equal(restored.presence.get_weights()[0], presence.presence.get_weights()[0])
