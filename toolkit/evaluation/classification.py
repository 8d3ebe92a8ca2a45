"""Classification metrics, from scikit-learn, and comparisons with a baseline, from SciPy."""

from __future__ import annotations

import numpy as np
from scipy import stats
from sklearn import metrics as sk_metrics

from toolkit.evaluation.verdict import verdict_verb


def classification_metrics(targets, probabilities, class_names: list[str]) -> dict:
    """Accuracy, F1, ROC-AUC, a per-class report and the confusion matrix.

    Args:
        targets: True class ids, shape `(n,)`.
        probabilities: Predicted class probabilities, shape `(n, classes)`.
        class_names: One name per class.

    Returns:
        A JSON-ready dict. With two classes, `f1` is the F1 of the second
        class and `roc_auc` uses its probability; with more, both are
        macro-averaged (ROC-AUC one-against-rest). ROC-AUC is `None` when a
        class has no examples among `targets`, and `roc_auc_undefined` then
        says which.
    """
    targets = np.asarray(targets).astype(int)
    probabilities = np.asarray(probabilities, dtype="float64")
    predictions = probabilities.argmax(axis=-1)
    labels = list(range(len(class_names)))
    binary = len(class_names) == 2
    roc_auc_undefined = _roc_auc_undefined(targets, class_names)
    result = {
        "examples": int(len(targets)),
        "accuracy": float(sk_metrics.accuracy_score(targets, predictions)),
        "f1": float(
            sk_metrics.f1_score(targets, predictions, labels=labels, average="binary" if binary else "macro", zero_division=0)
        ),
        "roc_auc": None if roc_auc_undefined else _roc_auc(targets, probabilities, labels),
        "per_class": sk_metrics.classification_report(
            targets, predictions, labels=labels, target_names=class_names, output_dict=True, zero_division=0
        ),
        "confusion_matrix": sk_metrics.confusion_matrix(targets, predictions, labels=labels).tolist(),
    }
    if roc_auc_undefined:
        result["roc_auc_undefined"] = roc_auc_undefined
    return result


def _roc_auc_undefined(targets: np.ndarray, class_names: list[str]) -> str | None:
    """Why ROC-AUC has no value on these targets, or `None` when it has one."""
    absent = [name for index, name in enumerate(class_names) if not np.any(targets == index)]
    if not absent:
        return None
    return f"ROC-AUC needs examples of every class, and this split has none of {', '.join(absent)}"


def _roc_auc(targets: np.ndarray, probabilities: np.ndarray, labels: list[int]) -> float:
    if len(labels) == 2:
        return float(sk_metrics.roc_auc_score(targets, probabilities[:, 1]))
    normalized = probabilities / probabilities.sum(axis=-1, keepdims=True)
    return float(sk_metrics.roc_auc_score(targets, normalized, labels=labels, multi_class="ovr", average="macro"))


def mcnemar_p_value(only_model_correct: int, only_baseline_correct: int) -> float:
    """Exact two-sided McNemar p-value that two classifiers are equally accurate on the same examples.

    Args:
        only_model_correct: Examples the model gets right and the baseline wrong.
        only_baseline_correct: Examples the baseline gets right and the model wrong.

    Returns:
        The p-value of a binomial test (SciPy's) that each is right on half of
        the examples they disagree on; 1 when they never disagree.
    """
    disagreements = only_model_correct + only_baseline_correct
    if disagreements == 0:
        return 1.0
    return float(stats.binomtest(only_model_correct, disagreements, 0.5).pvalue)


def baseline_comparison(
    targets: np.ndarray, predictions: np.ndarray, baseline_predictions: np.ndarray, baseline: str, alpha: float = 0.05
) -> dict:
    """The network beside a baseline on the same examples: both accuracies, McNemar's test and a verdict.

    Args:
        targets: True class ids of the examples, shape `(n,)`.
        predictions: The network's class ids for the same examples.
        baseline_predictions: The baseline's class ids for the same examples.
        baseline: The baseline's name, for the verdict.
        alpha: Significance level below which a difference is not a tie.

    Returns:
        `examples`, `accuracy` and `baseline_accuracy`; `only_model_correct`
        and `only_baseline_correct` (the disagreements McNemar's test counts);
        `p_value`; and `verdict`, a sentence saying whether the network beats,
        ties or loses to the baseline.
    """
    targets = np.asarray(targets).astype(int)
    correct = np.asarray(predictions) == targets
    baseline_correct = np.asarray(baseline_predictions) == targets
    only_model, only_baseline = int(np.sum(correct & ~baseline_correct)), int(np.sum(~correct & baseline_correct))
    accuracy, baseline_accuracy = float(correct.mean()), float(baseline_correct.mean())
    p_value = mcnemar_p_value(only_model, only_baseline)
    verb = verdict_verb(accuracy > baseline_accuracy, p_value, alpha)
    figures = f"accuracy {accuracy:.4f} against {baseline_accuracy:.4f} on the same {len(targets)} examples (McNemar p = {p_value:.2g})"
    verdict = f"The network {verb} {baseline}: {figures}" + (", not a significant difference." if verb == "ties" else ".")
    return {
        "examples": int(len(targets)),
        "accuracy": accuracy,
        "baseline_accuracy": baseline_accuracy,
        "only_model_correct": only_model,
        "only_baseline_correct": only_baseline,
        "p_value": p_value,
        "verdict": verdict,
    }
