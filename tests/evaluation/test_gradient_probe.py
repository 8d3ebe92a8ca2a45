"""The gradient probe measures ‖∂L/∂x_t‖ correctly and shows vanishing gradients."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from tests.helpers import random_sequences
from toolkit.evaluation.gradient_probe import (
    gradient_norms_per_timestep,
    plot_gradient_norms,
)
from toolkit.layers import LSTM, SimpleRNNCell


def test_norms_match_the_analytic_gradient_of_a_linear_model():
    timesteps, batch = 6, 4
    weights = np.arange(1, timesteps + 1, dtype="float32")
    model = keras.Sequential(
        [keras.Input((timesteps, 1)), keras.layers.Flatten(), keras.layers.Dense(1, use_bias=False)]
    )
    model.layers[-1].set_weights([weights[:, None]])
    x = random_sequences(batch, timesteps, 1)
    y = np.ones((batch, 1), "float32")

    norms = gradient_norms_per_timestep(model, x, y, loss="mse")

    residual = y[:, 0] - x[:, :, 0] @ weights  # L = mean((y - w·x)²), so ∂L/∂x_bt = -2 r_b w_t / B
    expected = np.abs(2.0 * weights / batch) * np.linalg.norm(residual)
    np.testing.assert_allclose(norms, expected, rtol=1e-5)


def test_vanilla_rnn_gradients_vanish_where_lstm_gradients_do_not():
    timesteps = 60
    x = random_sequences(16, timesteps, 2)
    y = np.ones((16, 1), "float32")
    small = keras.initializers.RandomNormal(stddev=0.1, seed=0)
    rnn = keras.Sequential(
        [keras.Input((timesteps, 2)), keras.layers.RNN(SimpleRNNCell(8, recurrent_initializer=small)), keras.layers.Dense(1)]
    )
    lstm = keras.Sequential([keras.Input((timesteps, 2)), LSTM(8, recurrent_initializer=small), keras.layers.Dense(1)])
    bias = lstm.layers[0].cell.bias
    bias.assign(np.concatenate([np.zeros(8), np.full(8, 5.0), np.zeros(16)]).astype("float32"))  # f ≈ 1

    rnn_norms = gradient_norms_per_timestep(rnn, x, y)
    lstm_norms = gradient_norms_per_timestep(lstm, x, y)

    assert rnn_norms.shape == lstm_norms.shape == (timesteps,)
    assert rnn_norms[0] < 1e-12 * rnn_norms[-1], "the vanilla RNN forgets the first step"
    assert lstm_norms[0] > 1e-2 * lstm_norms[-1], "the LSTM's cell state carries the gradient back"


def test_after_layer_probes_token_models_through_their_embedding():
    model = keras.Sequential(
        [keras.Input((5,), dtype="int32"), keras.layers.Embedding(9, 3, name="embedding"), LSTM(4), keras.layers.Dense(1)]
    )
    tokens = np.array([[1, 2, 3, 4, 5], [5, 4, 3, 2, 1]], "int32")
    norms = gradient_norms_per_timestep(model, tokens, np.zeros((2, 1), "float32"), after_layer="embedding")
    assert norms.shape == (5,) and np.all(norms > 0)
    with pytest.raises(ValueError, match="pass `after_layer`"):
        gradient_norms_per_timestep(model, tokens, np.zeros((2, 1), "float32"))


def test_plot_is_written_as_png(tmp_path):
    path = plot_gradient_norms({"a": np.array([1.0, 0.1, 0.0]), "b": np.ones(3)}, tmp_path / "plots" / "probe.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
