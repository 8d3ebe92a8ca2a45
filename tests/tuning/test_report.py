"""What a search found: every trial in `study.json`'s record, the best ones ranked, and the printed table."""

from __future__ import annotations

from optuna.trial import TrialState

from tests.tuning.conftest import finished_study, reported_search
from toolkit.tuning.report import best_trial, format_counts, format_table, ranked, study_record

SEARCH = reported_search()

def test_trials_are_ranked_best_first_in_the_study_direction_ties_to_the_earlier():
    outcomes = [
        (TrialState.COMPLETE, 1.2), (TrialState.COMPLETE, 0.9), (TrialState.PRUNED, 0.5), (TrialState.COMPLETE, 0.9)
    ]
    assert [trial.number for trial in ranked(finished_study(outcomes))] == [1, 3, 0]
    assert [trial.number for trial in ranked(finished_study(outcomes, "maximize"))] == [0, 1, 3]
    assert best_trial(finished_study(outcomes)).number == 1


def test_no_best_trial_before_one_completes():
    assert best_trial(finished_study([(TrialState.PRUNED, 0.5), (TrialState.FAIL, None)])) is None


def test_the_record_holds_every_trial_its_values_metric_state_and_times(tmp_path):
    study = finished_study([(TrialState.COMPLETE, 1.01), (TrialState.PRUNED, 1.2), (TrialState.FAIL, None)])
    record = study_record(study, SEARCH, tmp_path, "journal.log", "best")
    assert record["metric"] == {
        "name": "headline.skill_vs_persistence", "split": "validation", "direction": "minimize",
        "meaning": SEARCH.metric.meaning, "watched_each_epoch": "val_mae",
    }
    assert record["counts"] == {"complete": 1, "pruned": 1, "failed": 1, "running": 0, "waiting": 0}
    assert record["best"]["run"] == "trial-0000" and record["best"]["validation"] == 1.01
    complete, pruned, failed = record["trials"]
    assert complete["state"] == "complete" and complete["validation"] == 1.01 and complete["epochs_trained"] == 3
    assert set(complete["values"]) == {"model.dropout", "features"} and isinstance(complete["values"]["features"], list)
    assert complete["started"] <= complete["finished"]
    assert pruned["state"] == "pruned" and pruned["validation"] == 1.2
    assert failed["state"] == "failed" and failed["failure"] == "the config refuses these values together"
    # No run directory of these trials is in tmp_path.
    assert [trial["model"] for trial in record["trials"]] == ["not here", "not here", "none"]


def test_the_table_shows_the_best_completed_trials_with_their_values():
    study = finished_study([(TrialState.COMPLETE, 1.01), (TrialState.PRUNED, 1.2), (TrialState.COMPLETE, 0.998)])
    lines = format_table(study, SEARCH).splitlines()
    assert lines[0].split() == [
        "rank", "trial", "validation", "headline.skill_vs_persistence", "epochs", "seconds", "model.dropout", "features",
    ]
    assert lines[1].split()[:5] == ["1", "trial-0002", "0.998", "3", "4"]
    assert lines[2].split()[:3] == ["2", "trial-0000", "1.01"] and len(lines) == 3
    assert '["log_' in lines[1]


def test_counts_say_how_many_of_the_wanted_trials_finished(tmp_path):
    study = finished_study([(TrialState.COMPLETE, 1.0), (TrialState.PRUNED, 1.2), (TrialState.FAIL, None)])
    record = study_record(study, SEARCH, tmp_path, "journal.log", "best")
    assert format_counts(record) == "2 of 20 trials finished (1 complete, 1 pruned, 1 failed)"
    assert format_table(finished_study([]), SEARCH) == "No trial has completed yet."
