"""The LSTM's compiled inference path for small batches: same outputs and gradients as keras.layers.LSTM, in every mode."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from toolkit.layers import LSTM, compiled_inference
from toolkit.layers.compiled_inference import SMALL_BATCH


@pytest.fixture
def compiled_calls(monkeypatch):
    """The layers whose call ran the compiled path, in order."""
    calls = []
    original = compiled_inference._compiled

    def spy(layer, *args):
        calls.append(layer)
        return original(layer, *args)

    monkeypatch.setattr(compiled_inference, "_compiled", spy)
    return calls


def twin_layers(**options):
    """Our LSTM and Keras' with the same weights."""
    inputs = np.random.default_rng(0).normal(size=(2, 12, 5)).astype("float32")
    ours, theirs = LSTM(6, **options), keras.layers.LSTM(6, **options)
    ours(inputs), theirs(inputs)
    theirs.set_weights(ours.get_weights())
    return ours, theirs


@pytest.mark.parametrize(
    "options",
    [{}, {"return_sequences": True}, {"go_backwards": True, "return_sequences": True}, {"return_state": True}],
    ids=["last", "sequences", "backwards", "state"],
)
@pytest.mark.parametrize("batch", [1, SMALL_BATCH, SMALL_BATCH + 1])
def test_small_and_large_batches_match_keras(options, batch, compiled_calls):
    ours, theirs = twin_layers(**options)
    inputs = np.random.default_rng(1).normal(size=(batch, 12, 5)).astype("float32")
    compiled_calls.clear()
    for actual, expected in zip(tf.nest.flatten(ours(inputs)), tf.nest.flatten(theirs(inputs)), strict=True):
        np.testing.assert_allclose(actual, expected, atol=1e-5)
    assert compiled_calls == ([ours] if batch <= SMALL_BATCH else [])


def test_masks_match_keras_under_bidirectional():
    inputs = keras.Input((10,), dtype="int32")
    embedded = keras.layers.Embedding(50, 4, mask_zero=True)
    ours = keras.Model(inputs, keras.layers.Bidirectional(LSTM(3, return_sequences=True))(embedded(inputs)))
    theirs = keras.Model(inputs, keras.layers.Bidirectional(keras.layers.LSTM(3, return_sequences=True))(embedded(inputs)))
    theirs.set_weights(ours.get_weights())
    tokens = np.array([[5, 6, 7, 0, 0, 0, 0, 0, 0, 0], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]], dtype="int32")
    np.testing.assert_allclose(ours(tokens), theirs(tokens), atol=1e-5)
    np.testing.assert_allclose(ours(tokens)[0, 3:], 0.0)  # masked steps output zeros under Bidirectional


@pytest.mark.parametrize("in_function", [False, True], ids=["eager", "tf.function"])
def test_gradients_in_inference_mode_match_keras(in_function):
    ours, theirs = twin_layers(return_sequences=True)
    inputs = tf.constant(np.random.default_rng(2).normal(size=(2, 12, 5)).astype("float32"))

    def gradients(layer):
        with tf.GradientTape() as tape:
            tape.watch(inputs)
            loss = tf.reduce_sum(layer(inputs, training=False) ** 2)
        return tape.gradient(loss, [inputs, *layer.trainable_weights])

    run = tf.function(gradients) if in_function else gradients
    for actual, expected in zip(run(ours), run(theirs), strict=True):
        np.testing.assert_allclose(actual, expected, atol=1e-5)


def test_variable_length_and_training_run_uncompiled(compiled_calls):
    layer = LSTM(4)
    layer.build((None, None, 3))
    layer(np.zeros((2, 7, 3), "float32"), training=True)
    assert compiled_calls == []
    tf.function(lambda x: layer(x), input_signature=[tf.TensorSpec([None, None, 3])])(tf.zeros((1, 7, 3)))
    assert compiled_calls == []  # a length unknown when traced would compile once per length
    layer(np.zeros((2, 7, 3), "float32"))
    assert compiled_calls == [layer]


def test_an_export_serves_small_and_large_batches(tmp_path):
    inputs = keras.Input((9, 3))
    model = keras.Model(inputs, LSTM(5, return_sequences=True)(inputs))
    model.export(str(tmp_path / "served"), verbose=False)
    loaded = tf.saved_model.load(str(tmp_path / "served"))
    for batch in (1, 40):
        x = np.random.default_rng(batch).normal(size=(batch, 9, 3)).astype("float32")
        np.testing.assert_allclose(loaded.serve(tf.constant(x)), model(x), atol=1e-5)


def test_only_training_asks_for_the_cudnn_kernel(monkeypatch):
    from toolkit.layers import lstm

    requests = []

    def fused_kernel_unavailable(*args, **kwargs):  # as the backend answers on a CPU
        requests.append(kwargs.get("return_sequences"))
        raise NotImplementedError

    monkeypatch.setattr(lstm, "fused_lstm", fused_kernel_unavailable)
    layer = LSTM(3)
    inputs = np.zeros((2, 5, 4), "float32")
    layer(inputs, training=False)
    assert requests == []  # an export traced on a GPU then holds no GPU-only op
    layer(inputs, training=True)
    assert requests == [False]
    with pytest.raises(ValueError, match="use_cudnn=True, but cuDNN cannot run this configuration"):
        LSTM(3, use_cudnn=True)(inputs, training=False)


def test_within_uncompiled_inference_small_batches_run_the_plain_recurrence_in_this_thread_alone(compiled_calls):
    import threading

    ours, theirs = twin_layers(return_sequences=True)
    inputs = np.random.default_rng(2).normal(size=(2, 12, 5)).astype("float32")
    compiled_calls.clear()
    other_thread = []
    with compiled_inference.uncompiled_inference():
        np.testing.assert_allclose(ours(inputs), theirs(inputs), atol=1e-5)
        assert compiled_calls == []
        thread = threading.Thread(target=lambda: other_thread.append(ours(inputs)))
        thread.start()
        thread.join()
    assert compiled_calls == [ours]  # the other thread, outside the context, compiled as usual
    ours(inputs)
    assert compiled_calls == [ours, ours]  # and so does this thread once it has left
