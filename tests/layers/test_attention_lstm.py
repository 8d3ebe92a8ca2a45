"""The attention LSTM cell against its equations, in an RNN with a mask, saved and loaded, and in a tf.function."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from toolkit.layers import AttentionLSTMCell, LSTMCell

POSITIONS, FEATURES, KEYS, UNITS = 6, 5, 4, 7


def random_states(rng, batch=3):
    memory = rng.normal(size=(batch, POSITIONS * FEATURES)).astype("float32")
    keys = rng.normal(size=(batch, POSITIONS * KEYS)).astype("float32")
    h, c = (rng.normal(size=(batch, UNITS)).astype("float32") for _ in range(2))
    return [h, c, memory, keys]


def test_a_step_is_bahdanau_attention_then_an_lstm_step_on_the_word_and_the_context():
    rng = np.random.default_rng(0)
    cell = AttentionLSTMCell(UNITS, POSITIONS, FEATURES, KEYS)
    x = rng.normal(size=(3, 2)).astype("float32")
    h, c, memory, keys = random_states(rng)
    output, (new_h, new_c, same_memory, same_keys) = cell(x, [h, c, memory, keys])

    query = h @ cell.query.kernel.numpy()
    scores = np.tanh(keys.reshape(3, POSITIONS, KEYS) + query[:, None]) @ cell.score.kernel.numpy()[:, 0]
    weights = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
    context = np.einsum("bp,bpf->bf", weights, memory.reshape(3, POSITIONS, FEATURES))
    lstm = LSTMCell(UNITS)
    lstm.build((None, 2 + FEATURES))
    lstm.set_weights(cell.lstm_cell.get_weights())
    expected_h, (_, expected_c) = lstm(np.concatenate([x, context], axis=1), [h, c])

    np.testing.assert_allclose(output.numpy(), np.concatenate([expected_h, context], axis=1), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(new_c.numpy(), expected_c.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(same_memory, memory)
    np.testing.assert_array_equal(same_keys, keys)
    np.testing.assert_allclose(cell.attention_weights([h, c, memory, keys]).numpy(), weights, rtol=1e-5)


def test_in_an_rnn_with_a_mask_it_saves_and_loads(tmp_path):
    rng = np.random.default_rng(1)
    h, c, memory, keys = (keras.Input(state.shape[1:]) for state in random_states(rng))
    words = keras.Input((None,), dtype="int32")
    sequence = keras.layers.Embedding(10, 3, mask_zero=True)(words)
    cell = AttentionLSTMCell(UNITS, POSITIONS, FEATURES, KEYS)
    outputs = keras.layers.RNN(cell, return_sequences=True)(sequence, initial_state=[h, c, memory, keys])
    model = keras.Model([words, h, c, memory, keys], outputs)
    inputs = [np.array([[4, 5, 6, 0], [7, 0, 0, 0]])] + random_states(rng, batch=2)
    result = model(inputs).numpy()
    # Padding leaves the words before it as they are.
    unpadded = model([inputs[0][:1, :3]] + [state[:1] for state in inputs[1:]]).numpy()
    np.testing.assert_allclose(result[0, :3], unpadded[0], rtol=1e-5, atol=1e-6)
    model.save(tmp_path / "model.keras")
    np.testing.assert_allclose(keras.saving.load_model(tmp_path / "model.keras")(inputs).numpy(), result, rtol=1e-6)


def test_a_bad_size_is_refused_by_name():
    with pytest.raises(ValueError, match="`positions` must be a positive integer, got 0"):
        AttentionLSTMCell(4, 0, 3)


def test_the_cell_runs_in_a_tf_function():
    cell = AttentionLSTMCell(UNITS, POSITIONS, FEATURES, KEYS)
    states = random_states(np.random.default_rng(4))
    step = tf.function(lambda x, states: cell(x, states)[0])
    assert step(tf.zeros((3, 2)), states).shape == (3, UNITS + FEATURES)
