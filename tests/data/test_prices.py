"""Price CSVs: validation messages, split adjustment, windows and a chronological split without leakage."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from toolkit.data.prices import (
    PriceDataConfig,
    chronological_splits,
    load_bokeh_prices,
    walk_forward_splits,
    windows,
)
from toolkit.io.price_files import read_price_csv
from toolkit.preprocessing.prices import PriceFeatures, price_features


def yahoo_frame(days: int = 300, seed: int = 0, start: str = "2010-01-04") -> pd.DataFrame:
    """A random-walk series in Yahoo's layout."""
    rng = np.random.default_rng(seed)
    close = 50 * np.exp(np.cumsum(rng.normal(0, 0.01, days)))
    return pd.DataFrame({
        "Date": pd.bdate_range(start, periods=days).strftime("%Y-%m-%d"),
        "Open": close * 0.995, "High": close * 1.01, "Low": close * 0.99, "Close": close,
        "Adj Close": close, "Volume": rng.integers(1_000, 10_000, days),
    })


def write(frame: pd.DataFrame, path) -> str:
    frame.to_csv(path, index=False)
    return str(path)


def test_yahoo_csv_loads_sorted_and_named_after_the_file(tmp_path):
    frame = yahoo_frame(30)
    path = write(frame.iloc[::-1], tmp_path / "ACME.csv")
    series = read_price_csv(path)
    assert list(series) == ["ACME"]
    loaded = series["ACME"]
    assert loaded.index.is_monotonic_increasing
    np.testing.assert_allclose(loaded["close"], frame["Close"])
    assert list(loaded.columns) == ["open", "high", "low", "close", "volume"]


def test_a_ticker_column_splits_one_file_into_series(tmp_path):
    both = pd.concat([yahoo_frame(20).assign(Ticker="AAA"), yahoo_frame(25, seed=1).assign(Ticker="BBB")])
    series = read_price_csv(write(both, tmp_path / "two.csv"))
    assert {name: len(frame) for name, frame in series.items()} == {"AAA": 20, "BBB": 25}


def test_prices_are_split_adjusted_with_the_adjusted_close(tmp_path):
    frame = yahoo_frame(4)
    frame.loc[:1, ["Open", "High", "Low", "Close"]] *= 2  # a 2:1 split after day 2
    frame.loc[:1, "Volume"] = 100
    loaded = read_price_csv(write(frame, tmp_path / "split.csv"))["split"]
    np.testing.assert_allclose(loaded["close"], frame["Adj Close"])
    np.testing.assert_allclose(loaded["high"], frame["Adj Close"] * 1.01)
    np.testing.assert_allclose(loaded["volume"][:2], 200)


@pytest.mark.parametrize(
    "corrupt, message",
    [
        (lambda f: f.drop(columns=["Volume"]), r"missing column\(s\) Volume"),
        (lambda f: f.assign(Close=f["Close"].where(f.index != 3)), r"column 'Close': missing or non-numeric value .* line\(s\) 5"),
        (lambda f: f.assign(Low=f["Low"].where(f.index != 7, -1.0)), r"column 'Low': price that is not positive on line\(s\) 9"),
        (lambda f: f.assign(Open=f["Open"].where(f.index != 2, 0.0)), r"column 'Open': price that is not positive on line\(s\) 4"),
        (lambda f: f.assign(Date=f["Date"].where(f.index != 5, f["Date"][4])), r"column 'Date': duplicate date on line\(s\) 7"),
        (lambda f: f.assign(Date=f["Date"].where(f.index != 1, "not a date")), r"column 'Date': missing or unreadable date on line\(s\) 3"),
    ],
    ids=["missing-column", "nan", "negative-price", "zero-price", "duplicate-date", "bad-date"],
)
def test_bad_csvs_are_rejected_naming_file_column_and_line(tmp_path, corrupt, message):
    path = write(corrupt(yahoo_frame(12)), tmp_path / "bad.csv")
    with pytest.raises(ValueError, match=message) as raised:
        read_price_csv(path)
    assert "bad.csv" in str(raised.value)


def test_missing_file_and_too_few_rows_are_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="nowhere.csv"):
        read_price_csv(tmp_path / "nowhere.csv")
    series = read_price_csv(write(yahoo_frame(25), tmp_path / "SHORT.csv"))
    with pytest.raises(ValueError, match="Ticker SHORT: 25 days are too few for windows of 21 days"):
        chronological_splits(series, PriceDataConfig(window=21))


def test_windows_pair_past_days_with_the_log_change_to_later_closes():
    frame = read_price_csv_frame(yahoo_frame(40))
    split = windows(frame, "T", window=5, horizon=2)
    close = frame["close"].to_numpy()
    assert split.inputs.shape == (40 - 5 - 2 + 1, 5, 5)
    np.testing.assert_allclose(split.inputs[0, :, 3], close[:5], rtol=1e-6)
    np.testing.assert_allclose(split.targets[0], np.log(close[5:7] / close[4]), rtol=1e-5)
    assert split.dates[0] == frame.index[5]


def test_chronological_split_keeps_periods_in_order_and_scales_mase_on_training_days():
    series = {"A": read_price_csv_frame(yahoo_frame(400)), "B": read_price_csv_frame(yahoo_frame(300, seed=3))}
    data = chronological_splits(series, PriceDataConfig(window=10, validation_fraction=0.2, test_fraction=0.2))
    for ticker in ("A", "B"):
        train, validation, test = (split.dates[split.tickers == ticker] for split in (data.train, data.validation, data.test))
        assert train.max() < validation.min() and validation.max() < test.min()
    close = series["A"]["close"].to_numpy()
    assert data.test.naive_scale["A"] == pytest.approx(np.mean(np.abs(np.diff(close[:240]))))
    assert len(data.test) == 80 + 60  # every test day is predicted, the first from the validation period's days


def test_walk_forward_folds_move_back_one_test_period_each():
    config = PriceDataConfig(tickers=["IBM"], walk_forward_folds=3)
    folds = walk_forward_splits(config)
    ends = [fold.test.dates.max() for fold in folds]
    assert ends == sorted(ends) and len(set(ends)) == 3
    assert ends[-1] == load_bokeh_prices()["IBM"].index[-1]
    assert folds[0].test.dates.max() < folds[1].test.dates.min()


def test_feature_scaler_sees_only_training_windows():
    frame = read_price_csv_frame(yahoo_frame(400))
    config = PriceDataConfig(window=10)
    data = chronological_splits({"A": frame}, config)
    layer = price_features(data.train.inputs, ["log_return", "log_volume_change"])

    later = frame.copy()
    test_start = len(frame) - 60
    later.iloc[test_start - 60 :, :] *= np.linspace(1, 30, 120)[:, None]  # wild validation and test periods
    changed = price_features(chronological_splits({"A": later}, config).train.inputs, ["log_return", "log_volume_change"])
    np.testing.assert_array_equal(layer.mean.numpy(), changed.mean.numpy())
    np.testing.assert_array_equal(layer.variance.numpy(), changed.variance.numpy())

    returns = np.diff(np.log(frame["close"].to_numpy()[:280]))
    assert layer.mean.numpy()[0] == pytest.approx(returns.mean(), abs=2e-4)


def test_price_features_do_not_depend_on_the_price_level():
    frame = read_price_csv_frame(yahoo_frame(60))
    inputs = windows(frame, "A", 20, 1).inputs
    layer = PriceFeatures(["log_return", "log_range", "log_volume_change", "relative_close"])
    scaled = inputs * np.array([100, 100, 100, 100, 1], dtype="float32")
    np.testing.assert_allclose(layer(scaled).numpy(), layer(inputs).numpy(), atol=1e-5)
    assert layer(inputs[0]).shape == (19, 4)


def test_bokeh_sampledata_is_the_real_2000_to_2013_series():
    series = load_bokeh_prices()
    assert {"AAPL", "IBM", "MSFT", "GOOG"} <= set(series)
    assert len(series["IBM"]) == 3270 and str(series["IBM"].index[0].date()) == "2000-03-01"
    assert str(series["GOOG"].index[0].date()).startswith("2004")
    # Adjusted closes have no split-sized overnight jumps: AAPL's 2:1 split of 2005 is gone.
    aapl = series["AAPL"]["close"]
    assert abs(np.log(aapl["2005-02-25"] / aapl["2005-03-01"])) < 0.1


def read_price_csv_frame(frame: pd.DataFrame) -> pd.DataFrame:
    from toolkit.io.price_files import as_price_frame

    return as_price_frame(frame)
