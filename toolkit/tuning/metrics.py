"""The validation metrics a search may choose by, for each kind of task, and how each is read and watched.

A trial is judged on the validation split alone: `toolkit.run(...,
validation_metrics=True)` writes the pipeline's own evaluation of it under
`validation` in `metrics.json`, and a metric is a dotted path in that report
(`accuracy`, `headline.skill_vs_persistence`). Pruning cannot wait for that
report: each epoch it watches a Keras log of the same quality instead.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from toolkit.models.captioner import Captioner
from toolkit.models.classifier import Classifier
from toolkit.models.forecaster import PriceForecaster
from toolkit.models.text_generator import TextGenerator

Direction = Literal["maximize", "minimize"]


@dataclass(frozen=True)
class ValidationMetric:
    """A number of the validation report that a search may optimise.

    Attributes:
        name: Its dotted path in the pipeline's evaluation of a split.
        direction: Whether a higher (`maximize`) or lower value is better.
        epoch_log: The Keras log that pruning watches after each epoch, on
            the validation batches: the same quality, or the nearest one
            Keras computes.
        epoch_direction: Whether a higher or lower `epoch_log` is better.
        meaning: What it is, for messages and the docs.
    """

    name: str
    direction: Direction
    epoch_log: str
    epoch_direction: Direction
    meaning: str


_CLASSIFIER = (
    ValidationMetric("accuracy", "maximize", "val_accuracy", "maximize", "the share of examples classified right"),
    ValidationMetric("f1", "maximize", "val_accuracy", "maximize", "F1 (macro over classes for more than two)"),
    ValidationMetric("roc_auc", "maximize", "val_accuracy", "maximize", "ROC-AUC (one against the rest for more than two)"),
)
_FORECASTER = (
    ValidationMetric(
        "headline.skill_vs_persistence", "minimize", "val_mae", "minimize",
        "the model's MAE over persistence's on the same days, averaged over tickers",
    ),
    ValidationMetric("overall.model.mae", "minimize", "val_mae", "minimize", "the MAE of the price, every ticker pooled"),
    ValidationMetric("overall.model.rmse", "minimize", "val_mae", "minimize", "the RMSE of the price, every ticker pooled"),
    ValidationMetric("overall.model.mase", "minimize", "val_mae", "minimize", "MASE, averaged over tickers"),
    ValidationMetric(
        "overall.model.directional_accuracy", "maximize", "val_mae", "minimize",
        "the share of days whose move the forecast got the sign of",
    ),
)
_LANGUAGE_MODEL = (
    ValidationMetric("bits_per_character", "minimize", "val_bits_per_character", "minimize", "bits per character"),
)
_CAPTIONER = (
    ValidationMetric(
        "token_accuracy", "maximize", "val_token_accuracy", "maximize", "teacher-forced next-word accuracy"
    ),
    *(
        ValidationMetric(
            f"{decoding}.bleu_{order}", "maximize", "val_token_accuracy", "maximize",
            f"corpus BLEU-{order} of the {decoding} captions",
        )
        for decoding in ("beam", "greedy")
        for order in (1, 2, 3, 4)
    ),
)
# By the task a pipeline trains; the first of each is its default.
_BY_TASK = (
    (Classifier, _CLASSIFIER), (PriceForecaster, _FORECASTER), (TextGenerator, _LANGUAGE_MODEL), (Captioner, _CAPTIONER)
)


def validation_metrics(pipeline) -> tuple[ValidationMetric, ...]:
    """The validation metrics `pipeline` reports, its default first; empty for a task toolkit does not know."""
    for task_class, metrics in _BY_TASK:
        if issubclass(pipeline.task_class, task_class):
            return metrics
    return ()


def read_metric(report: dict, name: str) -> float | None:
    """The number at dotted path `name` in `report`; `None` if it is missing, not a number, or not finite."""
    value = report
    for part in name.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return float(value)


def shown_metric(value: float | None, missing: str = "undefined") -> str:
    """A metric's value as the search's lines and verdicts show it: 4 significant digits, or `missing` for `None`."""
    return missing if value is None else f"{value:.4g}"
