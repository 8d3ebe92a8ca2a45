"""Word dropout: in training only, each word id becomes the unknown id at the rate, never the ids kept."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from toolkit.layers import WordDropout


def test_word_dropout_replaces_words_at_its_rate_in_training_only():
    ids = np.tile(np.array([[2, 5, 6, 7, 8, 9, 0, 0]]), (500, 1))
    layer = WordDropout(0.3, unknown_id=1, keep_ids=(0, 2), seed=3)
    np.testing.assert_array_equal(layer(ids, training=False), ids)
    dropped = layer(ids, training=True).numpy()
    np.testing.assert_array_equal(dropped[:, [0, 6, 7]], ids[:, [0, 6, 7]])  # <start> and padding kept
    words = dropped[:, 1:6]
    assert set(np.unique(words)) <= {1, 5, 6, 7, 8, 9}
    assert 0.27 < np.mean(words == 1) < 0.33
    with pytest.raises(ValueError, match=r"`rate` must be in \[0, 1\), got 1.0"):
        WordDropout(1.0, unknown_id=1)


def test_a_rate_of_zero_changes_nothing_and_a_negative_rate_is_refused():
    ids = np.arange(40).reshape(4, 10)
    np.testing.assert_array_equal(WordDropout(0.0, unknown_id=1)(ids, training=True), ids)
    with pytest.raises(ValueError, match=r"WordDropout: `rate` must be in \[0, 1\), got -0.1"):
        WordDropout(-0.1, unknown_id=1)


def test_by_default_only_padding_is_kept_and_the_ids_keep_their_dtype():
    ids = np.array([[0, 3, 3, 3, 0]] * 200, dtype="int32")
    dropped = WordDropout(0.999, unknown_id=7, seed=0)(ids, training=True).numpy()
    assert dropped.dtype == np.int32
    np.testing.assert_array_equal(dropped[:, [0, 4]], 0)
    assert np.mean(dropped[:, 1:4] == 7) > 0.99


def test_the_same_seed_drops_the_same_words_and_draws_anew_each_call():
    ids = np.full((50, 20), 5)
    first, second = (WordDropout(0.5, unknown_id=1, seed=11)(ids, training=True).numpy() for _ in range(2))
    np.testing.assert_array_equal(first, second)
    layer = WordDropout(0.5, unknown_id=1, seed=11)
    assert not np.array_equal(layer(ids, training=True), layer(ids, training=True))


def test_its_settings_are_saved_with_it():
    layer = WordDropout(0.25, unknown_id=1, keep_ids=(0, 2), seed=5, name="words")
    config = layer.get_config()
    assert {key: config[key] for key in ("rate", "unknown_id", "keep_ids", "seed")} == {
        "rate": 0.25, "unknown_id": 1, "keep_ids": [0, 2], "seed": 5,
    }
    restored = keras.layers.deserialize(keras.layers.serialize(layer))
    assert isinstance(restored, WordDropout) and restored.keep_ids == (0, 2) and restored.name == "words"
    assert restored.compute_output_shape((None, 9)) == (None, 9)
