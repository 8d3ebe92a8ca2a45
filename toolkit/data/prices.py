"""Daily prices: bokeh-sampledata's stocks and any Yahoo-style CSV, validated, adjusted and windowed.

Every series becomes a `DataFrame` indexed by date with the columns of
`RAW_FEATURES`: split- and dividend-adjusted open, high, low and close, and
volume. Raw OHLC prices jump at every stock split (AAPL's fell from about
$700 to $100 in 2014's 7:1 split, and by half in 2000 and 2005); the
`Adj Close` column does not. Each row's open, high, low and close are
multiplied by that row's `Adj Close / Close`, and its volume divided by it,
so that every column is in the adjusted close's units. A CSV without an
`Adj Close` column is taken as already adjusted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from toolkit.config import option
from toolkit.data.csv_files import read_csv, reject_rows
from toolkit.data.splits import DataSplits, TimeOrderedSplit

RAW_FEATURES = ("open", "high", "low", "close", "volume")
CLOSE = RAW_FEATURES.index("close")
_REQUIRED_COLUMNS = ("Date", "Open", "High", "Low", "Close", "Volume")
_TICKER_COLUMNS = ("Ticker", "Symbol")


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
    tickers: list[str] | None = option(["AAPL", "IBM", "MSFT", "GOOG"], "Tickers to use; null: all in the data.")
    window: int = option(21, "Days in each input window; returns-based features see window - 1 steps.", min=3)
    horizon: int = option(1, "Days ahead to predict (the closes of days t+1 ... t+horizon).", min=1, max=60)
    validation_fraction: float = option(0.15, "Share of each series' days, after training, for validation.", min=0.01, max=0.5)
    test_fraction: float = option(0.15, "Share of each series' last days for test.", min=0.01, max=0.5)
    walk_forward_folds: int = option(
        3, "Rolling-origin evaluation: also train on expanding windows and test on this many consecutive "
        "blocks (the last being the test period); 0 turns it off.", min=0, max=20
    )


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


def read_price_csv(path: str | Path) -> dict[str, pd.DataFrame]:
    """Reads and validates a Yahoo-style CSV of one or many tickers.

    Dates may come in any order: each ticker's rows are sorted by date.

    Returns:
        `{ticker: frame}`, each frame indexed by date with `RAW_FEATURES`.

    Raises:
        FileNotFoundError: If the file is missing.
        ValueError: Naming the file, the column and the line at fault, for a
            missing column, an unreadable date, a duplicate date, a missing
            value or a price that is not positive.
    """
    path = Path(path)
    frame = read_csv(path, "Price CSV")
    missing = [column for column in _REQUIRED_COLUMNS if column not in frame.columns]
    if missing:
        raise ValueError(
            f"{path}: missing column(s) {', '.join(missing)}; a Yahoo-style CSV has "
            f"Date, Open, High, Low, Close, Adj Close, Volume. Columns found: {', '.join(map(str, frame.columns))}."
        )
    ticker_column = next((column for column in _TICKER_COLUMNS if column in frame.columns), None)
    dates = pd.to_datetime(frame["Date"], errors="coerce")
    reject_rows(path, "Date", dates.isna(), "missing or unreadable date")
    value_columns = [c for c in (*_REQUIRED_COLUMNS[1:], "Adj Close") if c in frame.columns]
    for column in value_columns:
        values = pd.to_numeric(frame[column], errors="coerce")
        reject_rows(path, column, values.isna(), "missing or non-numeric value (rows with gaps are rejected, not filled)")
        bad = values < 0 if column == "Volume" else values <= 0
        reject_rows(path, column, bad, "negative volume" if column == "Volume" else "price that is not positive")
        frame[column] = values.astype("float64")
    frame["Date"] = dates
    keys = [ticker_column, "Date"] if ticker_column else ["Date"]
    reject_rows(path, "Date", frame.duplicated(keys, keep="first"), "duplicate date" + (" for its ticker" if ticker_column else ""))
    groups = frame.groupby(ticker_column, sort=True) if ticker_column else [(path.stem, frame)]
    return {str(ticker): _adjusted(rows) for ticker, rows in groups}


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
            raise ValueError("data.csv_paths: give at least one CSV when data.source is csv.")
        series = {}
        for path in config.csv_paths:
            for ticker, frame in read_price_csv(path).items():
                if ticker in series:
                    raise ValueError(f"{path}: ticker {ticker!r} is already in an earlier file of data.csv_paths.")
                series[ticker] = frame
    if config.tickers is None:
        return series
    unknown = [ticker for ticker in config.tickers if ticker not in series]
    if unknown:
        raise ValueError(f"data.tickers: {', '.join(unknown)} not in the data; it has {', '.join(sorted(series))}.")
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
            raise ValueError(
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
        raise ValueError(
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


def as_window_batch(raw_inputs, window: int) -> np.ndarray:
    """float32 windows `(batch, window, 5)` from an array, a DataFrame of recent rows, or CSV paths.

    A DataFrame (columns `RAW_FEATURES` or Yahoo's) and each CSV of one
    ticker give one window: their last `window` days.

    Raises:
        ValueError: For too few rows, a CSV of several tickers, or an array
            of another shape, saying what is expected.
    """
    if isinstance(raw_inputs, (str, Path)) or (
        isinstance(raw_inputs, (list, tuple)) and raw_inputs and all(isinstance(x, (str, Path)) for x in raw_inputs)
    ):
        paths = [raw_inputs] if isinstance(raw_inputs, (str, Path)) else raw_inputs
        return np.concatenate([as_window_batch(_single_series(path), window) for path in paths])
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


def _single_series(path) -> pd.DataFrame:
    series = read_price_csv(path)
    if len(series) != 1:
        raise ValueError(f"{path}: holds {len(series)} tickers ({', '.join(series)}); predict takes one ticker per file.")
    return next(iter(series.values()))


def as_price_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A frame with `RAW_FEATURES` columns from one in our layout or in Yahoo's (adjusted as documented)."""
    if all(column in frame.columns for column in RAW_FEATURES):
        return frame[list(RAW_FEATURES)].astype("float64")
    missing = [column for column in _REQUIRED_COLUMNS[1:] if column not in frame.columns]
    if missing:
        raise ValueError(
            f"Price rows need the columns {', '.join(RAW_FEATURES)} or Yahoo's Open, High, Low, Close, "
            f"[Adj Close,] Volume; missing: {', '.join(missing)}."
        )
    if "Date" in frame.columns:
        frame = frame.assign(Date=pd.to_datetime(frame["Date"]))
    return _adjusted(frame)


def _adjusted(rows: pd.DataFrame) -> pd.DataFrame:
    rows = rows.sort_values("Date") if "Date" in rows.columns else rows.sort_index()
    factor = rows["Adj Close"] / rows["Close"] if "Adj Close" in rows.columns else 1.0
    adjusted = pd.DataFrame(
        {
            "open": rows["Open"] * factor,
            "high": rows["High"] * factor,
            "low": rows["Low"] * factor,
            "close": rows["Close"] * factor,
            "volume": rows["Volume"] / factor,
        }
    )
    if "Date" in rows.columns:
        adjusted.index = pd.DatetimeIndex(rows["Date"], name="date")
    return adjusted.astype("float64")

