"""Summaries of metrics measured on several folds: each number's mean and spread."""

from __future__ import annotations

import numpy as np

from toolkit.config import dotted


def summarize_folds(fold_metrics: list[dict]) -> dict:
    """The mean and standard deviation over folds of every number in nested metric dicts.

    Args:
        fold_metrics: One metrics dict per fold, of the same shape.

    Returns:
        `{"folds": fold_metrics, "mean": {...}, "std": {...}}`, where `mean`
        and `std` are keyed by the dotted path of each number, such as
        `"overall.model.mae"`. A number missing or `None` in some folds is
        summarized over the others, and left out where it is in none.
    """
    flat = [{key: value for key, value in dotted(metrics).items() if _is_number(value)} for metrics in fold_metrics]
    keys = list(dict.fromkeys(key for values in flat for key in values))
    mean, std = {}, {}
    for key in keys:
        values = np.array([values[key] for values in flat if values.get(key) is not None], dtype="float64")
        if len(values):
            mean[key], std[key] = float(values.mean()), float(values.std())
    return {"folds": fold_metrics, "mean": mean, "std": std}


def _is_number(value) -> bool:
    """A number, or `None` for a metric that is undefined in this fold."""
    return value is None or (isinstance(value, (int, float)) and not isinstance(value, bool))
