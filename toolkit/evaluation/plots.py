"""Plots every pipeline writes: learning curves and confusion matrices."""

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


def _save(figure: Figure, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    return path
