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

from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from toolkit.config import ConfigError, option
from toolkit.data.batches import cache_limit_option
from toolkit.data.csv_files import read_csv, reject_rows
from toolkit.data.splits import DataSplits, TimeOrderedSplit
from toolkit.errors import InputError, InputTypeError

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


def read_price_csv(path: str | Path, date_format: str | None = None) -> dict[str, pd.DataFrame]:
    """Reads and validates a Yahoo-style CSV of one or many tickers.

    Dates may come in any order: each ticker's rows are sorted by date.

    Args:
        path: The CSV file.
        date_format: A `strftime` layout of the Date column, such as
            `"%d/%m/%Y"`; `None` for ISO 8601 dates, such as 2013-01-31.

    Returns:
        `{ticker: frame}`, each frame indexed by date with `RAW_FEATURES`.

    Raises:
        FileNotFoundError: If the file is missing.
        InputError: Naming the file, the column and the line at fault, for a
            missing column, an unreadable date (suggesting `data.date_format`),
            a duplicate date, a missing value or a price that is not positive.
    """
    path = Path(path)
    return _checked_yahoo_rows(read_csv(path, "Price CSV"), path, date_format, _DATE_FORMAT_HINT, name=path.stem)


_DATE_FORMAT_HINT = (
    "dates are read as year-month-day (2013-01-31); a config's data.date_format gives another layout, "
    "such as '%d/%m/%Y' for 31/01/2013"
)
_FRAME_DATE_HINT = "give dates as year-month-day (2013-01-31), or parse the column first with pd.to_datetime(..., format=...)"


def _checked_yahoo_rows(
    frame: pd.DataFrame, source: str | Path, date_format: str | None, date_hint: str, name: str
) -> dict[str, pd.DataFrame]:
    """`{ticker: frame}` from Yahoo-style rows of a CSV (`source` a path) or a DataFrame, after every check."""
    missing = [column for column in _REQUIRED_COLUMNS if column not in frame.columns]
    if missing:
        raise InputError(
            f"{source}: missing column(s) {', '.join(missing)}; Yahoo-style prices have "
            f"Date, Open, High, Low, Close, Adj Close, Volume. Columns found: {', '.join(map(str, frame.columns))}."
        )
    frame = frame.copy()
    ticker_column = next((column for column in _TICKER_COLUMNS if column in frame.columns), None)
    frame["Date"] = _checked_dates(frame["Date"], source, "Date", date_format, date_hint)
    value_columns = [c for c in (*_REQUIRED_COLUMNS[1:], "Adj Close") if c in frame.columns]
    frame[value_columns] = _checked_values(frame[value_columns], source, volume="Volume")
    keys = [ticker_column, "Date"] if ticker_column else ["Date"]
    reject_rows(source, "Date", frame.duplicated(keys, keep="first"), "duplicate date" + (" for its ticker" if ticker_column else ""))
    groups = frame.groupby(ticker_column, sort=True) if ticker_column else [(name, frame)]
    return {str(ticker): _adjusted(rows) for ticker, rows in groups}


def _checked_dates(dates: pd.Series, source: str | Path, column: str, date_format: str | None, hint: str) -> pd.Series:
    """`dates` parsed, refusing the rows whose date is missing or unreadable."""
    if pd.api.types.is_datetime64_any_dtype(dates):
        parsed = dates
    else:
        # ISO unless told otherwise: pandas' guess would read 01/02/2013 month-first without a word.
        parsed = pd.to_datetime(dates, format=date_format or "ISO8601", errors="coerce")
    layout = f" with data.date_format {date_format!r}" if date_format else ""
    reject_rows(source, column, parsed.isna(), f"missing or unreadable date{layout}", "" if date_format else hint)
    return parsed


def _checked_values(values: pd.DataFrame, source: str | Path, volume: str) -> pd.DataFrame:
    """Prices and volumes as float64, refusing gaps, non-numbers, prices that are not positive and negative volumes."""
    checked = {}
    for column in values.columns:
        numbers = pd.to_numeric(values[column], errors="coerce")
        numbers = numbers.where(np.isfinite(numbers))
        reject_rows(source, column, numbers.isna(), "missing or non-numeric value (rows with gaps are rejected, not filled)")
        bad = numbers < 0 if column == volume else numbers <= 0
        reject_rows(source, column, bad, "negative volume" if column == volume else "price that is not positive")
        checked[column] = numbers.astype("float64")
    return pd.DataFrame(checked, index=values.index)


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


def as_window_batch(raw_inputs, window: int) -> np.ndarray:
    """float32 windows `(batch, window, 5)` from an array, a DataFrame of recent rows, or CSV paths.

    A DataFrame (columns `RAW_FEATURES` or Yahoo's) and each CSV of one
    ticker give one window: their last `window` days, after the checks of
    `as_price_frame` and `read_price_csv`. An empty list gives no windows.

    Raises:
        InputTypeError: A `TypeError`: For something that is not an array, a list, a DataFrame or
            CSV paths (a mapping, say), saying what is taken.
        InputError: For too few rows, a CSV of several tickers, an array of
            another shape, or values that are not finite or prices that are
            not positive, saying what is expected.
    """
    expected = f"windows of shape (batch, {window}, {len(RAW_FEATURES)}) with columns {', '.join(RAW_FEATURES)}"
    if isinstance(raw_inputs, (str, Path)) or (
        isinstance(raw_inputs, (list, tuple)) and raw_inputs and all(isinstance(x, (str, Path)) for x in raw_inputs)
    ):
        paths = [raw_inputs] if isinstance(raw_inputs, (str, Path)) else raw_inputs
        return np.concatenate([as_window_batch(_single_series(path), window) for path in paths])
    if isinstance(raw_inputs, pd.DataFrame):
        if len(raw_inputs) < window:
            raise InputError(f"predict: {len(raw_inputs)} rows given; the model needs the last {window} days.")
        return as_price_frame(raw_inputs, "predict: DataFrame").to_numpy("float32")[None, -window:]
    if isinstance(raw_inputs, Mapping) or not isinstance(raw_inputs, (list, tuple, np.ndarray)):
        raise InputTypeError(
            f"predict: expected {expected} (an array or nested lists), a DataFrame of one series, or paths of "
            f"one-ticker CSVs; got {type(raw_inputs).__name__}."
        )
    if len(raw_inputs) == 0:
        return np.zeros((0, window, len(RAW_FEATURES)), "float32")
    try:
        values = np.asarray(raw_inputs, dtype="float32")
    except (TypeError, ValueError):
        raise InputTypeError(f"predict: expected {expected}, as numbers; got values that are not numbers.") from None
    values = values[None] if values.ndim == 2 else values
    if values.ndim != 3 or values.shape[1:] != (window, len(RAW_FEATURES)):
        raise InputError(f"predict: expected {expected}, got {values.shape}.")
    _reject_windows(~np.isfinite(values).all(axis=(1, 2)), "values that are not finite numbers")
    prices = values[..., [RAW_FEATURES.index(name) for name in ("open", "high", "low", "close")]]
    _reject_windows((prices <= 0).any(axis=(1, 2)), "prices that are not positive")
    _reject_windows((values[..., RAW_FEATURES.index("volume")] < 0).any(axis=1), "a negative volume")
    return values


def _reject_windows(bad: np.ndarray, problem: str) -> None:
    if bad.any():
        raise InputError(f"predict: window(s) {', '.join(map(str, np.flatnonzero(bad)[:5]))} hold {problem}.")


def _single_series(path) -> pd.DataFrame:
    series = read_price_csv(path)
    if len(series) != 1:
        raise InputError(f"{path}: holds {len(series)} tickers ({', '.join(series)}); predict takes one ticker per file.")
    return next(iter(series.values()))


def as_price_frame(frame: pd.DataFrame, source: str = "DataFrame") -> pd.DataFrame:
    """Checked `RAW_FEATURES` columns from a frame of one series, in our layout or in Yahoo's (adjusted as documented).

    A frame gets exactly the checks a CSV file gets: gaps, non-numbers,
    prices that are not positive, negative volumes, and unreadable or
    duplicate dates (a `Date` column, or a `DatetimeIndex`).

    Args:
        frame: Columns `RAW_FEATURES` (indexed by date, or in time order), or
            Yahoo's `Date, Open, High, Low, Close, [Adj Close,] Volume`.
        source: What the frame is, for messages.

    Raises:
        InputError: Naming `source`, the column and the rows at fault.
    """
    if all(column in frame.columns for column in RAW_FEATURES):
        checked = _checked_values(frame[list(RAW_FEATURES)], source, volume="volume")
        if isinstance(frame.index, pd.DatetimeIndex):
            dates = pd.Series(frame.index, index=frame.index)
            reject_rows(source, "index", dates.isna(), "missing date")
            reject_rows(source, "index", pd.Series(frame.index.duplicated(), index=frame.index), "duplicate date")
            checked = checked.sort_index()
        return checked
    missing = [column for column in _REQUIRED_COLUMNS[1:] if column not in frame.columns]
    if missing:
        raise InputError(
            f"{source}: price rows need the columns {', '.join(RAW_FEATURES)} or Yahoo's Open, High, Low, Close, "
            f"[Adj Close,] Volume [, Date]; missing: {', '.join(missing)}."
        )
    if "Date" not in frame.columns:
        value_columns = [c for c in (*_REQUIRED_COLUMNS[1:], "Adj Close") if c in frame.columns]
        return _adjusted(_checked_values(frame[value_columns], source, volume="Volume"))
    series = _checked_yahoo_rows(frame, source, None, _FRAME_DATE_HINT, name="series")
    if len(series) != 1:
        raise InputError(f"{source}: holds {len(series)} tickers ({', '.join(series)}); give one series at a time.")
    return next(iter(series.values()))


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

