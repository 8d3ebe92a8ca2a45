"""The classifier recipe: its loss and metrics, labels by name or id, and each held-out split reported beside a baseline."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import FunctionTransformer

from toolkit.baselines.classical import ClassicalBaseline
from toolkit.data.splits import DataSplits, Split
from toolkit.errors import InputError
from toolkit.models.classifier import BranchEnsembleHead, Classifier, softmax_head
from toolkit.recipes.classification import ClassifierPipeline, _branch_summary
from toolkit.trained_run import TrainedRun

CLASSES = ["low", "high"]


class PairClassifier(Classifier):
    """Classifies pairs of numbers: "high" where the first is above 0."""

    def raw_input_spec(self) -> tf.TensorSpec:
        return tf.TensorSpec([None, 2], tf.float32, name="pairs")

    def raw_batch(self, raw_inputs) -> np.ndarray:
        return np.asarray(raw_inputs, "float32")


class PairPipeline(ClassifierPipeline):
    name = "pairs"

    def load_data(self, config):
        raise NotImplementedError

    def build_task(self, config, data, preprocessor):
        raise NotImplementedError

    def baseline(self) -> ClassicalBaseline:
        # Reads the second number only, which says nothing of the class: a baseline the network beats.
        return ClassicalBaseline("the second number + logistic regression", lambda: FunctionTransformer(lambda x: x[:, 1:]),
                                 lambda c: LogisticRegression(C=c), (1.0, 0.01))


def first_number_classifier() -> PairClassifier:
    pairs = keras.Input((2,), name="pairs")
    reader = keras.layers.Dense(1, use_bias=False, name="reader")
    backbone = keras.Model(pairs, reader(pairs))
    reader.set_weights([np.array([[1.0], [0.0]], "float32")])
    head = softmax_head(2)
    classifier = PairClassifier(backbone, head, CLASSES)
    head.set_weights([np.array([[-5.0, 5.0]], "float32"), np.zeros(2, "float32")])
    return classifier


def pairs(count: int, seed: int, flip: float = 0.0) -> Split:
    rng = np.random.default_rng(seed)
    inputs = rng.normal(size=(count, 2)).astype("float32")
    targets = (inputs[:, 0] > 0).astype("int64")
    flipped = rng.random(count) < flip
    return Split(inputs, np.where(flipped, 1 - targets, targets))


def test_the_loss_and_metric_are_sparse_categorical():
    pipeline = PairPipeline()
    assert isinstance(pipeline.default_loss(), keras.losses.SparseCategoricalCrossentropy)
    assert [metric.name for metric in pipeline.default_metrics()] == ["accuracy"]


def test_fine_tune_data_takes_labels_as_names_or_ids_and_refuses_a_file_or_an_unknown_label():
    pipeline, model = PairPipeline(), first_number_classifier()
    split = pipeline.fine_tune_data(([[1, 2], [3, 4]], ["high", "low"]), model)
    assert split.inputs.dtype == np.float32 and split.targets.tolist() == [1, 0]
    assert pipeline.fine_tune_data(([[1, 2]], [1]), model).targets.tolist() == [1]
    with pytest.raises(InputError, match=r"data: pairs.csv is a file, but this pipeline takes \(pairs, labels\) here"):
        pipeline.fine_tune_data("pairs.csv", model)
    with pytest.raises(InputError, match=r"labels: 'medium' is not a class name; the classes are low, high\."):
        pipeline.fine_tune_data(([[1, 2]], ["medium"]), model)


def test_each_held_out_split_is_reported_beside_the_baseline_fitted_on_train(tmp_path):
    pipeline = PairPipeline()
    trained = TrainedRun(pipeline, None, first_number_classifier())
    data = DataSplits(pairs(200, 0), pairs(100, 1), pairs(100, 2), extra_tests={"held_out": pairs(50, 3, flip=1.0)})
    metrics = pipeline.evaluate_run(trained, data, tmp_path)
    assert sorted(metrics) == ["held_out", "test"]
    test = metrics["test"]
    assert test["accuracy"] == 1.0 and test["examples"] == 100
    assert test["headline"]["accuracy"] == 1.0 and test["headline"]["baseline_accuracy"] < 0.7
    assert test["headline"]["verdict"].startswith("The network beats the second number + logistic regression: ")
    assert test["baseline"]["name"] == "the second number + logistic regression"
    assert set(test["baseline"]["validation_accuracy_by_c"]) == {"1.0", "0.01"}
    assert metrics["held_out"]["accuracy"] == 0.0, "every held-out label flipped"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["confusion_matrix.png", "held_out_confusion_matrix.png"]
    assert "branches" not in test


def test_a_report_gives_the_predictions_and_without_a_baseline_no_comparison():
    pipeline = PairPipeline()
    trained = TrainedRun(pipeline, None, first_number_classifier())
    split = pairs(20, 4)
    result, predictions = pipeline.classification_report(trained, split)
    np.testing.assert_array_equal(predictions, split.targets)
    assert "baseline" not in result and "headline" not in result
    assert pipeline.evaluate(trained, split) == result


def branch_classifier() -> PairClassifier:
    """Branch `first` reads the number that decides, `second` the other."""
    inputs = keras.Input((2,), name="pairs")
    first, second = (keras.layers.Dense(1, use_bias=False, name=name) for name in ("first", "second"))
    backbone = keras.Model(inputs, [first(inputs), second(inputs)])
    first.set_weights([np.array([[1.0], [0.0]], "float32")])
    second.set_weights([np.array([[0.0], [1.0]], "float32")])
    head = BranchEnsembleHead(2, ["first", "second"], name="head")
    classifier = PairClassifier(backbone, head, CLASSES)
    for dense in head.branch_logits:
        dense.set_weights([np.array([[-5.0, 5.0]], "float32"), np.zeros(2, "float32")])
    head.branch_weights.assign([0.8, 0.2])
    return classifier


def test_branches_are_reported_alone_with_their_weights_and_summed_up_in_the_headline():
    pipeline = PairPipeline()
    trained = TrainedRun(pipeline, None, branch_classifier())
    data = DataSplits(pairs(200, 0), pairs(100, 1), pairs(200, 2))
    test = pipeline.evaluate_run(trained, data)["test"]
    branches = test["branches"]
    assert branches["first"]["accuracy"] == 1.0 and 0.3 < branches["second"]["accuracy"] < 0.7
    assert (branches["first"]["weight"], branches["second"]["weight"]) == (0.8, 0.2)
    assert test["headline"]["branches"] == _branch_summary(test["accuracy"], branches)


def test_the_branch_summary_says_what_each_alone_scores_and_what_the_others_add():
    summary = _branch_summary(0.75, {"words": {"accuracy": 0.5, "weight": 0.25}, "ngrams": {"accuracy": 0.7, "weight": 0.75}})
    assert summary == ("Branches: words alone 0.5000, ngrams alone 0.7000; together, weighted words 0.25, ngrams 0.75, "
                       "0.7500 (+25.00 points over words alone, +5.00 points over ngrams alone).")
