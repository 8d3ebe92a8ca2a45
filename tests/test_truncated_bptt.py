"""Truncated BPTT: the same update as full BPTT for one chunk, no gradient across chunks, the state carried exactly."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from toolkit import truncated_bptt
from toolkit.config import ConfigError
from toolkit.layers import LSTM, SimpleRNNCell
from toolkit.layers import lstm as lstm_module
from toolkit.layers.lstm_recurrence import trainable_lstm_recurrence
from toolkit.training import TrainerConfig, fit

BATCH, LENGTH, FEATURES = 4, 12, 3

RECURRENT = {
    # Our LSTM trains through its hand-written backward pass; the vanilla cell through Keras' loop.
    "lstm": lambda: LSTM(6, return_sequences=True, seed=1, use_cudnn=False),
    "vanilla": lambda: keras.layers.RNN(SimpleRNNCell(6), return_sequences=True),
}


def sequence_model(kind: str) -> keras.Model:
    keras.utils.set_random_seed(3)
    return keras.Sequential([keras.Input((None, FEATURES)), RECURRENT[kind](), keras.layers.Dense(2)])


def sequences(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.normal(size=(BATCH, LENGTH, FEATURES)).astype("float32"), rng.normal(size=(BATCH, LENGTH, 2)).astype("float32")


def fitted(kind: str, chunk_length: int | None, tmp_path) -> keras.Model:
    """The model after one epoch of SGD on one batch, fitted by `training.fit`."""
    model = sequence_model(kind)
    model.compile(keras.optimizers.SGD(0.1), loss="mse")
    data = tf.data.Dataset.from_tensor_slices(sequences()).batch(BATCH, drop_remainder=True)
    config = TrainerConfig(epochs=1, clipnorm=None, early_stopping_patience=None, truncated_bptt=chunk_length, verbose=0)
    fit(model, data, None, config, tmp_path / f"{kind}-{chunk_length}")
    return model


def fitted_weights(kind: str, chunk_length: int | None, tmp_path) -> list[np.ndarray]:
    return [weight.numpy() for weight in fitted(kind, chunk_length, tmp_path).weights]


@pytest.mark.parametrize("kind", RECURRENT)
def test_one_chunk_of_the_whole_length_is_full_bptt(kind, tmp_path):
    # One SGD update on one batch: the gradients of both fits are equal if their weights are.
    for chunked, full in zip(fitted_weights(kind, LENGTH, tmp_path), fitted_weights(kind, None, tmp_path)):
        np.testing.assert_allclose(chunked, full, rtol=1e-5, atol=1e-6)


def test_fit_in_chunks_is_one_update_per_chunk_from_the_carried_state(tmp_path):
    chunk_length = 4
    by_fit = fitted("lstm", chunk_length, tmp_path)
    assert int(by_fit.optimizer.iterations) == LENGTH // chunk_length
    # The same updates by hand: each chunk from the state the previous one ended in, no gradient across.
    model, (inputs, targets) = sequence_model("lstm"), sequences()
    optimizer = keras.optimizers.SGD(0.1)
    with truncated_bptt.carrying_state(model, BATCH):
        for start in range(0, LENGTH, chunk_length):
            chunk = slice(start, start + chunk_length)
            with tf.GradientTape() as tape:
                loss = keras.losses.mean_squared_error(targets[:, chunk], model(inputs[:, chunk], training=True))
                loss = tf.reduce_mean(loss)
            optimizer.apply_gradients(zip(tape.gradient(loss, model.trainable_weights), model.trainable_weights))
    for expected, actual in zip(model.weights, by_fit.weights):
        np.testing.assert_allclose(actual.numpy(), expected.numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("kind", RECURRENT)
def test_no_gradient_reaches_inputs_more_than_k_steps_before_the_loss(kind, monkeypatch):
    handwritten_calls = []
    monkeypatch.setattr(
        lstm_module, "trainable_lstm_recurrence",
        lambda *args: handwritten_calls.append(1) or trainable_lstm_recurrence(*args),
    )
    model, (inputs, _) = sequence_model(kind), sequences()
    inputs = tf.constant(inputs)
    chunk_length = 4
    with truncated_bptt.carrying_state(model, BATCH), tf.GradientTape() as tape:
        tape.watch(inputs)
        for start in range(0, LENGTH, chunk_length):
            outputs = model(inputs[:, start : start + chunk_length], training=True)
        loss = tf.reduce_sum(outputs[:, -1])
    gradient = tape.gradient(loss, inputs, unconnected_gradients=tf.UnconnectedGradients.ZERO).numpy()
    norms = np.linalg.norm(gradient, axis=(0, 2))
    assert np.all(norms[: LENGTH - chunk_length] == 0.0)
    assert np.all(norms[LENGTH - chunk_length :] > 0.0)
    # Our LSTM took its hand-written backward pass, once per chunk.
    assert len(handwritten_calls) == (LENGTH // chunk_length if kind == "lstm" else 0)


@pytest.mark.parametrize("kind", RECURRENT)
def test_the_carried_state_is_that_of_one_uninterrupted_pass(kind):
    model, (inputs, _) = sequence_model(kind), sequences()
    whole = model(inputs).numpy()
    with truncated_bptt.carrying_state(model, BATCH) as layers:
        chunks = [model(inputs[:, start : start + 5]).numpy() for start in (0, 5, 10)]
        carried_h = layers[0].states[0].numpy()
    np.testing.assert_allclose(np.concatenate(chunks, axis=1), whole, rtol=1e-5, atol=1e-6)
    recurrent = keras.Model(model.inputs[0], model.layers[0].output)
    np.testing.assert_allclose(carried_h, recurrent(inputs).numpy()[:, -1], rtol=1e-5, atol=1e-6)
    # Afterwards the layer is as it was: each call starts from zeros again.
    np.testing.assert_allclose(model(inputs).numpy(), whole, rtol=1e-6)


def test_the_state_is_reset_when_a_batch_of_new_sequences_begins():
    model, (inputs, _) = sequence_model("lstm"), sequences()
    with truncated_bptt.carrying_state(model, BATCH) as layers:
        reset = truncated_bptt.ResetStateAtSequenceStart(layers, chunks=3)
        model(inputs[:, :4])
        reset.on_train_batch_begin(1)
        assert np.any(layers[0].states[0].numpy() != 0)
        reset.on_train_batch_begin(3)
        assert not np.any(layers[0].states[0].numpy())


def test_batches_are_cut_into_chunks_in_order_and_the_remainder_left_out():
    steps = np.arange(2 * 10).reshape(2, 10)
    data = tf.data.Dataset.from_tensors((steps, steps * 10))
    chunks = list(truncated_bptt.in_chunks(data, 3).as_numpy_iterator())
    assert len(chunks) == 3
    np.testing.assert_array_equal(chunks[1][0], steps[:, 3:6])
    np.testing.assert_array_equal(chunks[2][1], steps[:, 6:9] * 10)


def test_refuses_one_target_per_sequence():
    data = tf.data.Dataset.from_tensors((np.zeros((4, 10, 3), "float32"), np.zeros((4, 1), "float32")))
    with pytest.raises(ConfigError, match=r"needs a target at every step .* targets have the shape \(4, 1\)"):
        truncated_bptt.chunks_per_sequence(data, 5)


def test_refuses_a_bidirectional_layer():
    model = keras.Sequential([keras.Input((None, 3)), keras.layers.Bidirectional(LSTM(4, return_sequences=True))])
    with pytest.raises(ConfigError, match="layer 'bidirectional.*' \\(Bidirectional\\) cannot carry its state"):
        truncated_bptt.recurrent_layers(model)


def test_refuses_validation_batches_of_another_size():
    validation = tf.data.Dataset.from_tensors((np.zeros((2, 10, 3), "float32"), np.zeros((2, 10, 2), "float32")))
    with pytest.raises(ConfigError, match="validation batches hold 2 sequences, training batches 4"):
        truncated_bptt.validation_chunks(validation, 5, batch_size=4)


def test_refuses_a_distribution_strategy():
    with pytest.raises(ConfigError, match="set trainer.distribution to none \\(it is mirrored\\)"):
        TrainerConfig(truncated_bptt=10, distribution="mirrored")
