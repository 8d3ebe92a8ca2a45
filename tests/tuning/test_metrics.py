"""The validation metrics each pipeline offers a search, and reading one from a report."""

from __future__ import annotations

import math

import pytest

from toolkit.registry import get_pipeline
from toolkit.tuning.metrics import read_metric, validation_metrics


@pytest.mark.parametrize(
    ("pipeline", "default", "direction", "epoch_log"),
    [
        ("sentiment", "accuracy", "maximize", "val_accuracy"),
        ("image_classification", "accuracy", "maximize", "val_accuracy"),
        ("stock", "headline.skill_vs_persistence", "minimize", "val_mae"),
        ("text_generation", "bits_per_character", "minimize", "val_bits_per_character"),
        ("captioning", "token_accuracy", "maximize", "val_token_accuracy"),
    ],
)
def test_each_pipeline_has_a_default_validation_metric_and_a_log_to_prune_on(pipeline, default, direction, epoch_log):
    first = validation_metrics(get_pipeline(pipeline))[0]
    assert (first.name, first.direction, first.epoch_log) == (default, direction, epoch_log)


def test_a_task_toolkit_does_not_know_has_no_metrics():
    class Unknown:
        task_class = object

    assert validation_metrics(Unknown()) == ()


def test_the_stock_metrics_read_the_forecast_report_and_watch_the_validation_mae():
    metrics = {metric.name: metric for metric in validation_metrics(get_pipeline("stock"))}
    assert metrics["overall.model.directional_accuracy"].direction == "maximize"
    assert metrics["overall.model.directional_accuracy"].epoch_direction == "minimize"
    assert {metric.epoch_log for metric in metrics.values()} == {"val_mae"}


def test_read_metric_follows_a_dotted_path_and_refuses_what_is_not_a_finite_number():
    report = {
        "accuracy": 0.9, "headline": {"skill_vs_persistence": 0.99, "verdict": "ties"}, "roc_auc": None, "bad": math.nan,
    }
    assert read_metric(report, "accuracy") == 0.9
    assert read_metric(report, "headline.skill_vs_persistence") == 0.99
    for missing in ("headline.verdict", "roc_auc", "bad", "f1", "accuracy.value", "headline"):
        assert read_metric(report, missing) is None
