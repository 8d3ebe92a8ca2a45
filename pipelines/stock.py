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
    as_window_batch,
    load_price_splits,
    walk_forward_splits,
    windows_from_csv,
    windows_from_frame,
)
from toolkit.evaluation.forecast_report import forecast_report
from toolkit.models.forecaster import ForecasterConfig, build_forecaster
from toolkit.models.linear_baseline import fit_linear_baseline, predict_linear_baseline
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
        return {
            "linear_baseline": fit_linear_baseline(
                preprocessor, data.train.inputs, data.train.targets, config.linear_baseline_alpha
            )
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
        return as_window_batch(raw_inputs, metadata["window"])

    def fine_tune_data(self, data, metadata) -> Split:
        """Windows from a Yahoo-style CSV path, a DataFrame of one series, or `(windows, log_changes)`."""
        window, horizon = metadata["window"], metadata["horizon"]
        if isinstance(data, (str, Path)):
            return windows_from_csv(data, window, horizon)
        if isinstance(data, pd.DataFrame):
            return windows_from_frame(data, window, horizon)
        inputs, targets = data
        return Split(self.coerce_raw_inputs(inputs, metadata), np.asarray(targets, "float32"))

    def evaluate(self, task, split: Split, plots_dir: Path | None = None, prefix: str = "") -> dict:
        linear_changes = predict_linear_baseline(task.metadata["linear_baseline"], task.preprocessor, split.inputs)
        last_close = split.inputs[:, -1, CLOSE].astype("float64")
        forecasts = {
            "model": task.predict(split.inputs)["prices"],
            "linear": last_close[:, None] * np.exp(linear_changes),
            "persistence": np.repeat(last_close[:, None], split.targets.shape[-1], axis=1),
        }
        return forecast_report(split, forecasts, plots_dir, prefix)

