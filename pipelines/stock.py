"""Stock prediction: windows of daily OHLCV → LSTM stack → the next days' closes, against naive baselines."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np
import pandas as pd
import tensorflow as tf

from toolkit.config import option, section
from toolkit.data.prices import (
    CLOSE,
    RAW_FEATURES,
    PriceDataConfig,
    WindowSplit,
    as_price_frame,
    concat_windows,
    load_price_splits,
    read_price_csv,
    walk_forward_splits,
    windows,
    windows_from_frame,
)
from toolkit.evaluation.forecast_report import forecast_report
from toolkit.models.forecaster import ForecasterConfig, build_forecaster
from toolkit.pipeline import Pipeline, Split
from toolkit.preprocessing.prices import price_features
from toolkit.registry import register_pipeline
from toolkit.training import TrainerConfig


@dataclass
class StockConfig:
    """The stock pipeline's config: `configs/stock.yaml`."""

    data: PriceDataConfig = section(PriceDataConfig, "Price series, windows and the chronological split.")
    features: list[str] = option(
        ["log_return", "log_range", "log_volume_change"],
        "Per-day features computed inside the model: log_return, log_range, log_volume_change, relative_close.",
    )
    model: ForecasterConfig = section(ForecasterConfig, "The network.")
    linear_baseline_alpha: float = option(1.0, "L2 penalty of the Ridge baseline on the same features.", min=0.0)
    trainer: TrainerConfig = section(
        lambda: TrainerConfig(epochs=40, batch_size=128, early_stopping_patience=6), "Compiling and fitting."
    )


@register_pipeline
class StockPipeline(Pipeline):
    """Forecasts adjusted closes from raw OHLCV windows; serves prices in the inputs' units.

    The network predicts `log(close[t + k] / close[t])` for `k = 1 ... horizon`;
    serving turns that into prices with the window's last close. Evaluation
    reports the model beside persistence ("tomorrow = today") and a Ridge
    model on the same features.
    """

    name = "stock"
    config_class = StockConfig
    time_ordered = True

    def raw_input_spec(self, metadata):
        return tf.TensorSpec([None, metadata["window"], len(RAW_FEATURES)], tf.float32, name="windows")

    def load_data(self, config: StockConfig):
        return load_price_splits(config.data)

    def evaluation_folds(self, config: StockConfig):
        return walk_forward_splits(config.data) if config.data.walk_forward_folds else []

    def build_preprocessor(self, config: StockConfig, data):
        return price_features(data.train.inputs, config.features)

    def fit_baselines(self, config: StockConfig, data, preprocessor):
        from sklearn.linear_model import Ridge

        features = _flat_features(preprocessor, data.train.inputs)
        ridge = Ridge(alpha=config.linear_baseline_alpha).fit(features, data.train.targets)
        horizon = data.train.targets.shape[-1]
        return {
            "linear_baseline": {
                "coef": np.reshape(ridge.coef_, (horizon, -1)).tolist(),
                "intercept": np.reshape(ridge.intercept_, (horizon,)).tolist(),
            }
        }

    def build_network(self, config: StockConfig, data, preprocessor):
        return build_forecaster(len(config.features), data.train.targets, config.model)

    def default_loss(self, metadata):
        return keras.losses.MeanSquaredError()

    def default_metrics(self, metadata):
        return [keras.metrics.MeanAbsoluteError(name="mae")]

    def serving_outputs(self, model, raw_inputs, metadata):
        log_changes = model(raw_inputs, training=False)
        last_close = raw_inputs[:, -1, CLOSE]
        return {"prices": last_close[:, None] * tf.exp(log_changes), "log_changes": log_changes}

    def coerce_raw_inputs(self, raw_inputs, metadata):
        """Windows from an array `(batch, window, 5)`, a DataFrame of recent rows, or CSV paths.

        A DataFrame (columns `RAW_FEATURES` or Yahoo's) and each CSV of one
        ticker give one window: their last `window` days.
        """
        window = metadata["window"]
        if isinstance(raw_inputs, (str, Path)) or (
            isinstance(raw_inputs, (list, tuple)) and raw_inputs and all(isinstance(x, (str, Path)) for x in raw_inputs)
        ):
            paths = [raw_inputs] if isinstance(raw_inputs, (str, Path)) else raw_inputs
            return np.concatenate([self.coerce_raw_inputs(_single_series(path), metadata) for path in paths])
        if isinstance(raw_inputs, pd.DataFrame):
            if len(raw_inputs) < window:
                raise ValueError(f"predict: {len(raw_inputs)} rows given; the model needs the last {window} days.")
            return as_price_frame(raw_inputs).to_numpy("float32")[None, -window:]
        values = np.asarray(raw_inputs, dtype="float32")
        values = values[None] if values.ndim == 2 else values
        if values.ndim != 3 or values.shape[1:] != (window, len(RAW_FEATURES)):
            raise ValueError(
                f"predict: expected windows of shape (batch, {window}, {len(RAW_FEATURES)}) with columns "
                f"{', '.join(RAW_FEATURES)}, got {values.shape}."
            )
        return values

    def fine_tune_data(self, data, metadata) -> WindowSplit:
        """Windows from a Yahoo-style CSV path, a DataFrame of one series, or `(windows, log_changes)`."""
        window, horizon = metadata["window"], metadata["horizon"]
        if isinstance(data, (str, Path)):
            splits = [windows(frame, ticker, window, horizon) for ticker, frame in read_price_csv(data).items()]
            joined = concat_windows(splits)
            order = np.argsort(joined.dates, kind="stable")
            return WindowSplit(
                joined.inputs[order], joined.targets[order], joined.tickers[order], joined.dates[order], joined.naive_scale
            )
        if isinstance(data, pd.DataFrame):
            return windows_from_frame(data, window, horizon)
        inputs, targets = data
        return Split(self.coerce_raw_inputs(inputs, metadata), np.asarray(targets, "float32"))

    def evaluate(self, task, split: Split, plots_dir: Path | None = None, prefix: str = "") -> dict:
        linear = task.metadata["linear_baseline"]
        linear_changes = _flat_features(task.preprocessor, split.inputs) @ np.array(linear["coef"]).T + linear["intercept"]
        last_close = split.inputs[:, -1, CLOSE].astype("float64")
        forecasts = {
            "model": task.predict(split.inputs)["prices"],
            "linear": last_close[:, None] * np.exp(linear_changes),
            "persistence": np.repeat(last_close[:, None], split.targets.shape[-1], axis=1),
        }
        return forecast_report(split, forecasts, plots_dir, prefix)


def _single_series(path) -> pd.DataFrame:
    series = read_price_csv(path)
    if len(series) != 1:
        raise ValueError(f"{path}: holds {len(series)} tickers ({', '.join(series)}); predict takes one ticker per file.")
    return next(iter(series.values()))


def _flat_features(preprocessor, inputs: np.ndarray) -> np.ndarray:
    features = preprocessor(tf.constant(inputs, tf.float32)).numpy()
    return features.reshape(len(features), -1)
