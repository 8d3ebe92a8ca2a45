"""The forecast report: each forecaster against persistence, per ticker and overall, with numbers worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from toolkit.data.prices import WindowSplit
from toolkit.data.splits import Split
from toolkit.evaluation.forecast_report import forecast_report


def windows(last_closes) -> np.ndarray:
    """Two-day windows whose last close is each of `last_closes` (the other columns consistent, unused)."""
    last = np.asarray(last_closes, "float32")
    day = np.stack([last, last * 1.01, last * 0.99, last, np.full_like(last, 1000)], axis=-1)
    return np.stack([day, day], axis=1)


def two_ticker_split(naive_scale=None) -> WindowSplit:
    # Rows interleave the tickers: A, B, A, B. A's closes are 100, B's 10; the truth moves 10 % up, then down.
    last = np.array([100.0, 10.0, 100.0, 10.0])
    actual = np.array([110.0, 11.0, 90.0, 9.0])
    return WindowSplit(
        windows(last), np.log(actual / last)[:, None].astype("float32"),
        tickers=np.array(["A", "B", "A", "B"], dtype=object), dates=np.arange(4), naive_scale=naive_scale or {},
    )


FORECASTS = {
    "model": np.array([[105.0], [10.5], [95.0], [9.0]]),  # A: errors 5, 5; B: 0.5, 0
    "persistence": np.array([[100.0], [10.0], [100.0], [10.0]]),  # A: errors 10, 10; B: 1, 1
}


def test_skill_is_mae_over_persistences_per_ticker_and_its_mean_over_tickers_overall():
    report = forecast_report(two_ticker_split({"A": 2.0, "B": 0.5}), FORECASTS)
    assert report["examples"] == 4 and report["horizon"] == 1
    assert list(report["per_ticker"]) == ["A", "B"]
    a, b = report["per_ticker"]["A"], report["per_ticker"]["B"]
    assert a["model"]["mae"] == pytest.approx(5.0) and a["persistence"]["mae"] == pytest.approx(10.0)
    assert a["model"]["skill_vs_persistence"] == pytest.approx(0.5)
    assert b["model"]["skill_vs_persistence"] == pytest.approx(0.25)
    assert a["model"]["mase"] == pytest.approx(2.5) and b["model"]["mase"] == pytest.approx(0.5)  # MAE / naive scale
    overall = report["overall"]
    assert overall["model"]["skill_vs_persistence"] == pytest.approx(0.375)  # mean over tickers, not pooled
    assert overall["model"]["mae"] == pytest.approx(2.625)  # errors pool every day: (5 + 5 + 0.5 + 0) / 4
    assert overall["persistence"]["mae"] == pytest.approx(5.5)
    assert overall["model"]["mase"] == pytest.approx(1.5)
    assert overall["model"]["directional_accuracy"] == 1.0 and overall["persistence"]["directional_accuracy"] is None
    assert "skill_vs_persistence" not in overall["persistence"]
    headline = report["headline"]
    assert headline["per_ticker_skill"] == {"A": pytest.approx(0.5), "B": pytest.approx(0.25)}
    assert headline["skill_vs_persistence"] == pytest.approx(0.375)
    assert headline["verdict"].startswith("The model ") and "MAE ratio 0.375" in headline["verdict"]


def test_without_an_in_sample_scale_mase_is_scaled_by_the_splits_own_closes_or_one():
    report = forecast_report(two_ticker_split(), FORECASTS)
    # Each ticker's last closes never change here (100, 100): a scale of 0 falls back to 1.
    assert report["per_ticker"]["A"]["model"]["mase"] == pytest.approx(5.0)
    last = np.array([100.0, 102.0, 101.0])  # the last closes change by 2, then 1: a scale of 1.5
    split = Split(windows(last), np.log((last + 3) / last)[:, None].astype("float32"))  # the truth: 3 above each
    forecasts = {"model": last[:, None] + 2, "persistence": last[:, None]}
    plain = forecast_report(split, forecasts)
    assert list(plain["per_ticker"]) == ["series"], "a split without tickers is one series"
    assert plain["per_ticker"]["series"]["model"]["mase"] == pytest.approx(1 / 1.5, rel=1e-5)
    assert plain["per_ticker"]["series"]["model"]["skill_vs_persistence"] == pytest.approx(1 / 3, rel=1e-5)


def test_plots_are_written_per_ticker_with_the_prefix(tmp_path):
    forecast_report(two_ticker_split(), FORECASTS, plots_dir=tmp_path, prefix="fold_0_")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["fold_0_forecast_A.png", "fold_0_forecast_B.png"]


def test_persistence_is_required_as_the_reference():
    with pytest.raises(KeyError, match="persistence"):
        forecast_report(two_ticker_split(), {"model": FORECASTS["model"]})
