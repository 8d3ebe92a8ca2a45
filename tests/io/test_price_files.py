"""Daily prices from Yahoo-style CSVs and DataFrames: adjusted by Adj Close / Close, sorted, and every bad row named."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from toolkit.errors import InputError
from toolkit.io.price_files import CLOSE, RAW_FEATURES, as_price_frame, read_price_csv

HEADER = "Date,Open,High,Low,Close,Adj Close,Volume\n"


def csv(tmp_path, rows: str, header: str = HEADER, name: str = "IBM.csv"):
    path = tmp_path / name
    path.write_text(header + rows)
    return path


def test_prices_are_adjusted_by_adj_close_over_close_and_volume_divided_by_it(tmp_path):
    # On 2013-01-03 a 2:1 split is ahead: Adj Close is half the Close, so prices halve and the volume doubles.
    path = csv(tmp_path, "2013-01-03,98,104,96,100,50,1000\n2013-01-02,10,11,9,10,10,300\n")
    series = read_price_csv(path)
    assert list(series) == ["IBM"], "one series, named after the file"
    frame = series["IBM"]
    assert list(frame.columns) == list(RAW_FEATURES) and RAW_FEATURES[CLOSE] == "close"
    assert frame.index.name == "date" and frame.index.tolist() == [pd.Timestamp("2013-01-02"), pd.Timestamp("2013-01-03")]
    assert frame.loc["2013-01-03"].tolist() == [49.0, 52.0, 48.0, 50.0, 2000.0]
    assert frame.loc["2013-01-02"].tolist() == [10.0, 11.0, 9.0, 10.0, 300.0]
    assert (frame.dtypes == "float64").all()


def test_without_adj_close_prices_are_taken_as_adjusted(tmp_path):
    path = csv(tmp_path, "2013-01-02,10,11,9,10,300\n", header="Date,Open,High,Low,Close,Volume\n")
    assert read_price_csv(path)["IBM"].iloc[0].tolist() == [10.0, 11.0, 9.0, 10.0, 300.0]


def test_a_ticker_column_gives_one_sorted_series_per_ticker(tmp_path):
    header = "Ticker,Date,Open,High,Low,Close,Volume\n"
    rows = "MSFT,2013-01-03,2,2,2,2,1\nIBM,2013-01-02,1,1,1,1,1\nMSFT,2013-01-02,3,3,3,3,1\nIBM,2013-01-03,4,4,4,4,1\n"
    series = read_price_csv(csv(tmp_path, rows, header))
    assert list(series) == ["IBM", "MSFT"]
    assert series["MSFT"]["close"].tolist() == [3.0, 2.0]  # 01-02 before 01-03
    assert series["IBM"]["close"].tolist() == [1.0, 4.0]
    # The same date for two tickers is no duplicate; twice for one ticker is.
    with pytest.raises(InputError, match=r"column 'Date': duplicate date for its ticker on line\(s\) 3\."):
        read_price_csv(csv(tmp_path, "A,2013-01-02,1,1,1,1,1\nA,2013-01-02,1,1,1,1,1\n", header))


def test_dates_are_iso_unless_a_format_is_given_and_a_time_zone_is_dropped(tmp_path):
    path = csv(tmp_path, "01/02/2013,1,1,1,1,1,1\n")
    with pytest.raises(InputError, match=r"IBM.csv: column 'Date': missing or unreadable date on line\(s\) 2; dates are "
                                         r"read as year-month-day \(2013-01-31\); a config's data.date_format"):
        read_price_csv(path)
    assert read_price_csv(path, "%d/%m/%Y")["IBM"].index[0] == pd.Timestamp("2013-02-01")  # day first, as told
    with pytest.raises(InputError, match=r"missing or unreadable date with data.date_format '%Y-%m-%d' on line\(s\) 2\.$"):
        read_price_csv(path, "%Y-%m-%d")
    zoned = csv(tmp_path, "2013-01-31T00:00:00Z,1,1,1,1,1,1\n")
    assert read_price_csv(zoned)["IBM"].index[0] == pd.Timestamp("2013-01-31")


BAD_ROWS = [
    ("2013-01-02,1,1,1,1,1,1\n2013-01-02,1,1,1,1,1,1\n", r"column 'Date': duplicate date on line\(s\) 3\."),
    ("2013-01-02,1,1,1,,1,1\n", r"column 'Close': missing or non-numeric value \(rows with gaps are rejected, not filled\) on line\(s\) 2"),
    ("2013-01-02,1,1,1,abc,1,1\n", r"column 'Close': missing or non-numeric value"),
    ("2013-01-02,1,1,1,inf,1,1\n", r"column 'Close': missing or non-numeric value"),
    ("2013-01-02,0,1,1,1,1,1\n", r"column 'Open': price that is not positive on line\(s\) 2"),
    ("2013-01-02,1,1,1,1,1,-5\n", r"column 'Volume': negative volume on line\(s\) 2"),
    ("2013-01-02,1,1,1,1,1,1\n2013-01-03,2,1,2,1,1,1\n", r"column 'High': High below Low on line\(s\) 3"),
    ("2013-01-02,1,2,1,3,3,1\n", r"column 'Close': Close outside \[Low, High\] on line\(s\) 2"),
]


def test_each_bad_row_is_refused_naming_its_column_and_line(tmp_path):
    for rows, message in BAD_ROWS:
        with pytest.raises(InputError, match=message):
            read_price_csv(csv(tmp_path, rows))


def test_missing_columns_are_listed_with_those_found(tmp_path):
    with pytest.raises(InputError, match=r"IBM.csv: missing column\(s\) High, Volume; Yahoo-style prices have .*"
                                         r"Columns found: Date, Open, Low, Close\."):
        read_price_csv(csv(tmp_path, "2013-01-02,1,1,1\n", header="Date,Open,Low,Close\n"))


def frame_of(closes, index=None) -> pd.DataFrame:
    closes = np.asarray(closes, "float64")
    return pd.DataFrame(
        {"open": closes, "high": closes * 1.1, "low": closes * 0.9, "close": closes, "volume": np.full(len(closes), 7.0)},
        index=index,
    )


def test_a_frame_in_our_layout_is_checked_and_sorted_by_its_dates():
    dates = pd.DatetimeIndex(["2013-01-03", "2013-01-02"])
    checked = as_price_frame(frame_of([2.0, 1.0], dates).assign(extra="ignored"))
    assert list(checked.columns) == list(RAW_FEATURES)
    assert checked["close"].tolist() == [1.0, 2.0] and checked.index.is_monotonic_increasing
    assert as_price_frame(frame_of([2.0, 1.0]))["close"].tolist() == [2.0, 1.0], "without dates: taken in time order"
    with pytest.raises(InputError, match=r"predict: DataFrame: column 'index': duplicate date on row\(s\) 2013-01-02"):
        as_price_frame(frame_of([1.0, 2.0], pd.DatetimeIndex(["2013-01-02"] * 2)), "predict: DataFrame")
    with pytest.raises(InputError, match=r"DataFrame: column 'close': price that is not positive on row\(s\) 1"):
        as_price_frame(frame_of([1.0, 2.0]).assign(low=0.5, close=[1.0, 0.0]))
    with pytest.raises(InputError, match=r"DataFrame: column 'close': close outside \[low, high\] on row\(s\) 0"):
        as_price_frame(frame_of([1.0]).assign(close=5.0))


def test_a_frame_in_yahoos_layout_is_adjusted_with_or_without_dates():
    yahoo = pd.DataFrame({"Open": [98.0], "High": [104.0], "Low": [96.0], "Close": [100.0], "Adj Close": [50.0],
                          "Volume": [1000.0]})
    assert as_price_frame(yahoo).iloc[0].tolist() == [49.0, 52.0, 48.0, 50.0, 2000.0]
    dated = as_price_frame(yahoo.assign(Date=["2013-01-02"]))
    assert dated.index.tolist() == [pd.Timestamp("2013-01-02")] and dated["close"].tolist() == [50.0]
    with pytest.raises(InputError, match=r"missing or unreadable date on row\(s\) 0; give dates as year-month-day"):
        as_price_frame(yahoo.assign(Date=["02/01/2013"]))


def test_a_frame_of_several_tickers_or_without_price_columns_is_refused():
    two = pd.DataFrame({"Ticker": ["A", "B"], "Date": ["2013-01-02"] * 2, "Open": [1.0] * 2, "High": [1.0] * 2,
                        "Low": [1.0] * 2, "Close": [1.0] * 2, "Volume": [1.0] * 2})
    with pytest.raises(InputError, match=r"prices: holds 2 tickers \(A, B\); give one series at a time\."):
        as_price_frame(two, "prices")
    with pytest.raises(InputError, match=r"price rows need the columns open, high, low, close, volume or Yahoo's .*"
                                         r"missing: High, Low, Volume\."):
        as_price_frame(pd.DataFrame({"Open": [1.0], "Close": [1.0], "high": [1.0]}))
