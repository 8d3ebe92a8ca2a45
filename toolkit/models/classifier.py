"""What every classifier task shares: a backbone, a softmax head over named classes, and its serving outputs."""

from __future__ import annotations

import itertools

import keras
import numpy as np
import tensorflow as tf

from toolkit.errors import TrainingDivergedError
from toolkit.models.task import FitPlan, TaskModel


def softmax_head(num_classes: int) -> keras.layers.Dense:
    """A new, unbuilt softmax layer over `num_classes` classes."""
    return keras.layers.Dense(num_classes, activation="softmax", name="head")


@keras.saving.register_keras_serializable(package="toolkit")
class BranchEnsembleHead(keras.layers.Layer):
    """A softmax over a weighted mean of each branch's own logits: an ensemble of branches in one layer.

    A backbone with several outputs (branches) that each see the input on
    their own, such as a recurrent network and a bag of n-grams, gets this
    head: each branch has a dense layer of logits of its own
    (`branch_logits`), and the prediction is the softmax of their mean,
    weighted by `branch_weights` (equal until `choose_branch_weights` sets
    them on validation data; a non-trainable weight, saved with the model).
    A branch with its own logits alone is a classifier by itself, which is
    how each branch is fitted alone (so that one that learns fast cannot
    starve one that learns slowly) and how the run reports what each adds.

    Args:
        units: Number of classes.
        branch_names: A name per branch, in the backbone's output order.
        **kwargs: Base layer keyword arguments, such as `name`.

    Call arguments:
        features: A list with each branch's feature vectors, `(batch, size)`.

    Returns:
        Class probabilities, `(batch, units)`.

    Example:

    >>> import numpy as np
    >>> from toolkit.models.classifier import BranchEnsembleHead
    >>> head = BranchEnsembleHead(2, ["words", "ngrams"])
    >>> tuple(head([np.ones((1, 3)), np.ones((1, 5))]).shape)
    (1, 2)
    >>> head.weights_by_branch()
    {'words': 0.5, 'ngrams': 0.5}
    """

    def __init__(self, units: int, branch_names: list[str], **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.branch_names = list(branch_names)
        self.branch_logits = [keras.layers.Dense(units, name=f"{name}_logits") for name in self.branch_names]

    def build(self, input_shape):
        if len(input_shape) != len(self.branch_logits):
            raise ValueError(f"{self.name}: {len(input_shape)} feature inputs for branches {self.branch_names}.")
        for dense, shape in zip(self.branch_logits, input_shape):
            dense.build(shape)
        count = len(self.branch_names)
        self.branch_weights = self.add_weight(
            shape=(count,), initializer=keras.initializers.Constant(1 / count), trainable=False, name="branch_weights"
        )

    def call(self, features):
        logits = keras.ops.stack([dense(branch) for dense, branch in zip(self.branch_logits, features)])
        # A dot product over the branches: the same sum as an einsum, which ONNX converters cannot all read.
        return keras.ops.softmax(keras.ops.tensordot(self.branch_weights, logits, axes=1))

    def load_own_variables(self, store):
        if self.built and len(store.keys()) == 0:
            # Saved by a toolkit 0.1 whose ensemble was the plain mean, before branch weights were chosen on validation.
            self.branch_weights.assign(np.full(len(self.branch_names), 1 / len(self.branch_names), "float32"))
            return
        super().load_own_variables(store)

    def weights_by_branch(self) -> dict[str, float]:
        """Each branch's weight in the ensemble, by name (rounded to 6 decimals: they are multiples of a grid step)."""
        weights = keras.ops.convert_to_numpy(self.branch_weights).tolist()
        return {name: round(weight, 6) for name, weight in zip(self.branch_names, weights)}

    def compute_output_shape(self, input_shape):
        return (input_shape[0][0], self.units)

    def get_config(self):
        return {**super().get_config(), "units": self.units, "branch_names": self.branch_names}


def choose_branch_weights(classifier: Classifier, validation_data: tf.data.Dataset, step: float = 0.05) -> dict[str, float]:
    """Sets the branch weights of `classifier`'s head to those whose ensemble has the least log loss on `validation_data`.

    A weighted mean of the branches' log-probabilities has the softmax of
    the same mean of their logits, so each branch's validation
    probabilities are computed once and every weighting on a grid of `step`
    over the simplex is scored from them; ties go to the first on the grid,
    which starts with all weight on the last branch. This is stacking with
    one setting per branch, chosen on held-out data as a baseline's `C` is.

    Args:
        classifier: A classifier whose head is a `BranchEnsembleHead`, its branches fitted.
        validation_data: Batches of `(preprocessed inputs, class ids)`, never trained on.
        step: The grid's spacing, a fraction of 1; each weight is a multiple of it.

    Returns:
        The chosen weight of each branch, by name.

    Raises:
        ValueError: For a `step` that is not a fraction of 1, or no validation batches.
    """
    steps = round(1 / step) if step > 0 else 0
    if steps < 1 or not np.isclose(steps * step, 1.0):
        raise ValueError(f"step: expected a fraction of 1 such as 0.05 or 0.1, got {step}.")
    branches = list(classifier.branch_networks().values())
    probabilities, targets = [[] for _ in branches], []
    for features, batch_targets in validation_data:  # once: a batch's outputs and targets stay together
        targets.append(np.asarray(batch_targets).reshape(-1))
        for network, outputs in zip(branches, probabilities):
            outputs.append(keras.ops.convert_to_numpy(network(features, training=False)))
    if not targets:
        raise ValueError("validation_data: no batches; the branch weights are chosen on validation examples.")
    log_probabilities = np.stack([np.log(np.clip(np.concatenate(outputs), 1e-12, 1.0)) for outputs in probabilities])
    targets = np.concatenate(targets).astype("int64")
    grid = [
        np.array(counts + (steps - sum(counts),)) / steps
        for counts in itertools.product(range(steps + 1), repeat=len(branches) - 1)
        if sum(counts) <= steps
    ]
    best_loss, best = np.inf, None
    for weights in grid:
        mixed = np.tensordot(weights, log_probabilities, axes=1)
        mixed -= mixed.max(axis=-1, keepdims=True)
        log_softmax = mixed - np.log(np.exp(mixed).sum(axis=-1, keepdims=True))
        loss = -np.mean(log_softmax[np.arange(len(targets)), targets])
        if loss < best_loss:
            best_loss, best = loss, weights
    if best is None:
        raise TrainingDivergedError(
            "the branches' validation probabilities are not finite numbers, so no branch weights can be chosen on "
            "them: a branch's training diverged. Lower trainer.learning_rate, or set trainer.clipnorm."
        )
    classifier.head.branch_weights.assign(best.astype("float32"))
    return classifier.head.weights_by_branch()


def head_like(head: keras.layers.Layer, num_classes: int) -> keras.layers.Layer:
    """A new, unbuilt head of the same kind as `head`, over `num_classes` classes."""
    if isinstance(head, BranchEnsembleHead):
        return BranchEnsembleHead(num_classes, head.branch_names, name=head.name)
    return softmax_head(num_classes)


class Classifier(TaskModel):
    """A backbone that ends in a feature vector, then a softmax head over `class_names`.

    The trainable network is the backbone's layers and the head in one flat
    functional model, so every backbone layer can be frozen by its name. A
    backbone with several outputs is a set of branches, whose head is a
    `BranchEnsembleHead`; `branch_networks` gives each branch's classifier alone.
    `serve` returns `probabilities` (one per class), `probability` (of the
    predicted class) and `label` (the predicted class name).

    Args:
        backbone: A functional model from the preprocessed input to a feature vector.
        head: A `Dense` softmax layer with one unit per class, or a
            `BranchEnsembleHead` for a backbone with several outputs.
        class_names: The name of each class, in the head's order.
        preprocessor: Raw inputs → the backbone's input, or `None`.
        **kwargs: Base model keyword arguments, such as `name`.
    """

    layer_arguments = ("backbone", "head", "preprocessor")

    def __init__(
        self,
        backbone: keras.Model,
        head: keras.layers.Dense | BranchEnsembleHead,
        class_names: list[str],
        preprocessor: keras.layers.Layer | None = None,
        **kwargs,
    ):
        if len(class_names) != head.units:
            raise ValueError(f"class_names: {len(class_names)} names for a head of {head.units} classes.")
        self.backbone = backbone
        self.head = head
        self.class_names = [str(name) for name in class_names]
        features = backbone.outputs[0] if len(backbone.outputs) == 1 else list(backbone.outputs)
        network = keras.Model(backbone.input, head(features), name="network")
        super().__init__(network, preprocessor, **kwargs)

    def with_classes(self, class_names: list[str]) -> Classifier:
        """The same classifier for new class names: its head is kept if their count is the same, else a new one."""
        head = self.head if len(class_names) == len(self.class_names) else head_like(self.head, len(class_names))
        return type(self)(self.backbone, head, class_names, self.preprocessor, limits=self.limits, name=self.name)

    def fit_plan(self) -> FitPlan:
        """Each branch fitted alone, then their weights chosen on the validation batches; else the one network."""
        branches = self.branch_networks()
        if not branches:
            return super().fit_plan()

        def join(validation_data: tf.data.Dataset | None) -> None:
            if validation_data is not None:
                choose_branch_weights(self, validation_data)

        return FitPlan(branches, join)

    def branch_networks(self) -> dict[str, keras.Model]:
        """Each branch's classifier alone, by name: the backbone's inputs → that branch → its own logits → softmax.

        They share their layers with this classifier, so fitting them fits
        it. A classifier without branches has none.
        """
        if not isinstance(self.head, BranchEnsembleHead):
            return {}
        branches = {}
        for name, logits, features in zip(self.head.branch_names, self.head.branch_logits, self.backbone.outputs):
            probabilities = keras.layers.Softmax(name=f"{name}_softmax")(logits(features))
            branches[name] = keras.Model(self.backbone.input, probabilities, name=f"{name}_branch")
        return branches

    def branch_probabilities(self, raw_inputs, batch_size: int = 256) -> dict[str, np.ndarray]:
        """Each branch's own class probabilities for a batch of raw inputs, by branch name; empty for one branch."""
        branches = self.branch_networks()
        outputs = {name: [] for name in branches}
        for start in range(0, len(raw_inputs) if branches else 0, batch_size):
            batch = raw_inputs[start : start + batch_size]
            features = batch if self.preprocessor is None else self.preprocessor(batch)
            for name, network in branches.items():
                outputs[name].append(keras.ops.convert_to_numpy(network(features, training=False)))
        return {name: np.concatenate(parts) for name, parts in outputs.items()}

    def serving_outputs(self, raw_inputs: tf.Tensor) -> dict[str, tf.Tensor]:
        probabilities = self(raw_inputs, training=False)
        return {
            "probabilities": probabilities,
            "probability": tf.reduce_max(probabilities, axis=-1),
            "label": tf.gather(tf.constant(self.class_names), tf.argmax(probabilities, axis=-1)),
        }

    def get_config(self) -> dict:
        return {**super().get_config(), "class_names": self.class_names}
