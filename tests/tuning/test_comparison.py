"""The best trial beside the default config on the test split: each pipeline's paired test, and the verdicts that
say why no paired test was made."""

from __future__ import annotations

import hashlib
import json
import shutil

import pytest

from toolkit.registry import get_pipeline
from toolkit.run_directory import CONFIG, MANIFEST, METRICS
from toolkit.tuning.comparison import compare_on_test
from toolkit.tuning.metrics import validation_metrics


def study_json(folder) -> dict:
    return json.loads((folder / "study.json").read_text())


@pytest.mark.slow
def test_a_smoke_search_of_the_image_classifier_compares_with_mcnemar(digits_study):
    record = study_json(digits_study.study_dir)
    assert record["counts"]["complete"] == 4 and record["metric"]["name"] == "accuracy"
    assert record["metric"]["direction"] == "maximize"
    assert digits_study.study.best_value == max(trial["validation"] for trial in record["trials"])
    comparison = record["test"]
    assert comparison["test"] == "McNemar"
    assert " the default config: test accuracy " in comparison["verdict"] and "(McNemar p = " in comparison["verdict"]
    assert comparison["best_headline"].startswith("The network ") and "HOG features" in comparison["best_headline"]
    assert (digits_study.study_dir / "best.yaml").is_file()


@pytest.mark.slow
def test_a_trial_whose_model_was_removed_is_compared_by_its_numbers_alone(stock_study):
    study_dir = stock_study["resumed"].study_dir
    metric = validation_metrics(get_pipeline("stock"))[0]
    removed = study_dir / "trial-0001"  # pruned, so its model was not kept
    assert not (removed / "model.keras").exists()
    result = compare_on_test(removed, study_dir / "default", metric)
    assert (result["test"], result["p_value"]) == (None, None)
    assert result["verdict"].startswith("The best trial (trial-0001): test headline.skill_vs_persistence ")
    assert result["verdict"].endswith("; no paired test, since the best trial's model was removed.")
    assert result["best"] == json.loads((removed / METRICS).read_text())["test"]["headline"]["skill_vs_persistence"]


@pytest.mark.slow
def test_two_runs_that_read_their_data_differently_are_not_paired(stock_study, tmp_path):
    study_dir = stock_study["resumed"].study_dir
    metric = validation_metrics(get_pipeline("stock"))[0]
    other = tmp_path / "other"
    shutil.copytree(stock_study["resumed"].best_run, other)
    config = other / CONFIG
    edited = config.read_text().replace("window: 11", "window: 12")
    assert "window: 12" in edited
    config.write_text(edited)
    # Recorded as written, so that the run reads back and only its data key differs.
    manifest = json.loads((other / MANIFEST).read_text())
    manifest["files"][CONFIG] = {"bytes": config.stat().st_size, "sha256": hashlib.sha256(config.read_bytes()).hexdigest()}
    (other / MANIFEST).write_text(json.dumps(manifest))
    result = compare_on_test(other, study_dir / "default", metric)
    assert result["test"] is None
    assert result["verdict"].endswith("; no paired test, since the two read their data differently (a searched data key).")
