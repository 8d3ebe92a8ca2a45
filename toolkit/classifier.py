"""What every classification pipeline shares: loss, metrics, evaluation and serving outputs."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from toolkit.evaluation.classification import classification_metrics
from toolkit.evaluation.plots import plot_confusion_matrix
from toolkit.pipeline import Pipeline, Split


class ClassifierPipeline(Pipeline):
    """A pipeline whose network ends in a softmax over `metadata["class_names"]`.

    Its serving signature returns `probabilities` (one per class),
    `probability` (of the predicted class) and `label` (the predicted class
    name).
    """

    def default_loss(self, metadata: dict):
        return keras.losses.SparseCategoricalCrossentropy()

    def default_metrics(self, metadata: dict) -> list:
        return [keras.metrics.SparseCategoricalAccuracy(name="accuracy")]

    def serving_outputs(self, model: keras.Model, raw_inputs: tf.Tensor, metadata: dict) -> dict[str, tf.Tensor]:
        probabilities = model(raw_inputs, training=False)
        class_names = tf.constant(metadata["class_names"])
        return {
            "probabilities": probabilities,
            "probability": tf.reduce_max(probabilities, axis=-1),
            "label": tf.gather(class_names, tf.argmax(probabilities, axis=-1)),
        }

    def evaluate(self, task, split: Split, plots_dir: Path | None = None, prefix: str = "") -> dict:
        class_names = task.metadata["class_names"]
        probabilities = task.predict(split.inputs)["probabilities"]
        result = classification_metrics(split.targets, probabilities, class_names)
        if plots_dir is not None:
            plot_confusion_matrix(result["confusion_matrix"], class_names, plots_dir / f"{prefix}confusion_matrix.png")
            self.plot_examples(split, probabilities.argmax(axis=-1), class_names, plots_dir, prefix)
        return result

    def plot_examples(self, split: Split, predictions: np.ndarray, class_names: list[str], plots_dir: Path, prefix: str) -> None:
        """Writes plots of individual test examples with their predictions, if the inputs can be drawn; none by default."""
