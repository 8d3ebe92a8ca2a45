"""Every toolkit layer survives get_config/from_config, .keras files and SavedModel export."""

from __future__ import annotations

import copy
import json

import keras
import numpy as np
import pytest

from toolkit.layers import (
    LSTM,
    LearnedInitialState,
    LSTMCell,
    ProjectedInitialState,
    SimpleRNNCell,
)

TOKENS = np.array([[3, 5, 2, 0, 0], [1, 2, 3, 4, 5], [7, 0, 0, 0, 0]], "int32")
FEATURES = np.random.default_rng(0).standard_normal((3, 6)).astype("float32")

LAYERS = {
    "LSTMCell": lambda: LSTMCell(4, dropout=0.1, recurrent_dropout=0.2, kernel_regularizer="l2", seed=1),
    "LSTM": lambda: LSTM(4, return_sequences=True, go_backwards=True, unit_forget_bias=False, use_cudnn=False),
    "SimpleRNNCell": lambda: SimpleRNNCell(4, activation="relu", use_bias=False, recurrent_constraint="non_neg"),
    "LearnedInitialState": lambda: LearnedInitialState(keras.layers.Bidirectional(LSTM(4)), initializer="ones"),
    "ProjectedInitialState": lambda: ProjectedInitialState([4, 4], activation="relu"),
}


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_get_config_round_trips(name):
    layer = LAYERS[name]()
    config = layer.get_config()
    json.dumps(keras.saving.serialize_keras_object(layer))  # the config is plain JSON
    rebuilt = type(layer).from_config(copy.deepcopy(config))
    assert rebuilt.get_config() == config


def test_lstm_config_has_the_constructor_shape_of_keras_lstm():
    ours = set(LSTM(3).get_config())
    reference = set(keras.layers.LSTM(3).get_config())
    assert ours == reference | {"use_cudnn"}, "Keras' own LSTM forgets to save use_cudnn; ours keeps it"


def build_model_with_every_layer() -> keras.Model:
    tokens = keras.Input((None,), dtype="int32", name="tokens")
    features = keras.Input((6,), name="features")
    x = keras.layers.Embedding(10, 5, mask_zero=True)(tokens)
    x = LearnedInitialState(keras.layers.Bidirectional(LSTM(4, return_sequences=True)), initializer="random_normal")(x)
    x = keras.layers.RNN(SimpleRNNCell(5), return_sequences=True)(x)
    x = LearnedInitialState(keras.layers.LSTM(4, return_sequences=True), initializer="random_normal")(x)
    states = ProjectedInitialState([3, 3])(features)
    x = keras.layers.RNN(LSTMCell(3))(x, initial_state=states)
    outputs = keras.layers.Dense(2, activation="softmax")(x)
    return keras.Model({"tokens": tokens, "features": features}, outputs)


@pytest.fixture(scope="module")
def model_and_predictions():
    keras.utils.set_random_seed(7)
    model = build_model_with_every_layer()
    inputs = {"tokens": TOKENS, "features": FEATURES}
    return model, inputs, model.predict(inputs, verbose=0)


def test_keras_file_round_trip_gives_equal_predictions(model_and_predictions, tmp_path):
    model, inputs, expected = model_and_predictions
    path = tmp_path / "model.keras"
    model.save(path)
    restored = keras.saving.load_model(path)
    np.testing.assert_array_equal(restored.predict(inputs, verbose=0), expected)
    for original, loaded in zip(model.weights, restored.weights):
        np.testing.assert_array_equal(original.numpy(), loaded.numpy())


def test_saved_model_export_serves_in_a_process_without_toolkit(model_and_predictions, tmp_path, run_without_toolkit):
    model, _, expected = model_and_predictions
    export_dir = tmp_path / "serving"
    model.export(str(export_dir), verbose=False)
    served = run_without_toolkit(
        f"""
        import json
        import numpy as np
        import tensorflow as tf
        serving = tf.saved_model.load({str(export_dir)!r})
        outputs = serving.serve({{"tokens": tf.constant({TOKENS.tolist()}, tf.int32),
                                  "features": tf.constant({FEATURES.tolist()}, tf.float32)}})
        print(json.dumps(np.asarray(outputs).tolist()))
        """
    )
    np.testing.assert_allclose(np.array(served), expected, atol=1e-6)
