"""Daily prices as users give them: Yahoo-style CSVs and DataFrames, validated and adjusted, read one way for training and serving.

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

from pathlib import Path

import numpy as np
import pandas as pd

from toolkit.errors import InputError
from toolkit.io.csv_files import read_csv, reject_rows

RAW_FEATURES = ("open", "high", "low", "close", "volume")
CLOSE = RAW_FEATURES.index("close")
_REQUIRED_COLUMNS = ("Date", "Open", "High", "Low", "Close", "Volume")
_TICKER_COLUMNS = ("Ticker", "Symbol")


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
    _check_ranges(frame, source, "High", "Low", "Close")
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
    if isinstance(parsed.dtype, pd.DatetimeTZDtype):  # such as 2013-01-31T00:00:00Z: the day in UTC, as a plain date
        parsed = parsed.dt.tz_convert("UTC").dt.tz_localize(None)
    return parsed


def _check_ranges(frame: pd.DataFrame, source: str | Path, high: str, low: str, close: str) -> None:
    """Refuses rows whose high is below their low, or whose close is outside [low, high], naming them."""
    reject_rows(source, high, frame[high] < frame[low], f"{high} below {low}")
    reject_rows(source, close, (frame[close] < frame[low]) | (frame[close] > frame[high]), f"{close} outside [{low}, {high}]")


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
        _check_ranges(checked, source, "high", "low", "close")
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
        checked = _checked_values(frame[value_columns], source, volume="Volume")
        _check_ranges(checked, source, "High", "Low", "Close")
        return _adjusted(checked)
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
