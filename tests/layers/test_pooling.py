"""MaxAndMeanPooling1D: pooling over real steps only, so padding changes nothing."""

from __future__ import annotations

import keras
import numpy as np

from toolkit.layers import LSTM, MaxAndMeanPooling1D


def test_a_sequence_pools_the_same_alone_and_padded_in_a_batch():
    keras.utils.set_random_seed(0)
    token_ids = keras.Input((None,), dtype="int64")
    x = keras.layers.Embedding(20, 4, mask_zero=True)(token_ids)
    x = keras.layers.Bidirectional(LSTM(3, return_sequences=True))(x)
    model = keras.Model(token_ids, MaxAndMeanPooling1D()(x))
    alone = model(np.array([[5, 6, 7]]))
    padded = model(np.array([[5, 6, 7, 0, 0, 0], [1, 2, 3, 4, 5, 6]]))
    np.testing.assert_allclose(padded[:1], alone, atol=1e-6)
    assert alone.shape == (1, 12)


def test_without_a_mask_every_step_counts_and_an_empty_sequence_gets_zeros():
    sequences = np.array([[[1.0, -1.0], [3.0, -5.0]]])
    np.testing.assert_allclose(MaxAndMeanPooling1D()(sequences), [[3.0, -1.0, 2.0, -3.0]])
    empty = MaxAndMeanPooling1D()(sequences, mask=np.array([[False, False]]))
    np.testing.assert_array_equal(empty, np.zeros((1, 4)))


def test_it_round_trips_through_keras_saving(tmp_path):
    model = keras.Sequential([keras.Input((None, 2)), keras.layers.Masking(), MaxAndMeanPooling1D()])
    model.save(tmp_path / "pooling.keras")
    reloaded = keras.saving.load_model(tmp_path / "pooling.keras")
    sequences = np.array([[[1.0, 2.0], [0.0, 0.0]]])
    np.testing.assert_allclose(reloaded(sequences), model(sequences))
