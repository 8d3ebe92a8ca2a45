"""What every classification pipeline shares: loss, metrics, evaluation against the class names, and a classical baseline."""

from __future__ import annotations

import abc
from pathlib import Path

import keras
import numpy as np

from toolkit import progress
from toolkit.baselines.classical import ClassicalBaseline, FittedBaseline
from toolkit.data.labels import class_ids
from toolkit.data.splits import DataSplits, Split, inputs_and_targets
from toolkit.evaluation.classification import baseline_comparison, classification_metrics
from toolkit.evaluation.plots import plot_confusion_matrix
from toolkit.recipes.pipeline import Pipeline, plot_prefix


class ClassifierPipeline(Pipeline):
    """A pipeline whose task is a `Classifier`: a softmax over its `class_names`.

    Every run also fits the pipeline's classical `baseline` on the training
    split (its setting chosen on the validation split) and reports it beside
    the network on each held-out split, with McNemar's test.
    """

    @abc.abstractmethod
    def baseline(self) -> ClassicalBaseline:
        """The classical baseline every run of this pipeline is compared with."""

    def default_loss(self):
        return keras.losses.SparseCategoricalCrossentropy()

    def default_metrics(self) -> list:
        return [keras.metrics.SparseCategoricalAccuracy(name="accuracy")]

    def fine_tune_data(self, data, model) -> Split:
        """`(raw_inputs, labels)`, with labels as class names or ids of `model.class_names`."""
        inputs, labels = inputs_and_targets(data, f"({model.raw_input_spec().name}, labels)")
        return Split(model.raw_batch(inputs), class_ids(labels, model.class_names, "labels"))

    def evaluate_run(self, trained, data: DataSplits, plots_dir: Path | None = None) -> dict:
        """Each held-out split's metrics, with the baseline fitted on `data.train` beside the network under `baseline`."""
        with progress.step(f"{self.name}: fitting the classical baseline on the training split"):
            baseline = self.baseline().fit(data.train, data.validation)
        return {
            name: self.evaluate(trained, split, plots_dir, plot_prefix(name), baseline)
            for name, split in data.held_out().items()
        }

    def evaluate(
        self, trained, split: Split, plots_dir: Path | None = None, prefix: str = "", baseline: FittedBaseline | None = None
    ) -> dict:
        """The metrics of `trained` on `split`; with a fitted `baseline`, its comparison on the same examples too."""
        return self.classification_report(trained, split, plots_dir, prefix, baseline)[0]

    def classification_report(
        self, trained, split: Split, plots_dir: Path | None = None, prefix: str = "", baseline: FittedBaseline | None = None
    ) -> tuple[dict, np.ndarray]:
        """The metrics of `trained` on `split`, with the confusion-matrix plot; and the predicted class ids.

        With a `baseline`, the metrics gain `baseline` (what was fitted and its
        comparison with the network) and `headline` (both accuracies and the
        verdict). A classifier with branches also reports each branch's
        accuracy alone and its weight in the ensemble under `branches`.
        """
        class_names = trained.model.class_names
        probabilities = trained.predict(split.inputs)["probabilities"]
        result = classification_metrics(split.targets, probabilities, class_names)
        predictions = probabilities.argmax(axis=-1)
        branches = {
            name: {"accuracy": float(np.mean(branch.argmax(axis=-1) == split.targets))}
            for name, branch in trained.model.branch_probabilities(split.inputs).items()
        }
        if branches:
            for name, weight in trained.model.head.weights_by_branch().items():
                branches[name]["weight"] = weight
            result["branches"] = branches
        if baseline is not None:
            comparison = baseline_comparison(split.targets, predictions, baseline.predict(split.inputs), baseline.name)
            result["baseline"] = {**baseline.describe(), **comparison}
            result["headline"] = {
                key: comparison[key] for key in ("accuracy", "baseline_accuracy", "p_value", "verdict")
            }
            if branches:
                result["headline"]["branches"] = _branch_summary(result["accuracy"], branches)
        if plots_dir is not None:
            plot_confusion_matrix(result["confusion_matrix"], class_names, plots_dir / f"{prefix}confusion_matrix.png")
        return result, predictions


def _branch_summary(accuracy: float, branches: dict) -> str:
    """One sentence: each branch's accuracy alone, its weight, and what the others add to it in the ensemble."""
    alone = ", ".join(f"{name} alone {values['accuracy']:.4f}" for name, values in branches.items())
    weights = ", ".join(f"{name} {values['weight']:.2f}" for name, values in branches.items())
    gains = ", ".join(f"{(accuracy - values['accuracy']) * 100:+.2f} points over {name} alone" for name, values in branches.items())
    return f"Branches: {alone}; together, weighted {weights}, {accuracy:.4f} ({gains})."
