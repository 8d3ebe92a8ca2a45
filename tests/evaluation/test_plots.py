"""The plots: each writes a PNG (making its folder) whose size follows what it shows, panels by metric, rows by image."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from toolkit.evaluation import plots

DPI = 110


def size_of(path) -> tuple[int, int]:
    with Image.open(path) as image:
        assert image.format == "PNG"
        assert len(image.convert("RGB").getcolors(maxcolors=1 << 24)) > 2, "something was drawn"
        return image.size


def test_learning_curves_have_one_panel_per_metric_without_validation_or_learning_rate_panels(tmp_path):
    history = {"loss": [1.0, 0.5], "val_loss": [1.1, 0.7], "accuracy": [0.5, 0.8], "val_accuracy": [0.4, 0.7],
               "learning_rate": [1e-3, 1e-3]}
    path = plots.plot_learning_curves(history, tmp_path / "new" / "folder" / "curves.png")
    assert path == tmp_path / "new" / "folder" / "curves.png"
    assert size_of(path) == (round(2 * 4.5 * DPI), round(3.5 * DPI))  # two panels: loss, accuracy
    one = plots.plot_learning_curves({"loss": [1.0]}, tmp_path / "one.png")
    assert size_of(one) == (round(4.5 * DPI), round(3.5 * DPI))


def test_a_confusion_matrix_grows_with_its_classes(tmp_path):
    small = plots.plot_confusion_matrix(np.array([[3, 1], [0, 4]]), ["cat", "dog"], tmp_path / "small.png")
    assert size_of(small) == (4 * DPI, 4 * DPI)  # at least 4 inches
    names = [f"class {index}" for index in range(10)]
    large = plots.plot_confusion_matrix(np.eye(10, dtype=int) * 7, names, tmp_path / "large.png")
    assert size_of(large) == (8 * DPI, 8 * DPI)  # 0.6 inch per class + 2


def test_misclassified_images_fill_rows_of_five_up_to_count(tmp_path):
    images = np.random.default_rng(0).integers(0, 256, (40, 8, 8), dtype=np.uint8)
    targets = np.zeros(40, int)
    predictions = np.r_[np.ones(7, int), np.zeros(33, int)]  # seven wrong: two rows
    two_rows = plots.plot_misclassified(images, targets, predictions, ["a", "b"], tmp_path / "two.png")
    assert size_of(two_rows) == (round(5 * 2.2 * DPI), round(2 * 2.4 * DPI))
    all_wrong = plots.plot_misclassified(images, targets, np.ones(40, int), ["a", "b"], tmp_path / "all.png", count=25)
    assert size_of(all_wrong)[1] == round(5 * 2.4 * DPI)  # 25 of the 40 shown
    none_wrong = plots.plot_misclassified(images, targets, targets, ["a", "b"], tmp_path / "none.png")
    assert size_of(none_wrong)[1] == round(2.4 * DPI)  # one row that says so


def test_forecasts_and_captions(tmp_path):
    dates = np.arange(30)
    actual = 100 + np.cumsum(np.ones(30))
    forecast = plots.plot_forecast(dates, actual, {"model": actual + 1, "persistence": actual - 1}, tmp_path / "f.png", "IBM")
    assert size_of(forecast) == (10 * DPI, 6 * DPI)
    images = np.full((5, 16, 16, 3), 200, np.uint8)
    captions = plots.plot_captions(images, ["a red circle"] * 4 + [""], ["a red circle"] * 5, tmp_path / "c.png")
    assert size_of(captions) == (round(4 * 3.4 * DPI), round(2 * 3.6 * DPI))  # columns of four: two rows


def test_attention_maps_have_one_row_per_image_and_a_column_per_word(tmp_path):
    images = np.full((2, 16, 16, 3), 120, np.uint8)
    attention = np.random.default_rng(0).random((2, 4, 2, 2))
    words = [["a", "red", "circle", "<end>"], ["a", "<end>"]]
    path = plots.plot_attention(images, words, attention, ["test", "held_out"], tmp_path / "attention.png")
    assert size_of(path) == (round(5 * 1.5 * DPI), round(2 * 1.7 * DPI))  # the image and four words
    with pytest.raises(ValueError, match="zip"):  # a label missing for an image is refused, not dropped
        plots.plot_attention(images, words, attention, ["test"], tmp_path / "bad.png")
