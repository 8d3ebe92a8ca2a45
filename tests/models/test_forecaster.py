"""The price forecaster: a network whose outputs are in the targets' units, serving prices from the last close, checked windows."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from toolkit.baselines.linear import fit_linear_baseline
from toolkit.models.forecaster import ForecasterConfig, PriceForecaster, build_forecaster, flat_features
from toolkit.models.recurrent import RecurrentConfig
from toolkit.preprocessing.prices import price_features

WINDOW, HORIZON = 5, 2


def windows(count: int = 16, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    close = 50 * np.exp(np.cumsum(rng.normal(0, 0.02, (count, WINDOW)), axis=1))
    return np.stack([close, close * 1.01, close * 0.99, close, rng.uniform(1e5, 2e5, (count, WINDOW))], axis=-1).astype("float32")


TARGETS = np.random.default_rng(1).normal([0.01, -0.02], 0.005, (16, HORIZON)).astype("float32")


def forecaster(baseline: bool = False) -> PriceForecaster:
    preprocessor = price_features(windows(), ["log_return", "log_range"])
    config = ForecasterConfig(recurrent=RecurrentConfig(units=3, bidirectional=False), dropout=0.0)
    network = build_forecaster(2, TARGETS, config)
    linear = fit_linear_baseline(preprocessor, windows(), TARGETS, alpha=1.0) if baseline else None
    return PriceForecaster(network, preprocessor, WINDOW, linear_baseline=linear, limits={"max_batch": 64})


def test_the_network_predicts_standardized_targets_and_unscales_them():
    model = forecaster()
    assert [layer.name for layer in model.network.layers[1:]] == ["lstm_1", "dropout", "head", "unscale"]
    head = model.network.get_layer("head")
    head.set_weights([np.zeros_like(weight) for weight in head.get_weights()])
    features = model.preprocessor(windows())
    np.testing.assert_allclose(model.network(features), np.broadcast_to(TARGETS.mean(axis=0), (16, HORIZON)), rtol=1e-5)
    head.set_weights([head.get_weights()[0], np.ones(HORIZON, "float32")])  # one standard deviation up
    np.testing.assert_allclose(model.network(features)[0], TARGETS.mean(axis=0) + TARGETS.std(axis=0), rtol=1e-4)
    assert model.horizon == HORIZON and model.window == WINDOW and model.close_index == 3


def test_serving_gives_prices_as_the_last_close_times_the_exponent_of_each_log_change():
    model = forecaster()
    batch = windows(3, seed=2)
    outputs = model.serve(batch)
    np.testing.assert_allclose(outputs["log_changes"], model(batch), rtol=1e-6)
    np.testing.assert_allclose(outputs["prices"], batch[:, -1, 3:4] * np.exp(outputs["log_changes"].numpy()), rtol=1e-6)
    assert model.raw_input_spec().shape.as_list() == [None, WINDOW, 5] and model.raw_input_spec().name == "windows"


def test_windows_the_graph_cannot_forecast_from_are_refused_by_row():
    model = forecaster()
    batch = windows(3)
    bad_price = batch.copy()
    bad_price[2, 1, 0] = -1.0
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"windows: prices must be positive finite numbers .*windows at fault\W+2"):
        model.serve(bad_price)
    crossed = batch.copy()
    crossed[1, 0, 1] = crossed[1, 0, 2] / 2  # high below low
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"windows: .*high must be at least its low.*windows at fault\W+1"):
        model.serve(crossed)
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"expected float32 windows of shape \[batch, 5, 5\] \(5 days of "
                                                             r"open, high, low, close, volume\)"):
        model.serve(np.ones((1, 4, 5), "float32"))


def test_the_linear_baseline_forecasts_from_the_flattened_features():
    model = forecaster(baseline=True)
    batch = windows(4, seed=3)
    features = flat_features(model.preprocessor, batch)
    assert features.shape == (4, (WINDOW - 1) * 2)
    np.testing.assert_allclose(model.linear_baseline_log_changes(batch), model.linear_baseline(features), rtol=1e-6)
    with pytest.raises(ValueError, match="This forecaster was built without a linear baseline."):
        forecaster().linear_baseline_log_changes(batch)


def test_raw_features_in_another_order_are_refused():
    model = forecaster()
    with pytest.raises(ValueError, match=r"raw_features: expected \['open', 'high', 'low', 'close', 'volume'\], the columns "
                                         r"PriceFeatures reads; got \['close', 'open'"):
        PriceForecaster(model.network, model.preprocessor, WINDOW, raw_features=["close", "open", "high", "low", "volume"])


def test_it_is_saved_and_loaded_with_its_window_and_baseline(tmp_path):
    model = forecaster(baseline=True)
    model.save(tmp_path / "model.keras")
    loaded = keras.saving.load_model(tmp_path / "model.keras")
    batch = windows(2, seed=4)
    np.testing.assert_allclose(loaded.serve(batch)["prices"], model.serve(batch)["prices"], rtol=1e-6)
    np.testing.assert_allclose(loaded.linear_baseline_log_changes(batch), model.linear_baseline_log_changes(batch), rtol=1e-6)
    assert loaded.get_config()["window"] == WINDOW and loaded.limits == {"max_batch": 64}
