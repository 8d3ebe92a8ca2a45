"""Plots the pipelines write: learning curves, confusion matrices, forecasts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure


def plot_learning_curves(history: dict[str, list[float]], path: str | Path) -> Path:
    """Saves one panel per metric, training against validation, by epoch, as a PNG."""
    metrics = [name for name in history if not name.startswith("val_") and name != "learning_rate"]
    figure = Figure(figsize=(4.5 * max(len(metrics), 1), 3.5), layout="constrained")
    for index, name in enumerate(metrics, start=1):
        axes = figure.add_subplot(1, len(metrics), index)
        epochs = np.arange(1, len(history[name]) + 1)
        axes.plot(epochs, history[name], marker="o", label="train")
        if f"val_{name}" in history:
            axes.plot(epochs, history[f"val_{name}"], marker="o", label="validation")
        axes.set_xlabel("epoch")
        axes.set_title(name)
        axes.grid(True, alpha=0.3)
        axes.legend()
    return _save(figure, path)


def plot_confusion_matrix(matrix: np.ndarray, class_names: list[str], path: str | Path) -> Path:
    """Saves a confusion matrix (rows: true class, columns: predicted) as a PNG."""
    matrix = np.asarray(matrix)
    size = max(4.0, 0.6 * len(class_names) + 2)
    figure = Figure(figsize=(size, size), layout="constrained")
    axes = figure.add_subplot()
    image = axes.imshow(matrix, cmap="Blues")
    figure.colorbar(image, ax=axes, shrink=0.8)
    ticks = np.arange(len(class_names))
    axes.set_xticks(ticks, class_names, rotation=45, ha="right")
    axes.set_yticks(ticks, class_names)
    axes.set_xlabel("predicted")
    axes.set_ylabel("true")
    threshold = matrix.max() / 2 if matrix.size else 0
    for (row, column), count in np.ndenumerate(matrix):
        axes.text(column, row, str(count), ha="center", va="center", color="white" if count > threshold else "black")
    return _save(figure, path)


def plot_forecast(
    dates: np.ndarray, actual: np.ndarray, forecasts: dict[str, np.ndarray], path: str | Path, title: str = ""
) -> Path:
    """Saves forecasts against the actual series (top) and each forecast's absolute error (bottom) as a PNG.

    Errors are smoothed with a 20-point moving average so that the lines can be told apart.
    """
    figure = Figure(figsize=(10, 6), layout="constrained")
    prices, errors = figure.subplots(2, 1, sharex=True, height_ratios=[2, 1])
    prices.plot(dates, actual, color="black", linewidth=1.2, label="actual")
    for name, predicted in forecasts.items():
        prices.plot(dates, predicted, linewidth=0.8, alpha=0.8, label=name)
        error = np.abs(np.asarray(predicted) - np.asarray(actual))
        span = min(20, len(error))
        errors.plot(dates[span - 1 :], np.convolve(error, np.ones(span) / span, mode="valid"), linewidth=0.9, label=name)
    prices.set_title(title)
    prices.set_ylabel("price")
    errors.set_ylabel("|error|, 20-day mean")
    for axes in (prices, errors):
        axes.grid(True, alpha=0.3)
        axes.legend(loc="upper left", fontsize=8)
    return _save(figure, path)


def _save(figure: Figure, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    return path
