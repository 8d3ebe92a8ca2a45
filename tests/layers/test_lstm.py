"""Our LSTM: numbers worked out by hand, the classic RNN as a special case, dropout, and a drop-in for `keras.layers.LSTM`."""

from __future__ import annotations

import inspect
import logging

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


# A value for each argument of `keras.layers.LSTM` that differs from its default where one is easy to give.
KERAS_ARGUMENT_VALUES = {
    "activation": "relu", "recurrent_activation": "hard_sigmoid", "use_bias": False,
    "kernel_initializer": "ones", "recurrent_initializer": "zeros", "bias_initializer": "ones",
    "unit_forget_bias": False, "kernel_regularizer": "l2", "recurrent_regularizer": "l1",
    "bias_regularizer": "l2", "activity_regularizer": "l1", "kernel_constraint": "non_neg",
    "recurrent_constraint": "non_neg", "bias_constraint": "non_neg", "dropout": 0.1, "recurrent_dropout": 0.2,
    "seed": 3, "return_sequences": True, "return_state": True, "go_backwards": True, "stateful": True,
    "unroll": True, "use_cudnn": False,
}


@pytest.mark.parametrize(
    "argument", [name for name in inspect.signature(keras.layers.LSTM.__init__).parameters if name not in ("self", "units", "kwargs")]
)
def test_every_argument_of_keras_lstm_is_taken_and_saved_as_keras_saves_it(argument):
    assert argument in KERAS_ARGUMENT_VALUES, f"keras.layers.LSTM has a new argument {argument!r}: give LSTM it too"
    value = KERAS_ARGUMENT_VALUES[argument]
    ours, theirs = LSTM(3, **{argument: value}), keras.layers.LSTM(3, **{argument: value})
    config = ours.get_config()
    assert config[argument] == theirs.get_config().get(argument, value)
    assert LSTM.from_config(config).get_config() == config


def test_implementation_is_accepted_and_recorded_as_keras_records_it():
    for implementation in (1, 2):
        ours, theirs = LSTM(3, implementation=implementation), keras.layers.LSTM(3, implementation=implementation)
        assert ours.cell.implementation == theirs.cell.implementation == implementation
        assert "implementation" not in ours.get_config() and "implementation" not in theirs.get_config()
    assert LSTMCell(3, implementation=1).implementation == 1


def test_eager_calls_on_new_shapes_and_new_layers_trace_without_warnings(caplog):
    with caplog.at_level(logging.WARNING, logger="tensorflow"):
        for batch, steps in [(1, 5), (2, 6), (3, 7), (4, 8), (5, 9), (6, 10), (7, 3)]:
            LSTM(4)(random_sequences(batch, steps, 3))
        layer = LSTM(4, return_sequences=True)
        for batch, steps in [(1, 5), (2, 6), (3, 7), (4, 8), (5, 9), (6, 10), (7, 3)]:
            layer(random_sequences(batch, steps, 3))
    assert "retracing" not in caplog.text
