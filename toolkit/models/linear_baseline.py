"""A Ridge regression on a model's own preprocessed features: the linear baseline a network must beat.

Its coefficients are plain lists, so that they travel in a run's
`metadata.json` and a loaded task reports the baseline too.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf
from sklearn.linear_model import Ridge


def flat_features(preprocessor, inputs: np.ndarray) -> np.ndarray:
    """The preprocessor's output for `inputs`, one flat row per example."""
    features = preprocessor(tf.constant(inputs, tf.float32)).numpy()
    return features.reshape(len(features), -1)


def fit_linear_baseline(preprocessor, inputs: np.ndarray, targets: np.ndarray, alpha: float) -> dict:
    """Fits Ridge(`alpha`) from flattened preprocessed `inputs` to `targets` `(n, outputs)`.

    Returns:
        `{"coef": (outputs, features) list, "intercept": (outputs,) list}`.
    """
    ridge = Ridge(alpha=alpha).fit(flat_features(preprocessor, inputs), targets)
    outputs = np.shape(targets)[-1]
    return {"coef": np.reshape(ridge.coef_, (outputs, -1)).tolist(), "intercept": np.reshape(ridge.intercept_, (outputs,)).tolist()}


def predict_linear_baseline(baseline: dict, preprocessor, inputs: np.ndarray) -> np.ndarray:
    """The fitted baseline's predictions `(n, outputs)`."""
    return flat_features(preprocessor, inputs) @ np.array(baseline["coef"]).T + np.array(baseline["intercept"])
