"""Forecast metrics on hand-made series whose answers are known."""

from __future__ import annotations

import numpy as np
import pytest

from toolkit.data.prices import WindowSplit
from toolkit.evaluation.folds import summarize_folds
from toolkit.evaluation.forecast_report import forecast_report
from toolkit.evaluation.forecasting import (
    diebold_mariano_p_value,
    directional_accuracy,
    forecast_metrics,
    skill_verdict,
)

ACTUAL = np.array([[2.0], [4.0], [3.0], [6.0]])
LAST = np.array([1.0, 2.0, 4.0, 3.0])


def test_persistence_errors_by_hand():
    metrics = forecast_metrics(ACTUAL, LAST[:, None], LAST, naive_scale=2.0)
    # errors: 1, 2, 1, 3
    assert metrics["mae"] == pytest.approx(7 / 4)
    assert metrics["rmse"] == pytest.approx(np.sqrt(15 / 4))
    assert metrics["mape"] == pytest.approx(100 * np.mean([1 / 2, 2 / 4, 1 / 3, 3 / 6]))
    assert metrics["mase"] == pytest.approx(7 / 8)
    assert metrics["directional_accuracy"] is None  # persistence never moves
    assert metrics["direction_days"] == 4


def test_directional_accuracy_and_its_binomial_p_value():
    predicted = np.array([1.5, 3.0, 3.5, 2.0])  # up, up, down, down; the truth went up, up, down, up
    result = directional_accuracy(ACTUAL[:, 0], predicted, LAST)
    assert result["directional_accuracy"] == 0.75
    assert result["direction_p_value"] == pytest.approx(0.625)  # P(|hits - 2| >= 1) for 4 fair coins
    flat_day = directional_accuracy(np.array([1.0, 3.0]), np.array([2.0, 4.0]), np.array([1.0, 2.0]))
    assert flat_day["direction_days"] == 1 and flat_day["directional_accuracy"] == 1.0


def test_diebold_mariano_tells_a_tie_from_a_clear_win():
    rng = np.random.default_rng(0)
    noise = rng.normal(size=(500, 1))
    assert diebold_mariano_p_value(noise, noise) == 1.0
    assert diebold_mariano_p_value(noise, rng.normal(size=(500, 1))) > 0.05
    assert diebold_mariano_p_value(0.5 * noise, noise) < 1e-6
    assert "beats persistence" in skill_verdict(0.5, 1e-6)
    assert "loses to persistence" in skill_verdict(1.5, 1e-6)
    assert "ties persistence" in skill_verdict(0.99, 0.3)


def test_report_compares_every_forecast_with_persistence_per_ticker():
    inputs = np.zeros((4, 3, 5), dtype="float32")
    inputs[:, -1, 3] = LAST
    split = WindowSplit(inputs, np.log(ACTUAL / LAST[:, None]), tickers=np.array(["A", "A", "B", "B"], dtype=object),
                        naive_scale={"A": 1.0, "B": 2.0})
    perfect = ACTUAL.copy()
    half = LAST[:, None] + 0.5 * (ACTUAL - LAST[:, None])
    report = forecast_report(split, {"model": half, "perfect": perfect, "persistence": LAST[:, None]})
    a = report["per_ticker"]["A"]
    assert a["persistence"]["mae"] == pytest.approx(1.5) and a["persistence"]["mase"] == pytest.approx(1.5)
    assert a["model"]["skill_vs_persistence"] == pytest.approx(0.5)
    assert a["perfect"]["skill_vs_persistence"] == 0.0
    assert report["per_ticker"]["B"]["persistence"]["mase"] == pytest.approx(1.0)
    assert report["overall"]["persistence"]["mase"] == pytest.approx(1.25)
    assert report["headline"]["skill_vs_persistence"] == pytest.approx(0.5)
    assert report["overall"]["model"]["directional_accuracy"] == 1.0


def test_fold_summary_gives_mean_and_spread_of_every_number():
    summary = summarize_folds([{"a": {"b": 1.0, "c": None}, "n": 2}, {"a": {"b": 3.0, "c": None}, "n": 2}])
    assert summary["mean"] == {"a.b": 2.0, "n": 2.0}
    assert summary["std"] == {"a.b": 1.0, "n": 0.0}
    assert len(summary["folds"]) == 2
