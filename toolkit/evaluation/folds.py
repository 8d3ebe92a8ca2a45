"""Metrics measured on several folds: each fold labelled, and each number's mean and spread."""

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


def describe_fold(index: int, count: int, test, own_split: bool) -> dict:
    """A fold's label for people: which of how many, its test period, and whether the run's own model was tested on it.

    Args:
        index: The fold's index, from 0, oldest first.
        count: How many folds.
        test: The fold's test split; a time-ordered split gives its first and last date.
        own_split: Whether the fold is the run's own split, tested with the run's model rather than a fresh one.
    """
    times = test.times() if hasattr(test, "times") else None
    period = f"{str(times.min())[:10]} to {str(times.max())[:10]}" if times is not None and len(times) else "its test split"
    return {
        "fold": f"{index + 1} of {count}",
        "test_period": period,
        "model": "the run's own (this fold is its split)" if own_split else "a fresh one, trained on the days before",
    }


def _is_number(value) -> bool:
    """A number, or `None` for a metric that is undefined in this fold."""
    return value is None or (isinstance(value, (int, float)) and not isinstance(value, bool))
