"""A price-forecast report: the model beside its baselines, per ticker and overall, with plots."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from toolkit.data.splits import Split
from toolkit.evaluation.forecasting import (
    diebold_mariano_p_value,
    forecast_metrics,
    skill_verdict,
)
from toolkit.evaluation.plots import plot_forecast

REFERENCE = "persistence"


def forecast_report(split: Split, forecasts: dict[str, np.ndarray], plots_dir: Path | None = None, prefix: str = "") -> dict:
    """Metrics of every forecast in `forecasts`, each compared with persistence on the same days.

    Args:
        split: Windows (`inputs`, `(n, window, 5)`) and true log changes of
            the close (`targets`, `(n, horizon)`); a `WindowSplit` also
            gives `tickers`, `dates` and `naive_scale`.
        forecasts: Predicted prices `(n, horizon)` by forecaster name; must
            hold `"persistence"`.
        plots_dir: Where to write `<prefix>forecast_<ticker>.png`, if anywhere.
        prefix: File-name prefix of the plots.

    Returns:
        `headline` (the model's skill against persistence, and a sentence
        saying whether it beats, ties or loses to it), then `overall` and
        `per_ticker` metrics of each forecaster. Skill is MAE divided by
        persistence's MAE on the same days (below 1 beats it), with a
        Diebold-Mariano p-value. Overall skill and MASE are the means over
        tickers, since prices of different tickers are in different units;
        overall errors and directional accuracy pool every test day.
    """
    last_close = split.inputs[:, -1, 3].astype("float64")
    actual = last_close[:, None] * np.exp(np.asarray(split.targets, "float64"))
    count = len(actual)
    tickers = _per_example(split, "tickers", np.full(count, "series", dtype=object)).astype(str)
    dates = _per_example(split, "dates", np.arange(count))
    naive_scale = dict(getattr(split, "naive_scale", None) or {})
    horizon = actual.shape[-1]

    per_ticker, scales = {}, {}
    for ticker in map(str, dict.fromkeys(tickers)):
        rows = tickers == ticker
        # A split without an in-sample period measures MASE's scale on its own closes.
        scales[ticker] = naive_scale.get(ticker) or float(np.mean(np.abs(np.diff(last_close[rows])))) or 1.0
        per_ticker[ticker] = _compare(
            actual[rows], {n: f[rows] for n, f in forecasts.items()}, last_close[rows], scales[ticker], horizon
        )
        if plots_dir is not None:
            plot_forecast(
                dates[rows],
                actual[rows, -1],
                {name: predicted[rows, -1] for name, predicted in forecasts.items()},
                Path(plots_dir) / f"{prefix}forecast_{ticker}.png",
                title=f"{ticker}: the close {horizon} day(s) ahead",
            )

    overall, scaled_errors = {}, {}
    example_scales = np.array([scales[ticker] for ticker in tickers])[:, None]
    for name, predicted in forecasts.items():
        scaled_errors[name] = (predicted - actual) / example_scales
        metrics = forecast_metrics(actual, predicted, last_close, 1.0)
        metrics["mase"] = float(np.mean([per_ticker[t][name]["mase"] for t in per_ticker]))
        overall[name] = metrics
    for name in forecasts:
        if name != REFERENCE:
            skills = [per_ticker[t][name]["skill_vs_persistence"] for t in per_ticker]
            defined = [skill for skill in skills if skill is not None]
            # A ticker whose close never moved in the test period gives persistence no error: no ratio to average.
            overall[name]["skill_vs_persistence"] = float(np.mean(defined)) if defined else None
            overall[name]["p_value_vs_persistence"] = diebold_mariano_p_value(scaled_errors[name], scaled_errors[REFERENCE], horizon)
    model = overall["model"]
    return {
        "examples": count,
        "horizon": horizon,
        "headline": {
            "skill_vs_persistence": model["skill_vs_persistence"],
            "verdict": "The model " + (
                skill_verdict(model["skill_vs_persistence"], model["p_value_vs_persistence"])
                if model["skill_vs_persistence"] is not None
                else "cannot be compared with persistence: persistence made no error (the close never moved)"
            ) + ".",
            "per_ticker_skill": {t: per_ticker[t]["model"]["skill_vs_persistence"] for t in per_ticker},
        },
        "overall": overall,
        "per_ticker": per_ticker,
    }


def _compare(actual: np.ndarray, forecasts: dict[str, np.ndarray], last_close: np.ndarray, scale: float, horizon: int) -> dict:
    result = {name: forecast_metrics(actual, predicted, last_close, scale) for name, predicted in forecasts.items()}
    reference_errors = forecasts[REFERENCE] - actual
    for name, predicted in forecasts.items():
        if name != REFERENCE:
            reference_mae = result[REFERENCE]["mae"]
            if reference_mae > 0:
                result[name]["skill_vs_persistence"] = result[name]["mae"] / reference_mae
            else:
                result[name]["skill_vs_persistence"] = None
                result[name]["skill_vs_persistence_undefined"] = "persistence made no error here (a flat close)"
            result[name]["p_value_vs_persistence"] = diebold_mariano_p_value(predicted - actual, reference_errors, horizon)
    return result


def _per_example(split: Split, name: str, default: np.ndarray) -> np.ndarray:
    values = getattr(split, name, None)
    return np.asarray(values) if values is not None and len(values) == len(default) else default
