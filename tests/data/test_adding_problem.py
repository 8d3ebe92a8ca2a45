"""The adding problem's data is what the task says, and our LSTM learns it."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from toolkit.data.adding_problem import CONSTANT_GUESS_MSE, adding_problem
from toolkit.layers import LSTM


def test_two_markers_one_per_half_and_target_is_their_sum():
    inputs, targets = adding_problem(500, 12, seed=3)
    values, markers = inputs[..., 0], inputs[..., 1]
    assert inputs.shape == (500, 12, 2) and targets.shape == (500, 1)
    np.testing.assert_array_equal(markers[:, :6].sum(axis=1), 1.0)
    np.testing.assert_array_equal(markers[:, 6:].sum(axis=1), 1.0)
    np.testing.assert_allclose(targets[:, 0], (values * markers).sum(axis=1), rtol=1e-6)
    np.testing.assert_allclose(np.mean((targets - 1.0) ** 2), CONSTANT_GUESS_MSE, atol=0.03)


def test_same_seed_same_data():
    np.testing.assert_array_equal(adding_problem(4, 6, seed=1)[0], adding_problem(4, 6, seed=1)[0])
    assert not np.array_equal(adding_problem(4, 6, seed=1)[0], adding_problem(4, 6, seed=2)[0])


def test_too_short_is_rejected():
    with pytest.raises(ValueError, match="`length` must be at least 2, got 1"):
        adding_problem(4, 1)


def test_lstm_learns_a_short_adding_problem():
    x, y = adding_problem(4000, 10, seed=1)
    x_test, y_test = adding_problem(500, 10, seed=2)
    model = keras.Sequential([keras.Input((10, 2)), LSTM(16), keras.layers.Dense(1)])
    model.compile(keras.optimizers.Adam(1e-2, clipnorm=1.0), loss="mse")
    model.fit(x, y, batch_size=64, epochs=6, verbose=0)
    assert model.evaluate(x_test, y_test, verbose=0) < 0.2 * CONSTANT_GUESS_MSE
