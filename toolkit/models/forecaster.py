"""Raw OHLCV windows → price features → LSTM stack → Dense head → the forecast in the targets' units."""

from __future__ import annotations

from dataclasses import dataclass

import keras
import numpy as np
import tensorflow as tf

from toolkit.config import option, section
from toolkit.io.price_files import RAW_FEATURES
from toolkit.models.raw_inputs import as_window_batch
from toolkit.models.recurrent import RecurrentConfig, recurrent_stack
from toolkit.models.task import TaskModel
from toolkit.preprocessing.batch_checks import checked_batch


def flat_features(preprocessor: keras.layers.Layer, inputs) -> tf.Tensor:
    """The preprocessor's output for `inputs`, one flat row per example."""
    features = preprocessor(tf.convert_to_tensor(inputs, tf.float32))
    return tf.reshape(features, [tf.shape(features)[0], -1])


@dataclass
class ForecasterConfig:
    """A many-to-one recurrent forecaster."""

    recurrent: RecurrentConfig = section(
        lambda: RecurrentConfig(units=32, bidirectional=False), "The LSTM stack."
    )
    dropout: float = option(0.1, "Dropout before the head.", min=0.0, max=1.0)


def build_forecaster(num_features: int, train_targets: np.ndarray, config: ForecasterConfig) -> keras.Model:
    """Builds the network: layers `lstm_1`..., `dropout`, `head` and `unscale`.

    The head predicts standardized targets, and `unscale` (a
    `Normalization(invert=True)` with the training targets' mean and
    variance, fixed) maps them back, so the loss and the outputs are in the
    targets' own units while the head works at unit scale.

    Args:
        num_features: Features per time step.
        train_targets: The training split's targets, `(n, horizon)`.
        config: The architecture.
    """
    train_targets = np.asarray(train_targets, "float64")
    features = keras.Input((None, num_features), name="features")
    x = recurrent_stack(features, config.recurrent)
    x = keras.layers.Dropout(config.dropout, name="dropout")(x)
    standardized = keras.layers.Dense(train_targets.shape[-1], name="head")(x)
    unscale = keras.layers.Normalization(
        mean=train_targets.mean(axis=0), variance=np.maximum(train_targets.var(axis=0), 1e-12), invert=True, name="unscale"
    )
    return keras.Model(features, unscale(standardized), name="network")


@keras.saving.register_keras_serializable(package="toolkit")
class PriceForecaster(TaskModel):
    """Forecasts closes from raw windows of daily prices; serves prices in the input's units.

    The network predicts `log(close[t + k] / close[t])` for `k = 1 ... horizon`
    from the preprocessor's features; `serve` turns that into prices with the
    window's last close.

    Args:
        network: Features → log changes of the close, `(batch, horizon)`.
        preprocessor: A `PriceFeatures` layer: raw windows → features.
        window: Days in each raw window.
        raw_features: The columns of a raw window, in order: those of
            `RAW_FEATURES`, the order `PriceFeatures` reads.
        linear_baseline: A fixed `Dense` layer from the flattened features to
            log changes (a Ridge regression fitted on the training windows),
            reported beside the network; or `None`.
        **kwargs: Base model keyword arguments, such as `name`.
    """

    layer_arguments = ("network", "preprocessor", "linear_baseline")

    def __init__(
        self,
        network: keras.Model,
        preprocessor: keras.layers.Layer,
        window: int,
        raw_features: list[str] | tuple[str, ...] = RAW_FEATURES,
        linear_baseline: keras.layers.Dense | None = None,
        **kwargs,
    ):
        if list(raw_features) != list(RAW_FEATURES):
            raise ValueError(f"raw_features: expected {list(RAW_FEATURES)}, the columns PriceFeatures reads; got {list(raw_features)}.")
        self.window = int(window)
        self.raw_features = list(raw_features)
        self.linear_baseline = linear_baseline
        super().__init__(network, preprocessor, **kwargs)

    @property
    def close_index(self) -> int:
        """The column of the close in a raw window."""
        return self.raw_features.index("close")

    @property
    def horizon(self) -> int:
        """Days ahead forecast."""
        return int(self.network.outputs[0].shape[-1])

    def raw_input_spec(self) -> tf.TensorSpec:
        return tf.TensorSpec([None, self.window, len(self.raw_features)], tf.float32, name="windows")

    def checked_inputs(self, raw_inputs: tf.Tensor) -> tf.Tensor:
        days = f" ({self.window} days of {', '.join(self.raw_features)})"
        windows = checked_batch(raw_inputs, self.raw_input_spec(), "float32 windows", days)
        prices = tf.gather(windows, [self.raw_features.index(name) for name in ("open", "high", "low", "close")], axis=-1)
        volume = windows[..., self.raw_features.index("volume")]
        valid = tf.logical_and(
            tf.reduce_all(prices > 0, axis=[1, 2]) & tf.reduce_all(tf.math.is_finite(prices), axis=[1, 2]),
            tf.reduce_all(volume >= 0, axis=1) & tf.reduce_all(tf.math.is_finite(volume), axis=1),
        )
        invalid = tf.where(tf.logical_not(valid))[:, 0]
        check = tf.debugging.Assert(
            tf.equal(tf.size(invalid), 0),
            ["windows: prices must be positive finite numbers and volumes finite and not negative; windows at fault",
             invalid],
            summarize=5,
        )
        high, low, close = (windows[..., self.raw_features.index(name)] for name in ("high", "low", "close"))
        inconsistent = tf.where(tf.reduce_any((high < low) | (close < low) | (close > high), axis=1))[:, 0]
        ordered = tf.debugging.Assert(
            tf.equal(tf.size(inconsistent), 0),
            ["windows: a high must be at least its low, and a close within [low, high], every day; windows at fault",
             inconsistent],
            summarize=5,
        )
        with tf.control_dependencies([check, ordered]):
            return tf.identity(windows)

    def serving_outputs(self, raw_inputs: tf.Tensor) -> dict[str, tf.Tensor]:
        log_changes = self(raw_inputs, training=False)
        last_close = raw_inputs[:, -1, self.close_index]
        return {"prices": last_close[:, None] * tf.exp(log_changes), "log_changes": log_changes}

    def raw_batch(self, raw_inputs) -> np.ndarray:
        return as_window_batch(raw_inputs, self.window)

    def linear_baseline_log_changes(self, windows: np.ndarray) -> np.ndarray:
        """The linear baseline's forecast of the log changes, `(batch, horizon)`."""
        if self.linear_baseline is None:
            raise ValueError("This forecaster was built without a linear baseline.")
        return self.linear_baseline(flat_features(self.preprocessor, windows)).numpy()

    def get_config(self) -> dict:
        return {**super().get_config(), "window": self.window, "raw_features": self.raw_features}
