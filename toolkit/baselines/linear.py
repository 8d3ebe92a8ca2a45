"""A Ridge regression on a model's own preprocessed features: the linear baseline a network must beat.

scikit-learn fits it; its coefficients then become the weights of a fixed
`Dense` layer, so that it is saved, loaded and evaluated with the task.
"""

from __future__ import annotations

import keras
import numpy as np
from sklearn.linear_model import Ridge

from toolkit.models.forecaster import flat_features


def fit_linear_baseline(
    preprocessor: keras.layers.Layer, inputs: np.ndarray, targets: np.ndarray, alpha: float
) -> keras.layers.Dense:
    """Fits Ridge(`alpha`) from flattened preprocessed `inputs` to `targets` `(n, outputs)`.

    Returns:
        A non-trainable `Dense` layer holding the fitted coefficients, built
        for the flattened features.
    """
    features = flat_features(preprocessor, inputs).numpy()
    ridge = Ridge(alpha=alpha).fit(features, targets)
    outputs = np.shape(targets)[-1]
    # Zeros, which the fitted coefficients replace, draw nothing from the seeded random streams.
    layer = keras.layers.Dense(outputs, kernel_initializer="zeros", trainable=False, name="linear_baseline")
    layer.build((None, features.shape[1]))
    layer.set_weights([np.reshape(ridge.coef_, (outputs, -1)).T, np.reshape(ridge.intercept_, (outputs,))])
    return layer
