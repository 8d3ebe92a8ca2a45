"""One token at a time through a network's embedding, stacked cells and head: the same as the whole sequence at once."""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from toolkit.layers import LSTM, AttentionLSTMCell
from toolkit.models.token_step import TokenStep


def network(units: int = 5, vocabulary: int = 7):
    ids = keras.Input((None,), dtype="int64")
    embedding = keras.layers.Embedding(vocabulary, 3)
    lstms = [LSTM(units, return_sequences=True), LSTM(units, return_sequences=True)]
    head = keras.layers.Dense(vocabulary, activation="softmax")
    x = embedding(ids)
    for layer in lstms:
        x = layer(x)
    return keras.Model(ids, head(x)), embedding, lstms, head


def test_stepping_token_by_token_from_zero_states_gives_the_networks_outputs():
    model, embedding, lstms, head = network()
    tokens = np.array([[1, 4, 2, 6], [3, 3, 0, 5]])
    expected = model(tokens).numpy()
    step = TokenStep(embedding, lstms, head)
    states = step.zero_states(tf.constant(2))
    for t in range(tokens.shape[1]):
        outputs, states = step(tf.constant(tokens[:, t]), states)
        np.testing.assert_allclose(outputs.numpy(), expected[:, t], rtol=1e-5, atol=1e-6)


def test_states_are_flat_h_and_c_per_cell_bottom_first():
    _, embedding, lstms, head = network(units=5)
    step = TokenStep(embedding, lstms, head)
    assert step.state_sizes == [[5, 5], [5, 5]]
    states = step.zero_states(tf.constant(3))
    assert [tuple(state.shape) for state in states] == [(3, 5)] * 4 and not any(np.any(s) for s in states)
    named = [tf.fill([1, 1], float(value)) for value in range(4)]
    assert [[float(s[0, 0]) for s in cell] for cell in step.cell_states(named)] == [[0.0, 1.0], [2.0, 3.0]]


def test_an_attention_cell_carries_its_memory_and_keys_as_states_too():
    embedding = keras.layers.Embedding(7, 3)
    attention = keras.layers.RNN(AttentionLSTMCell(4, 6, 2, 5), return_sequences=True)
    upper = LSTM(4, return_sequences=True)
    head = keras.layers.Dense(7)
    embedding.build((None,))
    attention.cell.build((None, 3))
    upper.cell.build((None, 4 + 2))  # the attention cell's output is [h, context]
    head.build((None, 4))
    step = TokenStep(embedding, [attention, upper], head)
    assert step.state_sizes == [[4, 4, 12, 30], [4, 4]]
    states = step.zero_states(tf.constant(2))
    assert [len(cell) for cell in step.cell_states(states)] == [4, 2]
    outputs, new_states = step(tf.constant([1, 2]), states)
    assert outputs.shape == (2, 7) and [s.shape[-1] for s in new_states] == [4, 4, 12, 30, 4, 4]


def test_a_step_runs_inside_a_tf_function():
    _, embedding, lstms, head = network()
    step = TokenStep(embedding, lstms, head)
    run = tf.function(lambda tokens: step(tokens, step.zero_states(tf.shape(tokens)[0]))[0])
    np.testing.assert_allclose(run(tf.constant([1, 2, 3])).numpy().sum(axis=-1), 1.0, rtol=1e-5)
