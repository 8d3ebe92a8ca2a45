"""Our LSTM cell against numbers worked out by hand, and the seeds' claims about it."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from tests.helpers import random_sequences
from toolkit.layers import LSTM, LSTMCell


def test_fixed_weights_give_hand_computed_outputs():
    # One unit, one input feature. Gate order [i, f, g, o]; the forget gate's bias is 1.
    layer = LSTM(1, return_sequences=True, return_state=True)
    layer.build((1, 2, 1))
    layer.set_weights(
        [
            np.array([[0.5, -0.5, 1.0, 0.25]], "float32"),
            np.array([[0.1, 0.2, -0.3, 0.4]], "float32"),
            np.array([0.0, 1.0, 0.0, 0.0], "float32"),
        ]
    )
    sequence, h, c = layer(np.array([[[1.0], [-2.0]]], "float32"))
    # Step 1: i = σ(0.5), f = σ(0.5), g = tanh(1), o = σ(0.25); c₁ = i·g; h₁ = o·tanh(c₁).
    # Step 2 feeds h₁ back through U.
    np.testing.assert_allclose(sequence[0, :, 0], [0.24818687, 0.06154083], atol=1e-6)
    np.testing.assert_allclose(h[0, 0], 0.06154083, atol=1e-6)
    np.testing.assert_allclose(c[0, 0], 0.15463647, atol=1e-6)


def test_unit_forget_bias_sets_forget_gate_bias_to_one():
    cell = LSTMCell(3)
    cell.build((None, 2))
    np.testing.assert_array_equal(cell.bias.numpy(), [0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0])
    cell = LSTMCell(3, unit_forget_bias=False, bias_initializer="ones")
    cell.build((None, 2))
    np.testing.assert_array_equal(cell.bias.numpy(), np.ones(12))


def test_traditional_rnn_is_the_special_case_with_gates_forced_open():
    """With i = o = 1 and f = 0, the LSTM step is h = tanh(tanh(W x + U h₋₁ + b))."""
    units, features = 4, 3
    cell = LSTMCell(units)
    cell.build((None, features))
    rng = np.random.default_rng(0)
    kernel = rng.standard_normal((features, 4 * units)).astype("float32")
    recurrent_kernel = rng.standard_normal((units, 4 * units)).astype("float32") * 0.5
    bias = np.zeros(4 * units, "float32")
    saturation = 1e4  # σ(±1e4) is exactly 1 or 0 in float32
    bias[:units] = saturation  # input gate
    bias[units : 2 * units] = -saturation  # forget gate
    bias[2 * units : 3 * units] = rng.standard_normal(units)  # candidate's own bias b
    bias[3 * units :] = saturation  # output gate
    cell.set_weights([kernel, recurrent_kernel, bias])

    sequence = random_sequences(2, 5, features)
    rnn = keras.layers.RNN(cell, return_sequences=True)
    actual = rnn(sequence).numpy()

    w_g = kernel[:, 2 * units : 3 * units]
    u_g = recurrent_kernel[:, 2 * units : 3 * units]
    b_g = bias[2 * units : 3 * units]
    h = np.zeros((2, units), "float32")
    expected = []
    for t in range(sequence.shape[1]):
        h = np.tanh(np.tanh(sequence[:, t] @ w_g + h @ u_g + b_g))
        expected.append(h)
    np.testing.assert_allclose(actual, np.stack(expected, axis=1), atol=1e-5)


def test_dropout_is_active_only_in_training_with_one_mask_per_sequence():
    layer = LSTM(8, dropout=0.5, recurrent_dropout=0.5, return_sequences=True, seed=3)
    inputs = np.ones((4, 6, 5), "float32")
    inference = layer(inputs, training=False)
    np.testing.assert_allclose(layer(inputs, training=False), inference)
    first_training = layer(inputs, training=True)
    assert not np.allclose(first_training, inference)
    assert not np.allclose(layer(inputs, training=True), first_training), "a new mask per batch"
    cell = layer.cell
    cell.reset_dropout_mask()
    step = np.ones((4, 5), "float32")
    assert cell.get_dropout_mask(step) is cell.get_dropout_mask(step), "one mask for every step"


@pytest.mark.parametrize("name, value", [("dropout", 1.5), ("recurrent_dropout", -0.1)])
def test_invalid_rates_name_the_argument(name, value):
    with pytest.raises(ValueError, match=f"`{name}` must be in \\[0, 1\\], got {value}"):
        LSTMCell(4, **{name: value})


def test_invalid_units_is_rejected_with_the_value():
    with pytest.raises(ValueError, match="`units` must be a positive integer, got 0"):
        LSTM(0)
