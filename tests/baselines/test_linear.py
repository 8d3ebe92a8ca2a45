"""The linear baseline: a Ridge fit on the preprocessed features, held as a fixed Dense layer that predicts as Ridge does."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from sklearn.linear_model import Ridge

from toolkit.baselines.linear import fit_linear_baseline
from toolkit.models.forecaster import flat_features
from toolkit.preprocessing.prices import price_features


def test_an_exactly_linear_target_is_recovered_in_a_fixed_dense_layer():
    inputs = np.random.default_rng(0).normal(size=(50, 3, 2)).astype("float32")  # flattened: 6 features
    weights = np.arange(12, dtype="float32").reshape(6, 2) / 10
    targets = inputs.reshape(50, 6) @ weights + np.array([1.0, -2.0], "float32")
    layer = fit_linear_baseline(keras.layers.Identity(), inputs, targets, alpha=1e-9)
    assert layer.name == "linear_baseline" and not layer.trainable and layer.trainable_weights == []
    kernel, bias = layer.get_weights()
    np.testing.assert_allclose(kernel, weights, atol=1e-4)
    np.testing.assert_allclose(bias, [1.0, -2.0], atol=1e-4)
    np.testing.assert_allclose(layer(inputs.reshape(50, 6)), targets, atol=1e-3)


def test_a_large_penalty_shrinks_the_fit_to_the_targets_mean():
    inputs = np.random.default_rng(1).normal(size=(40, 4)).astype("float32")
    targets = inputs[:, :1] * 3 + 5
    layer = fit_linear_baseline(keras.layers.Identity(), inputs, targets, alpha=1e9)
    assert np.abs(layer.get_weights()[0]).max() < 1e-5
    np.testing.assert_allclose(layer(inputs), np.full((40, 1), targets.mean()), atol=1e-3)


def test_on_price_features_it_predicts_what_scikit_learns_ridge_predicts():
    rng = np.random.default_rng(2)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, (30, 6)), axis=1))
    windows = np.stack([close, close * 1.01, close * 0.99, close, np.full_like(close, 1e5)], axis=-1).astype("float32")
    targets = rng.normal(0, 0.01, (30, 2)).astype("float32")
    preprocessor = price_features(windows, ["log_return", "log_range"])
    layer = fit_linear_baseline(preprocessor, windows, targets, alpha=0.5)
    features = flat_features(preprocessor, windows).numpy()
    assert features.shape == (30, 5 * 2)  # five days after the first, two features each
    expected = Ridge(alpha=0.5).fit(features, targets).predict(features)
    np.testing.assert_allclose(layer(features), expected, atol=1e-5)
    assert layer.get_weights()[0].shape == (10, 2)


def test_one_target_column_gives_one_output():
    inputs = np.random.default_rng(3).normal(size=(20, 3)).astype("float32")
    layer = fit_linear_baseline(keras.layers.Identity(), inputs, inputs[:, :1], alpha=1.0)
    assert [w.shape for w in layer.get_weights()] == [(3, 1), (1,)]
    assert tuple(layer(inputs).shape) == (20, 1)
    assert pytest.approx(float(np.corrcoef(layer(inputs).numpy()[:, 0], inputs[:, 0])[0, 1]), abs=1e-3) == 1.0
