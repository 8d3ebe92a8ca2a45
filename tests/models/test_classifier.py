"""Classifiers: serving by class name, new class names, and the branch ensemble (its head, fit plan and weights chosen on validation data)."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from toolkit.models.classifier import BranchEnsembleHead, Classifier, choose_branch_weights, head_like, softmax_head


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


def one_head_classifier() -> PairClassifier:
    pairs = keras.Input((2,), name="pairs")
    backbone = keras.Model(pairs, keras.layers.Dense(3, name="features")(pairs))
    return PairClassifier(backbone, softmax_head(2), ["low", "high"], limits={"max_batch": 8}, name="pairs_model")


def test_the_class_names_must_match_the_heads_units():
    backbone = one_head_classifier().backbone
    with pytest.raises(ValueError, match=r"^class_names: 3 names for a head of 2 classes\.$"):
        PairClassifier(backbone, softmax_head(2), ["a", "b", "c"])


def test_serving_gives_the_probabilities_the_highest_and_its_class_name():
    classifier = one_head_classifier()
    outputs = classifier.serve(np.array([[1.0, 2.0], [-3.0, 0.5], [0.0, 0.0]], "float32"))
    probabilities = outputs["probabilities"].numpy()
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(outputs["probability"], probabilities.max(axis=1))
    assert [label.decode() for label in outputs["label"].numpy()] == [["low", "high"][i] for i in probabilities.argmax(1)]
    assert classifier.get_config()["class_names"] == ["low", "high"]


def test_new_class_names_keep_the_head_if_their_count_is_the_same_and_get_a_new_one_if_not():
    classifier = one_head_classifier()
    renamed = classifier.with_classes(["small", "large"])
    assert renamed.head is classifier.head and renamed.class_names == ["small", "large"]
    assert renamed.limits == {"max_batch": 8} and renamed.name == "pairs_model" and renamed.backbone is classifier.backbone
    wider = classifier.with_classes(["a", "b", "c"])
    assert wider.head is not classifier.head and wider.head.units == 3
    assert wider.serve(np.zeros((1, 2), "float32"))["probabilities"].shape == (1, 3)
    branches = two_branch_classifier().with_classes(["a", "b", "c"])
    assert isinstance(branches.head, BranchEnsembleHead) and branches.head.branch_names == ["signal", "noise"]
    assert branches.head.units == 3


def test_a_classifier_with_branches_fits_each_alone_then_chooses_their_weights():
    classifier = two_branch_classifier()
    plan = classifier.fit_plan()
    assert list(plan.parts) == ["signal", "noise"]
    features = np.array([[1.0, -1.0]], "float32")
    # A branch alone is the softmax of its own logits: 2x for "high" and -2x for "low" of the number it reads.
    np.testing.assert_allclose(plan.parts["signal"](features), keras.ops.softmax(np.array([[-2.0, 2.0]])), rtol=1e-6)
    np.testing.assert_allclose(plan.parts["noise"](features), keras.ops.softmax(np.array([[2.0, -2.0]])), rtol=1e-6)
    plan.join(validation_data())
    assert classifier.head.weights_by_branch()["signal"] >= 0.9
    plan.join(None)  # no validation data: the weights stay as they are
    assert classifier.head.weights_by_branch()["signal"] >= 0.9
    single = one_head_classifier()
    assert single.branch_networks() == {} and list(single.fit_plan().parts) == ["network"]


def test_branch_probabilities_are_each_branchs_own_by_name_and_none_for_one_head():
    classifier = two_branch_classifier()
    pairs = np.random.default_rng(3).normal(size=(300, 2)).astype("float32")
    probabilities = classifier.branch_probabilities(pairs, batch_size=128)
    assert sorted(probabilities) == ["noise", "signal"] and probabilities["signal"].shape == (300, 2)
    np.testing.assert_allclose(probabilities["signal"][:, 1], 1 / (1 + np.exp(-4 * pairs[:, 0])), rtol=1e-5)
    assert one_head_classifier().branch_probabilities(pairs) == {}


def test_a_head_like_another_is_new_of_the_same_kind_for_the_new_count():
    head = head_like(softmax_head(2), 5)
    assert isinstance(head, keras.layers.Dense) and head.units == 5 and head.name == "head" and not head.built
    ensemble = head_like(BranchEnsembleHead(2, ["a", "b"], name="head"), 4)
    assert isinstance(ensemble, BranchEnsembleHead) and ensemble.branch_names == ["a", "b"] and ensemble.units == 4


def test_branch_weights_need_validation_batches():
    empty = tf.data.Dataset.from_tensor_slices((np.zeros((0, 2), "float32"), np.zeros(0, "int64"))).batch(4)
    with pytest.raises(ValueError, match=r"validation_data: no batches; the branch weights are chosen on validation examples\."):
        choose_branch_weights(two_branch_classifier(), empty)
