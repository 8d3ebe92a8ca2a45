"""Daily price series for training: bokeh-sampledata's stocks and Yahoo-style CSVs, windowed and split in time.

How a file or frame is read, checked and adjusted is `toolkit.io.price_files`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from toolkit.config import ConfigError, option
from toolkit.data.batches import cache_limit_option
from toolkit.data.splits import DataSplits, TimeOrderedSplit
from toolkit.errors import InputError
from toolkit.io.price_files import CLOSE, RAW_FEATURES, as_price_frame, read_price_csv


@dataclass
class PriceDataConfig:
    """Which daily price series, and how they are windowed and split in time."""

    source: Literal["bokeh_sampledata", "csv"] = option(
        "bokeh_sampledata",
        "bokeh_sampledata: daily AAPL, IBM, MSFT (2000-2013) and GOOG (2004-2013) from PyPI bokeh-sampledata; "
        "csv: the Yahoo-style files in `csv_paths`.",
    )
    csv_paths: list[str] = option(
        [], "Yahoo-style CSVs (Date, Open, High, Low, Close, [Adj Close,] Volume [, Ticker]); "
        "a file without a Ticker or Symbol column is one ticker named after the file."
    )
    date_format: str | None = option(
        None, "The layout of the CSVs' Date column, such as '%d/%m/%Y' for 31/01/2013; null: ISO 8601, "
        "year-month-day (2013-01-31)."
    )
    tickers: list[str] | None = option(["AAPL", "IBM", "MSFT", "GOOG"], "Tickers to use; null: all in the data.")
    window: int = option(21, "Days in each input window; returns-based features see window - 1 steps.", min=3)
    horizon: int = option(1, "Days ahead to predict (the closes of days t+1 ... t+horizon).", min=1, max=60)
    validation_fraction: float = option(0.15, "Share of each series' days, after training, for validation.", min=0.01, max=0.5)
    test_fraction: float = option(0.15, "Share of each series' last days for test.", min=0.01, max=0.5)
    walk_forward_folds: int = option(
        3, "Rolling-origin evaluation: also train on expanding windows and test on this many consecutive "
        "blocks (the last being the test period); 0 turns it off.", min=0, max=20
    )
    cache_limit_mb: float = cache_limit_option()

    def __post_init__(self):
        if self.csv_paths and self.source != "csv":
            raise ConfigError(f"data.csv_paths is set, but data.source is {self.source}; set data.source=csv to read them.")
        if self.tickers is not None and len(set(self.tickers)) != len(self.tickers):
            raise ConfigError(f"data.tickers: {self.tickers} names a ticker more than once.")


@dataclass
class WindowSplit(TimeOrderedSplit):
    """Windows of raw prices and the log change of the close to each of the next `horizon` days.

    Attributes:
        inputs: float32 `(n, window, 5)`, the columns of `RAW_FEATURES`.
        targets: float32 `(n, horizon)`, `log(close[t + k] / close[t])`.
        tickers: The ticker of each window.
        dates: The date of each window's first predicted day.
        naive_scale: Per ticker, the mean absolute day-to-day change of the
            close in the in-sample period: MASE's denominator.
    """

    tickers: np.ndarray = field(default_factory=lambda: np.array([], dtype=object))
    dates: np.ndarray = field(default_factory=lambda: np.array([], dtype="datetime64[D]"))
    naive_scale: dict[str, float] = field(default_factory=dict)

    def times(self) -> np.ndarray:
        # Windows made without dates (a hand-made split) are taken to be in row order.
        return self.dates if len(self.dates) == len(self) else super().times()


def load_bokeh_prices() -> dict[str, pd.DataFrame]:
    """Loads the daily prices shipped in PyPI `bokeh-sampledata` (public domain, Quandl WIKI).

    Returns:
        `{ticker: frame}` for AAPL, FB, GOOG, IBM and MSFT, as `read_price_csv`.
    """
    source = resources.files("bokeh_sampledata") / "_data" / "stocks.csv.gz"
    with resources.as_file(source) as path:
        return read_price_csv(path)


def load_price_series(config: PriceDataConfig) -> dict[str, pd.DataFrame]:
    """Loads the series a `PriceDataConfig` names, keeping only `config.tickers`."""
    if config.source == "bokeh_sampledata":
        series = load_bokeh_prices()
    else:
        if not config.csv_paths:
            raise InputError("data.csv_paths: give at least one CSV when data.source is csv.")
        series = {}
        for path in config.csv_paths:
            for ticker, frame in read_price_csv(path, config.date_format).items():
                if ticker in series:
                    raise InputError(f"{path}: ticker {ticker!r} is already in an earlier file of data.csv_paths.")
                series[ticker] = frame
    if config.tickers is None:
        return series
    unknown = [ticker for ticker in config.tickers if ticker not in series]
    if unknown:
        raise InputError(f"data.tickers: {', '.join(unknown)} not in the data; it has {', '.join(sorted(series))}.")
    return {ticker: series[ticker] for ticker in config.tickers}


def chronological_splits(series: dict[str, pd.DataFrame], config: PriceDataConfig, periods_back: int = 0) -> DataSplits:
    """Cuts each series in time into train, validation and test windows.

    A window belongs to the period in which all of its predicted days fall;
    its input days may reach back into the period before, which is known at
    forecast time. Validation and test each take `config.validation_fraction`
    and `config.test_fraction` of each series' days.

    Args:
        series: `{ticker: frame}` as `read_price_csv` returns.
        config: Window, horizon and fractions.
        periods_back: Moves all three periods back in time by this many test
            periods, dropping the days after them: the earlier folds of a
            walk-forward evaluation.

    Returns:
        `DataSplits` of `WindowSplit`s; `naive_scale` is measured on the
        training period only.
    """
    parts: dict[str, list[WindowSplit]] = {"train": [], "validation": [], "test": []}
    for ticker, frame in series.items():
        test_days = int(round(len(frame) * config.test_fraction))
        validation_days = int(round(len(frame) * config.validation_fraction))
        end = len(frame) - periods_back * test_days
        train_end = end - test_days - validation_days
        if train_end < config.window + config.horizon or min(test_days, validation_days) <= config.horizon:
            raise InputError(
                f"Ticker {ticker}: {len(frame)} days are too few for windows of {config.window} days, a horizon of "
                f"{config.horizon}, {config.validation_fraction:.0%}/{config.test_fraction:.0%} held out"
                + (f" and {periods_back} earlier walk-forward period(s)." if periods_back else ".")
            )
        close = frame["close"].to_numpy()
        scale = {ticker: float(np.mean(np.abs(np.diff(close[:train_end]))))}
        bounds = {"train": (0, train_end), "validation": (train_end, end - test_days), "test": (end - test_days, end)}
        for name, (start, stop) in bounds.items():
            parts[name].append(windows(frame, ticker, config.window, config.horizon, start, stop, scale))
    return DataSplits(
        train=concat_windows(parts["train"]),
        validation=concat_windows(parts["validation"]),
        test=concat_windows(parts["test"]),
        metadata={
            "window": config.window,
            "horizon": config.horizon,
            "raw_features": list(RAW_FEATURES),
            "tickers": list(series),
        },
    )


def windows(
    frame: pd.DataFrame,
    ticker: str,
    window: int,
    horizon: int,
    first_target: int = 0,
    end: int | None = None,
    naive_scale: dict[str, float] | None = None,
) -> WindowSplit:
    """Every window whose predicted days all lie in rows `[first_target, end)` of `frame`."""
    end = len(frame) if end is None else end
    values = frame[list(RAW_FEATURES)].to_numpy(dtype="float64")
    # Window rows [t - window + 1, t], predicted rows t + 1 ... t + horizon.
    last_rows = np.arange(max(first_target - 1, window - 1), end - horizon)
    if len(last_rows) == 0:
        raise InputError(
            f"Ticker {ticker}: {end - first_target} days leave no window of {window} days with a horizon of {horizon}."
        )
    inputs = np.stack([values[row - window + 1 : row + 1] for row in last_rows])
    close = values[:, CLOSE]
    targets = np.stack([np.log(close[last_rows + k] / close[last_rows]) for k in range(1, horizon + 1)], axis=-1)
    if naive_scale is None:
        naive_scale = {ticker: float(np.mean(np.abs(np.diff(close[:end]))))}
    return WindowSplit(
        inputs=inputs.astype("float32"),
        targets=targets.astype("float32"),
        tickers=np.full(len(last_rows), ticker, dtype=object),
        dates=frame.index.to_numpy()[last_rows + 1].astype("datetime64[D]"),
        naive_scale=naive_scale,
    )


def concat_windows(splits: list[WindowSplit]) -> WindowSplit:
    """Joins the windows of several tickers."""
    return WindowSplit(
        inputs=np.concatenate([s.inputs for s in splits]),
        targets=np.concatenate([s.targets for s in splits]),
        tickers=np.concatenate([s.tickers for s in splits]),
        dates=np.concatenate([s.dates for s in splits]),
        naive_scale={k: v for s in splits for k, v in s.naive_scale.items()},
    )


def load_price_splits(config: PriceDataConfig) -> DataSplits:
    """The chronological train/validation/test windows of the configured series."""
    return chronological_splits(load_price_series(config), config)


def walk_forward_splits(config: PriceDataConfig) -> list[DataSplits]:
    """Rolling-origin folds, oldest first: each earlier fold moves every period back by one test period.

    The last fold is the ordinary split. Each fold trains on all the days
    before its validation period (an expanding window).
    """
    series = load_price_series(config)
    folds = config.walk_forward_folds
    return [chronological_splits(series, config, periods_back=folds - 1 - fold) for fold in range(folds)]


def windows_from_frame(frame: pd.DataFrame, window: int, horizon: int, ticker: str = "series") -> WindowSplit:
    """Windows over a whole frame of recent rows (columns `RAW_FEATURES` or Yahoo-style)."""
    return windows(as_price_frame(frame), ticker, window, horizon)


def windows_from_csv(path: str | Path, window: int, horizon: int) -> WindowSplit:
    """Every window of every ticker in a Yahoo-style CSV, in date order; MASE's scale from each whole series."""
    joined = concat_windows([windows(frame, ticker, window, horizon) for ticker, frame in read_price_csv(path).items()])
    order = np.argsort(joined.dates, kind="stable")
    return WindowSplit(
        joined.inputs[order], joined.targets[order], joined.tickers[order], joined.dates[order], joined.naive_scale
    )
