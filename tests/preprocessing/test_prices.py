"""Price features inside the model: scale-free features worked out by hand, standardized on training windows, and saved."""

from __future__ import annotations

import math

import keras
import numpy as np
import pytest

from toolkit.preprocessing.prices import PRICE_FEATURES, PriceFeatures, price_features


def window(close, high, low, volume) -> np.ndarray:
    """One window `(days, 5)`: open (= close), high, low, close, volume."""
    close = np.asarray(close, "float32")
    return np.stack([close, np.asarray(high, "float32"), np.asarray(low, "float32"), close,
                     np.asarray(volume, "float32")], axis=-1)


WINDOW = window(close=[100, 110, 99], high=[101, 121, 108.9], low=[99, 100, 90], volume=[0, math.e - 1, 99])


def test_each_feature_is_its_formula_for_the_days_after_the_first():
    layer = PriceFeatures(list(PRICE_FEATURES))
    features = layer(WINDOW[None]).numpy()[0]  # before adapt: mean 0, variance 1
    assert features.shape == (2, 4)
    np.testing.assert_allclose(features[:, 0], [math.log(110 / 100), math.log(99 / 110)], rtol=1e-5)  # log_return
    np.testing.assert_allclose(features[:, 1], [math.log(121 / 100), math.log(108.9 / 90)], rtol=1e-5)  # log_range
    np.testing.assert_allclose(features[:, 2], [1.0, math.log(100) - 1.0], rtol=1e-5)  # log(1 + volume) change
    np.testing.assert_allclose(features[:, 3], [math.log(110 / 99), 0.0], atol=1e-6)  # relative to the last close


def test_features_do_not_depend_on_the_price_level():
    layer = PriceFeatures(list(PRICE_FEATURES))
    scaled = WINDOW.copy()
    scaled[:, :4] *= 1000
    np.testing.assert_allclose(layer(scaled[None]), layer(WINDOW[None]), atol=1e-5)


def test_adapt_standardizes_with_the_training_windows_statistics():
    rng = np.random.default_rng(0)
    close = 50 * np.exp(np.cumsum(rng.normal(0.001, 0.02, (64, 9)), axis=1))
    windows = window(close, close * 1.02, close * 0.97, rng.uniform(1e5, 2e5, (64, 9)))
    layer = price_features(windows, ["log_return", "log_range"])
    unscaled = layer.unscaled_features(windows).numpy().reshape(-1, 2)
    np.testing.assert_allclose(layer.mean.numpy(), unscaled.mean(axis=0), rtol=1e-4)
    np.testing.assert_allclose(layer.variance.numpy(), np.maximum(unscaled.var(axis=0), 1e-12), rtol=1e-3)
    standardized = layer(windows).numpy().reshape(-1, 2)
    np.testing.assert_allclose(standardized.mean(axis=0)[0], 0.0, atol=1e-4)
    np.testing.assert_allclose(standardized.std(axis=0)[0], 1.0, rtol=1e-3)
    assert layer.name == "preprocessor" and not layer.trainable_weights


def test_a_constant_feature_is_not_divided_by_zero():
    flat = np.stack([window([10, 10, 10], [11, 11, 11], [9, 9, 9], [5, 5, 5])] * 4)
    layer = price_features(flat, ["log_range", "log_volume_change"])
    assert np.isfinite(layer(flat).numpy()).all()
    assert layer.variance.numpy().tolist() == pytest.approx([1e-12, 1e-12])


def test_one_window_without_a_batch_axis_and_the_output_shape():
    layer = PriceFeatures(["log_return", "relative_close"])
    assert layer(WINDOW).shape == (2, 2)
    assert layer.compute_output_shape((None, 30, 5)) == (None, 29, 2)
    assert layer.compute_output_shape((None, None, 5)) == (None, None, 2)


def test_unknown_or_no_features_are_refused_with_the_choices():
    with pytest.raises(ValueError, match=r"unknown or no features \['price'\]; choose from log_return, log_range, "
                                         r"log_volume_change, relative_close\."):
        PriceFeatures(["log_return", "price"])
    with pytest.raises(ValueError, match=r"unknown or no features \[\]"):
        PriceFeatures([])


def test_the_statistics_are_saved_and_loaded_with_the_layer(tmp_path):
    windows = np.stack([WINDOW, WINDOW * [1, 1.1, 0.9, 1, 2]])
    layer = price_features(windows, ["log_range", "log_return"])
    raw = keras.Input((3, 5))
    keras.Model(raw, layer(raw)).save(tmp_path / "model.keras")
    restored = keras.saving.load_model(tmp_path / "model.keras")
    np.testing.assert_allclose(restored(windows), layer(windows), rtol=1e-6)
    assert restored.layers[-1].features == ["log_range", "log_return"]
