"""The adding problem's data is the 1997 coding, and our LSTM learns it."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from toolkit.data.adding_problem import CONSTANT_GUESS_MSE, adding_problem, correct
from toolkit.layers import LSTM


def test_the_1997_coding():
    inputs, mask, targets = adding_problem(2000, 40, seed=3)
    assert inputs.shape == (2000, 44, 2) and mask.shape == (2000, 44) and targets.shape == (2000, 1)
    lengths = mask.sum(axis=1)
    assert lengths.min() == 40 and lengths.max() == 44
    # Every sequence ends at the last step; the padding before it is all zeros.
    assert mask[:, -1].all() and not inputs[~mask].any()
    for row in range(200):
        values, markers = inputs[row, mask[row], 0], inputs[row, mask[row], 1]
        marked = np.flatnonzero(markers == 1.0)
        assert len(marked) == 2 and marked[0] < 10 and marked[1] < 40 // 2 - 1  # one in the first ten
        assert np.all(np.abs(values) <= 1.0)
        # The first and the last pair carry -1 unless marked; all others 0.
        ends = [index for index in (0, len(markers) - 1) if index not in marked]
        np.testing.assert_array_equal(markers[ends], -1.0)
        assert np.count_nonzero(markers) == 2 + len(ends)
        if marked[0] == 0:
            assert values[0] == 0.0  # a value marked at the very first pair is 0
        np.testing.assert_allclose(targets[row, 0], 0.5 + values[marked].sum() / 4, rtol=1e-6)
    np.testing.assert_allclose(np.mean((targets - 0.5) ** 2), CONSTANT_GUESS_MSE, rtol=0.1)


def test_same_seed_same_data_and_a_generator_continues():
    np.testing.assert_array_equal(adding_problem(4, 20, seed=1)[0], adding_problem(4, 20, seed=1)[0])
    assert not np.array_equal(adding_problem(4, 20, seed=1)[0], adding_problem(4, 20, seed=2)[0])
    stream = np.random.default_rng(5)
    assert not np.array_equal(adding_problem(4, 20, seed=stream)[0], adding_problem(4, 20, seed=stream)[0])


def test_too_short_is_rejected():
    with pytest.raises(ValueError, match="`length` must be at least 20, got 19"):
        adding_problem(4, 19)


def test_correct_is_an_absolute_error_below_0_04():
    np.testing.assert_array_equal(correct([[0.5], [0.5]], [[0.539], [0.541]]), [True, False])


def test_lstm_learns_a_short_adding_problem():
    x, _, y = adding_problem(6000, 20, seed=1)
    x_test, _, y_test = adding_problem(500, 20, seed=2)
    model = keras.Sequential([keras.Input((22, 2)), keras.layers.Masking(0.0), LSTM(16), keras.layers.Dense(1)])
    model.compile(keras.optimizers.Adam(1e-2, clipnorm=1.0), loss="mse")
    model.fit(x, y, batch_size=64, epochs=6, verbose=0)
    assert model.evaluate(x_test, y_test, verbose=0) < 0.2 * CONSTANT_GUESS_MSE
