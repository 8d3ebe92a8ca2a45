"""A classifier's branch ensemble: the head's weighted mean of logits, and weights chosen on validation data."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from toolkit.models.classifier import BranchEnsembleHead, Classifier, choose_branch_weights


class PairClassifier(Classifier):
    """Classifies pairs of numbers `(signal, noise)`."""

    def raw_input_spec(self) -> tf.TensorSpec:
        return tf.TensorSpec([None, 2], tf.float32, name="pairs")


def two_branch_classifier() -> Classifier:
    """Branch `signal` reads the number that decides the class, branch `noise` the one that does not."""
    pairs = keras.Input((2,), name="pairs")
    signal, noise = (keras.layers.Dense(1, use_bias=False, trainable=False, name=name) for name in ("signal", "noise"))
    backbone = keras.Model(pairs, [signal(pairs), noise(pairs)])
    signal.set_weights([np.array([[1.0], [0.0]], "float32")])
    noise.set_weights([np.array([[0.0], [1.0]], "float32")])
    head = BranchEnsembleHead(2, ["signal", "noise"])
    classifier = PairClassifier(backbone, head, ["low", "high"])
    for dense in head.branch_logits:  # logits -2x and 2x: each branch says "high" for a positive number
        dense.set_weights([np.array([[-2.0, 2.0]], "float32"), np.zeros(2, "float32")])
    return classifier


def validation_data(decides: int = 0, count: int = 512) -> tf.data.Dataset:
    pairs = np.random.default_rng(0).normal(size=(count, 2)).astype("float32")
    targets = (pairs[:, decides] > 0).astype("int64")
    return tf.data.Dataset.from_tensor_slices((pairs, targets)).batch(64)


def test_the_head_is_the_softmax_of_the_weighted_mean_of_the_branch_logits():
    classifier = two_branch_classifier()
    features = np.array([[1.0, -0.5]], "float32")
    assert classifier.head.weights_by_branch() == {"signal": 0.5, "noise": 0.5}
    np.testing.assert_allclose(classifier.network(features), keras.ops.softmax(np.array([[-0.5, 0.5]])), rtol=1e-6)
    classifier.head.branch_weights.assign([1.0, 0.0])
    np.testing.assert_allclose(classifier.network(features), keras.ops.softmax(np.array([[-2.0, 2.0]])), rtol=1e-6)


def test_weights_are_chosen_on_validation_data_for_the_branch_that_predicts():
    classifier = two_branch_classifier()
    weights = choose_branch_weights(classifier, validation_data())
    assert weights["signal"] >= 0.9 and np.isclose(sum(weights.values()), 1.0)
    assert classifier.head.weights_by_branch() == weights
    # Refitted on data where the other branch decides, the choice follows the data.
    assert choose_branch_weights(classifier, validation_data(decides=1))["noise"] >= 0.9


def test_the_chosen_weights_are_saved_with_the_model(tmp_path):
    classifier = two_branch_classifier()
    choose_branch_weights(classifier, validation_data())
    path = tmp_path / "classifier.keras"
    classifier.save(path)
    restored = keras.saving.load_model(path, custom_objects={"PairClassifier": PairClassifier})
    assert restored.head.weights_by_branch() == classifier.head.weights_by_branch() != {"signal": 0.5, "noise": 0.5}


def test_a_grid_step_that_is_not_a_fraction_of_one_is_refused():
    for step in (0.3, 0.0, 2.0):
        with pytest.raises(ValueError, match=rf"step: expected a fraction of 1 such as 0.05 or 0.1, got {step}"):
            choose_branch_weights(two_branch_classifier(), validation_data(), step=step)


def test_branch_weights_on_non_finite_validation_probabilities_are_refused_with_advice():
    from toolkit.errors import TrainingDivergedError

    classifier = two_branch_classifier()
    for weight in classifier.head.branch_logits[0].weights:
        weight.assign(np.full(weight.shape, np.nan, "float32"))
    for weight in classifier.head.branch_logits[1].weights:
        weight.assign(np.full(weight.shape, np.nan, "float32"))
    with pytest.raises(TrainingDivergedError, match="no branch weights can be chosen on them: a branch's training diverged"):
        choose_branch_weights(classifier, validation_data())
