"""Price-window preprocessing inside the model: scale-free features, standardized on the training period."""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

# Column order of a raw window: adjusted open, high, low, close, and volume.
_OPEN, _HIGH, _LOW, _CLOSE, _VOLUME = range(5)
PRICE_FEATURES = ("log_return", "log_range", "log_volume_change", "relative_close")


@keras.saving.register_keras_serializable(package="toolkit")
class PriceFeatures(keras.layers.Layer):
    """Raw OHLCV windows to standardized, scale-free features, one step per day after the first.

    Features, for days `t = 1 ... window - 1` of a window:
    - `log_return`: `log(close[t] / close[t-1])`;
    - `log_range`: `log(high[t] / low[t])`, the day's spread;
    - `log_volume_change`: `log(1 + volume[t]) - log(1 + volume[t-1])`;
    - `relative_close`: `log(close[t] / close[-1])`, the price path relative
      to the latest close.

    None of them depends on the price level, so one model serves tickers
    whose prices differ by orders of magnitude. Each is then standardized
    with a mean and variance that `adapt` measures on training windows only;
    they are weights of the layer, saved and exported with it.

    Args:
        features: Names from `PRICE_FEATURES`, in the order they are stacked.
        **kwargs: Base layer keyword arguments, such as `name`.

    Call arguments:
        windows: float `(batch, window, 5)`, or one `(window, 5)`: open,
            high, low, close, volume.

    Returns:
        float32 `(batch, window - 1, len(features))`, or `(window - 1, len(features))`.

    Example:

    >>> import numpy as np
    >>> from toolkit.preprocessing.prices import PriceFeatures
    >>> close = np.array([[100.0, 110.0, 99.0]])
    >>> windows = np.stack([close, close * 1.01, close * 0.99, close, np.full_like(close, 1e6)], axis=-1)
    >>> layer = PriceFeatures(["log_return"])
    >>> [round(float(v), 4) for v in layer(windows)[0, :, 0]]  # before `adapt`: unscaled
    [0.0953, -0.1054]
    """

    def __init__(self, features: list[str] | tuple[str, ...] = ("log_return",), **kwargs):
        super().__init__(**kwargs)
        unknown = [name for name in features if name not in PRICE_FEATURES]
        if unknown or not features:
            raise ValueError(f"PriceFeatures: unknown or no features {unknown}; choose from {', '.join(PRICE_FEATURES)}.")
        self.features = list(features)

    def build(self, input_shape=None):
        count = len(self.features)
        self.mean = self.add_weight(shape=(count,), initializer="zeros", trainable=False, name="mean")
        self.variance = self.add_weight(shape=(count,), initializer="ones", trainable=False, name="variance")

    def adapt(self, windows: np.ndarray, batch_size: int = 4096) -> None:
        """Measures each feature's mean and variance on `windows`, the training windows only."""
        if not self.built:
            self.build(np.shape(windows))
        unscaled = np.concatenate(
            [self.unscaled_features(tf.constant(windows[start : start + batch_size], tf.float32)).numpy()
             for start in range(0, len(windows), batch_size)]
        ).reshape(-1, len(self.features))
        self.mean.assign(unscaled.mean(axis=0))
        self.variance.assign(np.maximum(unscaled.var(axis=0), 1e-12))

    def unscaled_features(self, windows: tf.Tensor) -> tf.Tensor:
        """The features before standardization."""
        windows = tf.cast(windows, tf.float32)
        log_close = tf.math.log(windows[..., _CLOSE])
        log_volume = tf.math.log1p(windows[..., _VOLUME])
        compute = {
            "log_return": lambda: log_close[..., 1:] - log_close[..., :-1],
            "log_range": lambda: tf.math.log(windows[..., 1:, _HIGH] / windows[..., 1:, _LOW]),
            "log_volume_change": lambda: log_volume[..., 1:] - log_volume[..., :-1],
            "relative_close": lambda: log_close[..., 1:] - log_close[..., -1:],
        }
        return tf.stack([compute[name]() for name in self.features], axis=-1)

    def call(self, windows):
        return (self.unscaled_features(windows) - self.mean) / tf.sqrt(self.variance)

    def compute_output_shape(self, input_shape):
        steps = None if input_shape[-2] is None else input_shape[-2] - 1
        return (*input_shape[:-2], steps, len(self.features))

    def get_config(self):
        return {**super().get_config(), "features": self.features}


def price_features(train_windows: np.ndarray, features: list[str], name: str = "preprocessor") -> PriceFeatures:
    """A `PriceFeatures` layer adapted on the training windows only."""
    layer = PriceFeatures(features, name=name)
    layer.adapt(train_windows)
    return layer
