"""Stock prediction: windows of daily OHLCV → LSTM stack → the next days' closes, against naive baselines."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import keras
import numpy as np
import pandas as pd

from toolkit import config as config_lib
from toolkit.baselines.linear import fit_linear_baseline
from toolkit.config import ConfigError, option, section
from toolkit.data.prices import (
    PriceDataConfig,
    load_price_splits,
    walk_forward_splits,
    windows_from_csv,
    windows_from_frame,
)
from toolkit.data.splits import Split, TimeOrderedSplit, inputs_and_targets
from toolkit.evaluation.forecast_report import forecast_report
from toolkit.models.forecaster import ForecasterConfig, PriceForecaster, build_forecaster
from toolkit.models.serving_limits import ServingLimits
from toolkit.preprocessing.prices import price_features
from toolkit.recipes.pipeline import Pipeline, WalkForwardEvaluation
from toolkit.registry import register_pipeline
from toolkit.training import TrainerConfig


@dataclass
class StockConfig:
    """The stock pipeline's config: `configs/stock.yaml`."""

    data: PriceDataConfig = section(PriceDataConfig, "Price series, windows and the chronological split.")
    features: list[Literal["log_return", "log_range", "log_volume_change", "relative_close"]] = option(
        ["log_return", "log_range", "log_volume_change"],
        "Per-day features computed inside the model: log_return, log_range, log_volume_change, relative_close.",
    )
    model: ForecasterConfig = section(ForecasterConfig, "The network.")
    linear_baseline_alpha: float = option(1.0, "L2 penalty of the Ridge baseline on the same features.", min=0.0)
    serving: ServingLimits = section(ServingLimits, "What the serving signature refuses before any work.")
    trainer: TrainerConfig = section(
        lambda: TrainerConfig(epochs=40, batch_size=128, early_stopping_patience=6), "Compiling and fitting."
    )

    def __post_init__(self):
        if not self.features:
            raise ConfigError("features: give at least one of log_return, log_range, log_volume_change, relative_close.")


@register_pipeline
class StockPipeline(WalkForwardEvaluation, Pipeline):
    """Forecasts adjusted closes from raw OHLCV windows; serves prices in the inputs' units.

    Evaluation reports the model beside persistence ("tomorrow = today") and
    a Ridge model on the same features, fitted on the training windows and
    kept in the task model.
    """

    name = "stock"
    config_class = StockConfig
    task_class = PriceForecaster

    def load_data(self, config: StockConfig):
        return load_price_splits(config.data)

    def walk_forward_folds(self, config: StockConfig):
        return walk_forward_splits(config.data) if config.data.walk_forward_folds else []

    def build_preprocessor(self, config: StockConfig, data):
        return price_features(data.train.inputs, config.features)

    def build_task(self, config: StockConfig, data, preprocessor):
        network = build_forecaster(len(config.features), data.train.targets, config.model)
        baseline = fit_linear_baseline(preprocessor, data.train.inputs, data.train.targets, config.linear_baseline_alpha)
        return PriceForecaster(
            network, preprocessor, data.metadata["window"], data.metadata["raw_features"], linear_baseline=baseline,
            limits=config_lib.to_dict(config.serving),
        )

    def default_loss(self):
        return keras.losses.MeanSquaredError()

    def default_metrics(self):
        return [keras.metrics.MeanAbsoluteError(name="mae")]

    def fine_tune_data(self, data, model: PriceForecaster) -> Split:
        """Windows from a Yahoo-style CSV path, a DataFrame of one series, or `(windows, log_changes)` in time order."""
        if isinstance(data, (str, Path)):
            return windows_from_csv(data, model.window, model.horizon)
        if isinstance(data, pd.DataFrame):
            return windows_from_frame(data, model.window, model.horizon)
        inputs, targets = inputs_and_targets(data, "a CSV path, a DataFrame or (windows, log_changes)")
        return TimeOrderedSplit(model.raw_batch(inputs), np.asarray(targets, "float32"))

    def evaluate(self, trained, split: Split, plots_dir: Path | None = None, prefix: str = "") -> dict:
        last_close = split.inputs[:, -1, trained.model.close_index].astype("float64")
        forecasts = {
            "model": trained.predict(split.inputs)["prices"],
            "linear": last_close[:, None] * np.exp(trained.model.linear_baseline_log_changes(split.inputs)),
            "persistence": np.repeat(last_close[:, None], split.targets.shape[-1], axis=1),
        }
        return forecast_report(split, forecasts, plots_dir, prefix)
