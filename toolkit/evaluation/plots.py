"""Plots the pipelines write: learning curves, confusion matrices, forecasts, captions and attention maps."""

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


def plot_misclassified(
    images: np.ndarray, targets: np.ndarray, predictions: np.ndarray, class_names: list[str], path: str | Path, count: int = 25
) -> Path:
    """Saves a grid of the first `count` misclassified images, each titled "predicted (true)", as a PNG."""
    wrong = np.flatnonzero(np.asarray(predictions) != np.asarray(targets))[:count]
    columns = 5
    rows = max(1, int(np.ceil(len(wrong) / columns)))
    figure = Figure(figsize=(2.2 * columns, 2.4 * rows), layout="constrained")
    for position, index in enumerate(wrong, start=1):
        axes = figure.add_subplot(rows, columns, position)
        image = np.asarray(images[index])
        axes.imshow(image.squeeze(), cmap="gray" if image.ndim == 2 or image.shape[-1] == 1 else None, vmin=0, vmax=255)
        axes.set_title(f"{class_names[predictions[index]]}\n({class_names[targets[index]]})", fontsize=8)
        axes.axis("off")
    if not len(wrong):
        figure.text(0.5, 0.5, "no misclassified images", ha="center")
    figure.suptitle("predicted (true)")
    return _save(figure, path)


def plot_captions(images: np.ndarray, generated: list[str], references: list[str], path: str | Path) -> Path:
    """Saves a grid of images, each with its generated caption and one reference, as a PNG."""
    columns = 4
    rows = max(1, int(np.ceil(len(images) / columns)))
    figure = Figure(figsize=(3.4 * columns, 3.6 * rows), layout="constrained")
    for position, (image, caption, reference) in enumerate(zip(images, generated, references), start=1):
        axes = figure.add_subplot(rows, columns, position)
        axes.imshow(np.asarray(image).squeeze(), cmap="gray" if np.asarray(image).ndim == 2 else None)
        axes.set_title(f"{_wrap(caption)}\nref: {_wrap(reference)}", fontsize=7)
        axes.axis("off")
    return _save(figure, path)


def plot_attention(
    images: np.ndarray, words: list[list[str]], attention: np.ndarray, labels: list[str], path: str | Path
) -> Path:
    """Saves, per image, one row: the image, then the image under each generated word's attention map, as a PNG.

    Args:
        images: uint8 `(n, height, width, channels)`.
        words: The generated tokens of each image, `<end>` included, one per map.
        attention: `(n, steps, rows, columns)`: the weights with which each
            word was chosen; each map is stretched over the image.
        labels: A label per row, such as the split it comes from.
        path: The PNG to write.
    """
    columns = 1 + max(len(caption) for caption in words)
    figure = Figure(figsize=(1.5 * columns, 1.7 * len(images)), layout="constrained")
    for row, (image, caption, weights, label) in enumerate(zip(images, words, attention, labels, strict=True)):
        image = np.asarray(image)
        extent = (0, image.shape[1], image.shape[0], 0)
        axes = figure.add_subplot(len(images), columns, row * columns + 1)
        axes.imshow(image.squeeze(), cmap="gray" if image.shape[-1] == 1 else None)
        axes.set_title(label, fontsize=7)
        axes.axis("off")
        for step, word in enumerate(caption[: len(weights)]):
            axes = figure.add_subplot(len(images), columns, row * columns + step + 2)
            axes.imshow(image.squeeze(), cmap="gray" if image.shape[-1] == 1 else None)
            # Nearest-neighbour blocks show the grid the decoder attends over, each cell as it is.
            axes.imshow(weights[step], cmap="magma", alpha=0.6, extent=extent, interpolation="nearest",
                        vmin=0.0, vmax=max(float(weights[step].max()), 1e-6))
            axes.set_title(word, fontsize=8)
            axes.axis("off")
    return _save(figure, path)


def _wrap(text: str, width: int = 38) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(text, width)) or "(empty)"


def _save(figure: Figure, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    return path
