"""Our LSTM against Keras' built-in one with the same weights: outputs, states and gradients, in every configuration."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from tests.helpers import random_sequences
from toolkit.layers import LSTM, LSTMCell

TOLERANCE = 1e-5


def outputs_and_gradients(model: keras.Model, inputs: np.ndarray, training: bool = False):
    """Returns the model's outputs and the gradients of a fixed loss w.r.t. inputs and weights."""
    x = tf.constant(inputs)
    with tf.GradientTape() as tape:
        tape.watch(x)
        outputs = model(x, training=training)
        outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
        # A non-linear loss, different per output, so that no gradient is trivially uniform.
        loss = sum(tf.reduce_sum(tf.sin(o * (k + 1))) for k, o in enumerate(outputs))
    grads = tape.gradient(loss, [x] + model.trainable_weights)
    return [o.numpy() for o in outputs], [g.numpy() for g in grads]


def build_pair(make_recurrent, features: int, use_mask: bool):
    """Builds the same architecture twice: with Keras' layer and with ours."""
    models = []
    for implementation in ("keras", "ours"):
        inputs = keras.Input((None, features))
        x = keras.layers.Masking(mask_value=0.0)(inputs) if use_mask else inputs
        outputs = make_recurrent(implementation)(x)
        models.append(keras.Model(inputs, outputs))
    reference, ours = models
    assert [w.shape for w in reference.weights] == [w.shape for w in ours.weights]
    ours.set_weights(reference.get_weights())
    return reference, ours


def lstm(implementation: str, **kwargs):
    return keras.layers.LSTM(4, **kwargs) if implementation == "keras" else LSTM(4, **kwargs)


LSTM_CASES = {
    "last_output": lambda impl: lstm(impl),
    "return_sequences": lambda impl: lstm(impl, return_sequences=True),
    "return_state": lambda impl: lstm(impl, return_sequences=True, return_state=True),
    "go_backwards": lambda impl: lstm(impl, return_sequences=True, go_backwards=True, return_state=True),
    "no_bias_relu": lambda impl: lstm(impl, use_bias=False, activation="relu", return_sequences=True),
    "bidirectional": lambda impl: keras.layers.Bidirectional(lstm(impl, return_sequences=True)),
    "bidirectional_states": lambda impl: keras.layers.Bidirectional(lstm(impl, return_state=True)),
    "stacked": lambda impl: lambda x: lstm(impl)(lstm(impl, return_sequences=True)(x)),
    "rnn_over_cell": lambda impl: keras.layers.RNN(
        keras.layers.LSTMCell(4) if impl == "keras" else LSTMCell(4), return_sequences=True
    ),
}


@pytest.mark.parametrize("training", [False, True], ids=["inference", "training"])
@pytest.mark.parametrize("use_mask", [False, True], ids=["dense", "masked"])
@pytest.mark.parametrize("case", sorted(LSTM_CASES))
def test_lstm_matches_keras_outputs_states_and_gradients(case, use_mask, training):
    inputs = random_sequences(3, 7, 5)
    if use_mask:
        inputs[0, 5:] = 0.0  # a padded tail
        inputs[1, :2] = 0.0  # a padded head
    reference, ours = build_pair(LSTM_CASES[case], features=5, use_mask=use_mask)

    expected_outputs, expected_grads = outputs_and_gradients(reference, inputs, training)
    actual_outputs, actual_grads = outputs_and_gradients(ours, inputs, training)

    assert len(actual_outputs) == len(expected_outputs)
    for actual, expected in zip(actual_outputs, expected_outputs):
        np.testing.assert_allclose(actual, expected, atol=TOLERANCE, rtol=TOLERANCE)
    for actual, expected in zip(actual_grads, expected_grads):
        np.testing.assert_allclose(actual, expected, atol=TOLERANCE, rtol=TOLERANCE)
    assert max(np.abs(g).max() for g in actual_grads) > 1e-3, "gradients must not be trivially zero"


def test_lstm_with_embedding_mask_zero_matches_keras():
    tokens = np.array([[3, 5, 2, 0, 0], [1, 2, 3, 4, 5], [7, 0, 0, 0, 0]])
    models = []
    for layer in (keras.layers.LSTM(6), LSTM(6)):
        models.append(keras.Sequential([keras.Input((5,), dtype="int32"), keras.layers.Embedding(10, 4, mask_zero=True), layer]))
    models[1].set_weights(models[0].get_weights())
    np.testing.assert_allclose(models[1](tokens), models[0](tokens), atol=TOLERANCE)
    # Padding must not change the final output: the masked steps carry the state forward.
    np.testing.assert_allclose(models[1](tokens[:1, :3]), models[1](tokens)[:1], atol=TOLERANCE)


def test_stateful_lstm_carries_state_between_batches_like_keras():
    inputs = random_sequences(2, 6, 3)
    models = [
        keras.Sequential([keras.Input((3, 3), batch_size=2), layer])
        for layer in (keras.layers.LSTM(4, stateful=True), LSTM(4, stateful=True))
    ]
    models[1].set_weights(models[0].get_weights())
    second_halves = []
    for model in models:
        model(inputs[:, :3])
        second_halves.append(model(inputs[:, 3:]).numpy())
        model.layers[-1].reset_states()
        assert not np.allclose(model(inputs[:, 3:]), second_halves[-1]), "the state must carry over"
    np.testing.assert_allclose(second_halves[1], second_halves[0], atol=TOLERANCE)
