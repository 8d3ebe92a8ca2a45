"""Classification metrics, from scikit-learn."""

from __future__ import annotations

import numpy as np
from sklearn import metrics as sk_metrics


def classification_metrics(targets, probabilities, class_names: list[str]) -> dict:
    """Accuracy, F1, ROC-AUC, a per-class report and the confusion matrix.

    Args:
        targets: True class ids, shape `(n,)`.
        probabilities: Predicted class probabilities, shape `(n, classes)`.
        class_names: One name per class.

    Returns:
        A JSON-ready dict. With two classes, `f1` is the F1 of the second
        class and `roc_auc` uses its probability; with more, both are
        macro-averaged (ROC-AUC one-against-rest).
    """
    targets = np.asarray(targets).astype(int)
    probabilities = np.asarray(probabilities, dtype="float64")
    predictions = probabilities.argmax(axis=-1)
    labels = list(range(len(class_names)))
    binary = len(class_names) == 2
    result = {
        "examples": int(len(targets)),
        "accuracy": float(sk_metrics.accuracy_score(targets, predictions)),
        "f1": float(
            sk_metrics.f1_score(targets, predictions, labels=labels, average="binary" if binary else "macro", zero_division=0)
        ),
        "roc_auc": _roc_auc(targets, probabilities, labels),
        "per_class": sk_metrics.classification_report(
            targets, predictions, labels=labels, target_names=class_names, output_dict=True, zero_division=0
        ),
        "confusion_matrix": sk_metrics.confusion_matrix(targets, predictions, labels=labels).tolist(),
    }
    return result


def _roc_auc(targets: np.ndarray, probabilities: np.ndarray, labels: list[int]) -> float | None:
    try:
        if len(labels) == 2:
            return float(sk_metrics.roc_auc_score(targets, probabilities[:, 1]))
        normalized = probabilities / probabilities.sum(axis=-1, keepdims=True)
        return float(sk_metrics.roc_auc_score(targets, normalized, labels=labels, multi_class="ovr", average="macro"))
    except ValueError:
        return None  # undefined when a class is absent from the targets
