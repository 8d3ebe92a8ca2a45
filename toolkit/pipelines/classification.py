"""What every classification pipeline shares: loss, metrics and evaluation against the class names."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np

from toolkit.data.labels import class_ids
from toolkit.data.splits import Split
from toolkit.evaluation.classification import classification_metrics
from toolkit.evaluation.plots import plot_confusion_matrix
from toolkit.pipelines.base import Pipeline


class ClassifierPipeline(Pipeline):
    """A pipeline whose task is a `Classifier`: a softmax over its `class_names`."""

    def default_loss(self):
        return keras.losses.SparseCategoricalCrossentropy()

    def default_metrics(self) -> list:
        return [keras.metrics.SparseCategoricalAccuracy(name="accuracy")]

    def fine_tune_data(self, data, model) -> Split:
        """`(raw_inputs, labels)`, with labels as class names or ids of `model.class_names`."""
        inputs, labels = data
        return Split(model.raw_batch(inputs), class_ids(labels, model.class_names, "labels"))

    def evaluate(self, task, split: Split, plots_dir: Path | None = None, prefix: str = "") -> dict:
        return self.classification_report(task, split, plots_dir, prefix)[0]

    def classification_report(
        self, task, split: Split, plots_dir: Path | None = None, prefix: str = ""
    ) -> tuple[dict, np.ndarray]:
        """The metrics of `task` on `split`, with the confusion-matrix plot; and the predicted class ids."""
        class_names = task.model.class_names
        probabilities = task.predict(split.inputs)["probabilities"]
        result = classification_metrics(split.targets, probabilities, class_names)
        if plots_dir is not None:
            plot_confusion_matrix(result["confusion_matrix"], class_names, plots_dir / f"{prefix}confusion_matrix.png")
        return result, probabilities.argmax(axis=-1)
