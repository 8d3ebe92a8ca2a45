"""The shared training loop: optimizer and clipping from config, callbacks, resuming."""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest
import tensorflow as tf

from toolkit.config import ConfigError, load_config
from toolkit.errors import TrainingDivergedError
from toolkit.training import (
    TrainerConfig,
    compile_model,
    fit,
    make_optimizer,
)


def test_optimizer_learning_rate_and_clipping_come_from_config():
    optimizer = make_optimizer(TrainerConfig(optimizer="sgd", learning_rate=0.5, clipnorm=2.0))
    assert isinstance(optimizer, keras.optimizers.SGD)
    assert float(optimizer.learning_rate) == pytest.approx(0.5)
    assert optimizer.clipnorm == 2.0
    optimizer = make_optimizer(TrainerConfig(clipnorm=None, clipvalue=0.1))
    assert optimizer.clipnorm is None and optimizer.clipvalue == 0.1


def test_both_clipping_kinds_at_once_is_a_config_error():
    with pytest.raises(ConfigError, match="set only one of clipnorm and clipvalue"):
        load_config(TrainerConfig, overrides=["clipvalue=0.5"])


def test_clipnorm_bounds_the_update_of_an_exploding_gradient():
    variable = keras.Variable(np.zeros(3, "float32"))
    optimizer = make_optimizer(TrainerConfig(optimizer="sgd", learning_rate=1.0, clipnorm=1.0))
    optimizer.apply_gradients([(tf.constant([3e6, 4e6, 0.0]), variable)])
    np.testing.assert_allclose(variable.numpy(), [-0.6, -0.8, 0.0], atol=1e-6)


def test_config_loss_and_metrics_win_over_the_pipeline_defaults():
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    compile_model(model, TrainerConfig(loss="mae", metrics=["mse"]), default_loss="mse", default_metrics=["mae"])
    assert model.loss == "mae"
    history = model.fit(np.ones((4, 2), "float32"), np.ones((4, 1), "float32"), epochs=1, verbose=0)
    assert "mse" in history.history and "mae" not in history.history


def test_fit_stops_on_nan_and_writes_its_logs(tmp_path):
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    compile_model(model, TrainerConfig(learning_rate=1e30, clipnorm=None, verbose=0), "mse", [])
    data = tf.data.Dataset.from_tensor_slices((np.ones((64, 2), "float32") * 1e20, np.ones((64, 1), "float32"))).batch(8)
    with pytest.raises(TrainingDivergedError, match="The training loss became inf in epoch 1, and no epoch gave weights"):
        fit(model, data, None, TrainerConfig(epochs=5, verbose=0, early_stopping_patience=None), tmp_path)
    history = json.loads((tmp_path / "history.json").read_text())
    assert len(history["loss"]) < 5, "TerminateOnNaN ends the run"
    assert (tmp_path / "training_log.csv").is_file() and (tmp_path / "logs").is_dir()


def test_cosine_schedule_decays_the_learning_rate_by_epoch(tmp_path):
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    config = TrainerConfig(learning_rate=0.1, learning_rate_schedule="cosine", epochs=4, verbose=0, early_stopping_patience=None)
    compile_model(model, config, "mse", [])
    data = tf.data.Dataset.from_tensor_slices((np.ones((8, 2), "float32"), np.ones((8, 1), "float32"))).batch(4)
    history = fit(model, data, None, config, tmp_path)
    np.testing.assert_allclose(history["learning_rate"], [0.1, 0.1 * (1 + np.cos(np.pi / 4)) / 2, 0.05, 0.1 * (1 + np.cos(3 * np.pi / 4)) / 2], rtol=1e-5)


def test_a_new_run_in_a_finished_runs_folder_starts_a_fresh_history(tmp_path):
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    config = TrainerConfig(epochs=2, verbose=0, early_stopping_patience=None)
    compile_model(model, config, "mse", [])
    data = tf.data.Dataset.from_tensor_slices((np.ones((8, 2), "float32"), np.ones((8, 1), "float32"))).batch(4)
    assert len(fit(model, data, None, config, tmp_path)["loss"]) == 2
    assert len(fit(model, data, None, config, tmp_path, epochs=3)["loss"]) == 3  # not 5: no resume, no leftovers
    assert len((tmp_path / "training_log.csv").read_text().strip().splitlines()) == 1 + 3
