"""The best trial beside the default config on the test split: reported once, after the search, and never used to choose.

The verdict uses the test each pipeline already reports its own baseline
with, the default config's predictions taking the baseline's place: McNemar's
test for a classifier, the Diebold-Mariano test of the forecast report
(skill as the MAE ratio, averaged over tickers) for a forecaster, and the
paired t-test over text streams for a language model. Captioning reports
corpus BLEU, which has no per-example test here: its numbers are given
without a verdict.
"""

from __future__ import annotations

import json
from pathlib import Path

from toolkit import api
from toolkit import config as config_lib
from toolkit.data.images import in_memory
from toolkit.data.splits import Split
from toolkit.evaluation import language_model
from toolkit.evaluation.classification import baseline_comparison
from toolkit.evaluation.forecast_report import REFERENCE, forecast_report
from toolkit.evaluation.forecasting import skill_verdict
from toolkit.evaluation.verdict import verdict_verb
from toolkit.models.classifier import Classifier
from toolkit.models.forecaster import PriceForecaster
from toolkit.models.text_generator import TextGenerator
from toolkit.registry import get_pipeline
from toolkit.run_directory import METRICS
from toolkit.trained_run import TrainedRun
from toolkit.tuning.metrics import ValidationMetric, read_metric, shown_metric
from toolkit.tuning.study_folder import has_models

AGAINST = "the default config"
NOTE = "Reported once, after the search, and never used to choose: trials are chosen on the validation split."


def compare_on_test(best_dir: Path, default_dir: Path, metric: ValidationMetric) -> dict:
    """The best trial's test metric beside the default config's, with a verdict on the same test examples.

    Args:
        best_dir: The best trial's run.
        default_dir: The default config's run, in the same study.
        metric: The validation metric the search chose by; its test value is compared.

    Returns:
        `metric`, `best_trial`, `best` and `default` (the test values);
        `verdict`, a sentence, and its `test` and `p_value` (`None` where no
        paired test could be made, `verdict` then saying why); each run's own
        verdict against its pipeline's baseline, `best_headline` and
        `default_headline`, where the pipeline reports one; and `note`.
    """
    best_metrics, default_metrics = _test_metrics(best_dir), _test_metrics(default_dir)
    result = {
        "metric": metric.name,
        "best_trial": best_dir.name,
        "best": read_metric(best_metrics, metric.name),
        "default": read_metric(default_metrics, metric.name),
        "verdict": None,
        "test": None,
        "p_value": None,
        "best_headline": _headline(best_metrics),
        "default_headline": _headline(default_metrics),
        "note": NOTE,
    }
    figures = f"test {metric.name} {shown_metric(result['best'])} against {shown_metric(result['default'])}"
    who = f"The best trial ({best_dir.name})"
    runs = (("the best trial", best_dir), ("the default run", default_dir))
    missing = [f"{label}'s model was removed" for label, path in runs if not has_models(path)]
    if missing:
        result["verdict"] = f"{who}: {figures}; no paired test, since {' and '.join(missing)}."
        return result
    best, default = api.load(best_dir), api.load(default_dir)
    if config_lib.to_dict(best.config.data) != config_lib.to_dict(default.config.data):
        result["verdict"] = (
            f"{who}: {figures}; no paired test, since the two read their data differently (a searched data key)."
        )
        return result
    test_split = get_pipeline(default.pipeline.name).load_data(default.config).test
    paired = _paired(best, default, test_split)
    if paired is None:
        result["verdict"] = (
            f"{who}: {figures}; this pipeline's metrics have no paired test, so the difference is not judged."
        )
        return result
    result.update(paired)
    result["verdict"] = f"{who} {paired['verdict']}"
    return result


def _paired(best: TrainedRun, default: TrainedRun, split: Split) -> dict | None:
    """The pipeline's own paired test of `best` against `default` on `split`: `test`, `p_value` and the verdict's words."""
    model = best.model
    if isinstance(model, Classifier):
        split = in_memory(split)  # images in files are read once, as the image pipeline's evaluation reads them
        predictions = [run.predict(split.inputs)["probabilities"].argmax(axis=-1) for run in (best, default)]
        compared = baseline_comparison(split.targets, predictions[0], predictions[1], AGAINST)
        verb = verdict_verb(compared["accuracy"] > compared["baseline_accuracy"], compared["p_value"])
        figures = (
            f"test accuracy {compared['accuracy']:.4f} against {compared['baseline_accuracy']:.4f} on the same "
            f"{compared['examples']} examples (McNemar p = {compared['p_value']:.2g})"
        )
        return {"test": "McNemar", "p_value": compared["p_value"], "verdict": f"{verb} {AGAINST}: {figures}{_tie(verb)}"}
    if isinstance(model, PriceForecaster):
        prices = {name: run.predict(split.inputs)["prices"] for name, run in (("model", best), (REFERENCE, default))}
        overall = forecast_report(split, prices)["overall"]["model"]
        skill, p_value = overall["skill_vs_persistence"], overall["p_value_vs_persistence"]
        return {
            "test": "Diebold-Mariano", "p_value": p_value,
            "verdict": f"{skill_verdict(skill, p_value, AGAINST)}, on the test split.",
        }
    if isinstance(model, TextGenerator):
        inputs, targets = language_model.evaluation_streams(model.character_ids(split.text))
        log2 = [language_model.network_log2_probabilities(run.network, inputs, targets) for run in (best, default)]
        compared = language_model.comparison(log2[0], log2[1], AGAINST)
        verb = verdict_verb(compared["bits_per_character"] < compared["baseline_bits_per_character"], compared["p_value"])
        figures = (
            f"{compared['bits_per_character']:.3f} against {compared['baseline_bits_per_character']:.3f} test bits per "
            f"character (paired t-test over {len(inputs)} streams, p = {compared['p_value']:.2g})"
        )
        verdict = f"{verb} {AGAINST}: {figures}{_tie(verb)}"
        return {"test": "paired t-test", "p_value": compared["p_value"], "verdict": verdict}
    return None


def _test_metrics(run_dir: Path) -> dict:
    return json.loads((run_dir / METRICS).read_text()).get("test", {})


def _headline(test: dict) -> str | None:
    headline = test.get("headline")
    return headline.get("verdict") if isinstance(headline, dict) else None


def _tie(verb: str) -> str:
    return ", not a significant difference." if verb == "ties" else "."
