"""The LSTM's own recurrence: the hand-written backward pass against automatic differentiation, and when it runs."""

from __future__ import annotations

import itertools

import keras
import numpy as np
import pytest
import tensorflow as tf

from tests.helpers import random_sequences
from toolkit.layers import LSTM, lstm
from toolkit.layers.compiled_inference import SMALL_BATCH
from toolkit.layers.lstm_recurrence import lstm_recurrence, trainable_lstm_recurrence

BATCH, TIME, FEATURES, UNITS = 4, 7, 3, 5
OPTIONS = list(itertools.product([False, True], repeat=5))


def recurrence_arguments(masked: bool, use_bias: bool) -> list:
    rng = np.random.default_rng(0)
    mask = None
    if masked:
        mask = np.ones((BATCH, TIME), bool)
        mask[0, 5:] = False  # a padded tail
        mask[1, :2] = False  # a padded head
        mask[2, 3] = False  # a hole
        mask = tf.constant(mask)
    weights = [rng.normal(size=shape).astype("float32") * 0.5 for shape in ((FEATURES, 4 * UNITS), (UNITS, 4 * UNITS), (4 * UNITS,))]
    return [
        tf.constant(random_sequences(BATCH, TIME, FEATURES)),
        tf.constant(rng.normal(size=(BATCH, UNITS)).astype("float32")),  # h₀ and c₀ not zero, so their
        tf.constant(rng.normal(size=(BATCH, UNITS)).astype("float32")),  # gradients are tested too
        mask,
        *[tf.constant(w) for w in weights[: 3 if use_bias else 2]],
    ]


def values_and_gradients(recurrence, options, arguments, used_outputs=(0, 1, 2, 3)):
    """The recurrence's four results and the gradients of a loss on `used_outputs` of them."""
    differentiable = [a for a in arguments if a is not None and a.dtype == tf.float32]
    with tf.GradientTape() as tape:
        tape.watch(differentiable)
        results = recurrence(*options, *arguments)
        loss = sum(tf.reduce_sum(tf.sin(results[k] * (k + 1))) for k in used_outputs)
    return list(results), tape.gradient(loss, differentiable)


@pytest.mark.parametrize(
    "go_backwards, zero_output_for_mask, return_sequences, masked, use_bias",
    OPTIONS,
    ids=["-".join(name for name, on in zip(("backwards", "zero", "sequences", "mask", "bias"), o) if on) or "plain" for o in OPTIONS],
)
def test_hand_written_gradients_match_automatic_differentiation(
    go_backwards, zero_output_for_mask, return_sequences, masked, use_bias
):
    options = (go_backwards, zero_output_for_mask, return_sequences)
    arguments = recurrence_arguments(masked, use_bias)
    expected = values_and_gradients(
        lambda *args: lstm_recurrence(tf.tanh, tf.sigmoid, *args), options, arguments
    )
    actual = values_and_gradients(trainable_lstm_recurrence, options, arguments)
    actual, expected = (tf.nest.map_structure(np.asarray, both) for both in (actual, expected))
    for actual_values, expected_values in zip(actual, expected, strict=True):
        for a, e in zip(actual_values, expected_values, strict=True):
            np.testing.assert_allclose(a, e, atol=2e-5, rtol=1e-5)
    assert min(np.abs(g).max() for g in actual[1]) > 1e-3, "every gradient must be reached"


@pytest.mark.parametrize("in_function", [False, True], ids=["eager", "tf.function"])
def test_results_left_unused_get_no_gradient(in_function):
    options = (False, False, True)
    arguments = recurrence_arguments(masked=True, use_bias=True)

    def run(recurrence):
        return values_and_gradients(recurrence, options, arguments, used_outputs=(0,))

    if in_function:
        run = tf.function(run)
    expected = run(lambda *args: lstm_recurrence(tf.tanh, tf.sigmoid, *args))
    actual = run(trainable_lstm_recurrence)
    actual, expected = (tf.nest.map_structure(np.asarray, both) for both in (actual, expected))
    for a, e in zip(actual[1], expected[1], strict=True):
        np.testing.assert_allclose(a, e, atol=2e-5, rtol=1e-5)


@pytest.fixture
def hand_written_calls(monkeypatch):
    """How many times a layer's call trained through the hand-written backward pass."""
    calls = []
    original = lstm.trainable_lstm_recurrence

    def spy(*args):
        calls.append(args)
        return original(*args)

    monkeypatch.setattr(lstm, "trainable_lstm_recurrence", spy)
    return calls


@pytest.mark.parametrize(
    "options, expected_calls",
    [
        ({}, 1),
        ({"dropout": 0.5}, 1),
        ({"go_backwards": True, "return_sequences": True}, 1),
        ({"activation": "relu"}, 0),  # its derivative is not the one written out
        ({"recurrent_dropout": 0.5}, 0),
        ({"unroll": True}, 0),
    ],
    ids=["standard", "dropout", "backwards", "relu", "recurrent-dropout", "unroll"],
)
def test_training_takes_the_hand_written_backward_pass_only_for_the_standard_equations(
    options, expected_calls, hand_written_calls
):
    layer = LSTM(4, **options)
    inputs = random_sequences(2, 5, 3)
    layer(inputs, training=False)
    assert len(hand_written_calls) == 0
    layer(inputs, training=True)
    assert len(hand_written_calls) == expected_calls


def test_a_model_trains_the_same_compiled_with_xla():
    inputs = keras.Input((6, 3))
    models = []
    for jit_compile in (False, True):
        model = keras.Model(inputs, keras.layers.Dense(1)(LSTM(4)(inputs)))
        model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse", jit_compile=jit_compile)
        models.append(model)
    models[1].set_weights(models[0].get_weights())
    x, y = random_sequences(8, 6, 3), np.random.default_rng(1).normal(size=(8, 1)).astype("float32")
    for _ in range(3):
        losses = [float(model.train_on_batch(x, y)) for model in models]
        np.testing.assert_allclose(losses[1], losses[0], rtol=1e-4)
    for after_xla, after_graph in zip(models[1].get_weights(), models[0].get_weights(), strict=True):
        np.testing.assert_allclose(after_xla, after_graph, atol=1e-5)


def test_inference_beyond_the_compiled_path_runs_our_loop(monkeypatch):
    calls = []
    original = lstm.lstm_recurrence

    def spy(*args):
        calls.append(args)
        return original(*args)

    monkeypatch.setattr(lstm, "lstm_recurrence", spy)
    ours, theirs = LSTM(4), keras.layers.LSTM(4)
    inputs = random_sequences(SMALL_BATCH + 1, 5, 3)
    ours(inputs), theirs(inputs)
    theirs.set_weights(ours.get_weights())
    calls.clear()
    np.testing.assert_allclose(ours(inputs), theirs(inputs), atol=1e-5)
    assert len(calls) == 1  # a batch too large to compile
    variable_length = tf.function(ours, input_signature=[tf.TensorSpec([None, None, 3])])
    np.testing.assert_allclose(variable_length(tf.constant(inputs[:2])), theirs(inputs[:2]), atol=1e-5)
    assert len(calls) == 2  # a length unknown when traced
