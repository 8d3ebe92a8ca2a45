"""Forecast metrics: errors, MASE, directional accuracy, and tests against a baseline."""

from __future__ import annotations

import numpy as np
from scipy import stats

from toolkit.evaluation.verdict import verdict_verb


def forecast_metrics(actual: np.ndarray, predicted: np.ndarray, last_value: np.ndarray, naive_scale: float) -> dict:
    """Errors of `predicted` against `actual`, in the series' own units.

    Args:
        actual: True values, `(n, horizon)`.
        predicted: Forecasts, `(n, horizon)`.
        last_value: The last observed value before each forecast, `(n,)`.
        naive_scale: The in-sample mean absolute one-step change of the
            series: MASE's denominator (Hyndman & Koehler, 2006).

    Returns:
        `rmse`, `mae`, `mape` (in %) and `mase` over every forecast day;
        `directional_accuracy` (did the forecast for the last horizon day move
        the same way from `last_value` as the truth, over the days the truth
        moved), its `direction_days` and `direction_p_value` (a two-sided
        binomial test against 0.5; `None` for a forecast that never moves,
        such as persistence).
    """
    actual, predicted = np.asarray(actual, "float64"), np.asarray(predicted, "float64")
    errors = predicted - actual
    mae = float(np.mean(np.abs(errors)))
    result = {
        "examples": int(len(actual)),
        "rmse": float(np.sqrt(np.mean(errors**2))),
        "mae": mae,
        "mape": float(100 * np.mean(np.abs(errors / actual))),
        "mase": mae / naive_scale,
    }
    return {**result, **directional_accuracy(actual[:, -1], predicted[:, -1], np.asarray(last_value, "float64"))}


def directional_accuracy(actual: np.ndarray, predicted: np.ndarray, last_value: np.ndarray) -> dict:
    """Share of days on which the forecast's move from `last_value` has the sign of the true move.

    Days on which the truth did not move are left out; so is a forecast that
    never moves (its accuracy is `None`).
    """
    true_move, predicted_move = np.sign(actual - last_value), np.sign(predicted - last_value)
    counted = true_move != 0
    days = int(counted.sum())
    if days == 0 or not np.any(predicted_move[counted]):
        return {"directional_accuracy": None, "direction_days": days, "direction_p_value": None}
    hits = int(np.sum(true_move[counted] == predicted_move[counted]))
    return {
        "directional_accuracy": hits / days,
        "direction_days": days,
        "direction_p_value": float(stats.binomtest(hits, days, 0.5).pvalue),
    }


def diebold_mariano_p_value(errors: np.ndarray, baseline_errors: np.ndarray, horizon: int = 1) -> float:
    """Two-sided p-value that two forecasts' mean absolute errors are equal (Diebold & Mariano, 1995).

    The loss differential is each example's mean absolute error over its
    horizon, minus the baseline's; its variance is Newey-West with
    `horizon - 1` lags, since forecasts `horizon` days ahead overlap.
    """
    differential = np.mean(np.abs(errors), axis=-1) - np.mean(np.abs(baseline_errors), axis=-1)
    count = len(differential)
    centered = differential - differential.mean()
    variance = np.mean(centered**2)
    for lag in range(1, horizon):
        weight = 1 - lag / horizon
        variance += 2 * weight * np.mean(centered[lag:] * centered[:-lag])
    if variance <= 0:
        return 1.0
    statistic = differential.mean() / np.sqrt(variance / count)
    return float(2 * stats.norm.sf(abs(statistic)))


def skill_verdict(skill: float, p_value: float, baseline: str = "persistence", alpha: float = 0.05) -> str:
    """Says in words whether a skill ratio (MAE over the baseline's) beats, ties or loses to the baseline."""
    verb = verdict_verb(skill < 1, p_value, alpha)
    if verb == "ties":
        return f"ties {baseline}: MAE ratio {skill:.3f}, not significantly different from 1 (p = {p_value:.2g})"
    return f"{verb} {baseline}: MAE ratio {skill:.3f} (p = {p_value:.2g})"
