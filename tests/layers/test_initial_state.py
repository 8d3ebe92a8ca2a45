"""Learned initial states train by backprop and survive save/load; projected ones follow their input."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from tests.helpers import random_sequences
from toolkit.layers import (
    LSTM,
    LearnedInitialState,
    ProjectedInitialState,
    SimpleRNNCell,
    rnn_state_sizes,
)

RECURRENT_LAYERS = {
    "our_lstm": lambda: LSTM(4),
    "keras_lstm": lambda: keras.layers.LSTM(4),
    "keras_gru": lambda: keras.layers.GRU(4),
    "our_simple_rnn": lambda: keras.layers.RNN(SimpleRNNCell(4)),
    "bidirectional_lstm": lambda: keras.layers.Bidirectional(LSTM(4)),
    "bidirectional_keras_lstm": lambda: keras.layers.Bidirectional(keras.layers.LSTM(4)),
}
EXPECTED_STATE_COUNT = {
    "our_lstm": 2,
    "keras_lstm": 2,
    "keras_gru": 1,
    "our_simple_rnn": 1,
    "bidirectional_lstm": 4,
    "bidirectional_keras_lstm": 4,
}


def regression_model(layer: keras.layers.Layer) -> keras.Model:
    inputs = keras.Input((5, 3))
    outputs = keras.layers.Dense(1)(LearnedInitialState(layer)(inputs))
    return keras.Model(inputs, outputs)


@pytest.mark.parametrize("name", sorted(RECURRENT_LAYERS))
def test_initial_states_get_gradients_and_change_during_fit(name):
    model = regression_model(RECURRENT_LAYERS[name]())
    wrapper = model.layers[1]
    assert len(wrapper.initial_states) == EXPECTED_STATE_COUNT[name]
    x = random_sequences(16, 5, 3)
    y = np.random.default_rng(1).standard_normal((16, 1)).astype("float32")

    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(tf.square(model(x) - y))
    gradients = tape.gradient(loss, wrapper.initial_states)
    assert all(g is not None and np.abs(g.numpy()).max() > 0 for g in gradients)

    before = [s.numpy().copy() for s in wrapper.initial_states]
    np.testing.assert_array_equal(np.concatenate(before), 0.0)
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss="mse")
    model.fit(x, y, epochs=3, verbose=0)
    for old, new in zip(before, wrapper.initial_states):
        assert np.abs(new.numpy() - old).max() > 1e-3


def test_learned_states_are_what_the_layer_starts_from():
    lstm = LSTM(3, return_state=True)
    wrapper = LearnedInitialState(lstm, initializer="random_normal")
    x = random_sequences(2, 4, 2)
    _, h, c = wrapper(x)
    h0, c0 = (np.tile(s.numpy(), (2, 1)) for s in wrapper.initial_states)
    _, h_direct, c_direct = lstm(x, initial_state=[h0, c0])
    np.testing.assert_allclose(h, h_direct, atol=1e-6)
    np.testing.assert_allclose(c, c_direct, atol=1e-6)


def test_learned_states_are_restored_exactly_after_save_and_load(tmp_path):
    model = regression_model(keras.layers.Bidirectional(LSTM(4)))
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss="mse")
    x = random_sequences(8, 5, 3)
    model.fit(x, np.ones((8, 1), "float32"), epochs=2, verbose=0)
    model.save(tmp_path / "model.keras")
    restored = keras.saving.load_model(tmp_path / "model.keras")
    for original, loaded in zip(model.layers[1].initial_states, restored.layers[1].initial_states):
        np.testing.assert_array_equal(loaded.numpy(), original.numpy())
    np.testing.assert_array_equal(restored.predict(x, verbose=0), model.predict(x, verbose=0))


def test_masks_pass_through_the_wrapper():
    tokens = np.array([[4, 2, 0, 0], [1, 2, 3, 5]])
    model = keras.Sequential(
        [
            keras.Input((None,), dtype="int32"),
            keras.layers.Embedding(6, 3, mask_zero=True),
            LearnedInitialState(LSTM(4), initializer="random_normal"),
        ]
    )
    np.testing.assert_allclose(model(tokens[:1, :2]), model(tokens)[:1], atol=1e-6)


def test_stateful_layer_is_rejected():
    with pytest.raises(ValueError, match="stateful"):
        LearnedInitialState(LSTM(4, stateful=True))


def test_non_recurrent_layer_is_rejected_with_its_type():
    with pytest.raises(TypeError, match="got Dense"):
        LearnedInitialState(keras.layers.Dense(4))


def test_state_sizes_of_layers():
    assert rnn_state_sizes(keras.layers.Bidirectional(LSTM(5))) == [5, 5, 5, 5]
    assert rnn_state_sizes(keras.layers.RNN([SimpleRNNCell(2), SimpleRNNCell(3)])) == [2, 3]


def test_projected_states_follow_the_features_and_start_the_decoder():
    features = keras.Input((6,))
    sequence = keras.Input((4, 2))
    states = ProjectedInitialState([5, 5])(features)
    outputs = LSTM(5)(sequence, initial_state=states)
    model = keras.Model([features, sequence], outputs)

    x = random_sequences(2, 4, 2)
    image_features = np.random.default_rng(0).standard_normal((2, 6)).astype("float32")
    first = model([image_features, x])
    second = model([image_features * 2.0, x])
    assert not np.allclose(first, second), "the states must depend on the features"

    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(model([image_features, x]))
    (projection,) = [layer for layer in model.layers if isinstance(layer, ProjectedInitialState)]
    projection_weights = projection.trainable_weights
    gradients = tape.gradient(loss, projection_weights)
    assert len(gradients) == 4 and all(np.abs(g.numpy()).max() > 0 for g in gradients)


def test_projected_state_sizes_are_validated():
    with pytest.raises(ValueError, match="state_sizes"):
        ProjectedInitialState([4, 0])
