"""`toolkit tune` and `toolkit.tune`: smoke searches of two pipelines, resuming, two processes on one journal, a killed
process, what stays on disk, `best.yaml` reproduced, and each bad input refused with one message and status 2."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pytest
from optuna.storages import JournalStorage
from optuna.storages.journal import JournalFileBackend
from optuna.trial import TrialState

import toolkit
from tests.tuning.conftest import TINY_STOCK, search_config, tiny_stock_search, write_yaml
from toolkit import run_directory
from toolkit.errors import InputError
from toolkit.tuning import study_folder
from toolkit.tuning.heartbeat import FAILURE, HOST
from toolkit.tuning.objective import CONFIG
from toolkit.tuning.search import tune
from toolkit.tuning.search_config import load_search
from toolkit.tuning.storage import open_storage, open_study
from toolkit_cli import run as main

ROOT = Path(__file__).resolve().parents[2]
PNG = b"\x89PNG\r\n\x1a\n"


def study_json(folder: Path) -> dict:
    return json.loads((folder / "study.json").read_text())


@pytest.mark.slow
def test_resuming_adds_trials_to_the_same_study(stock_study):
    first, resumed = stock_study["first"], stock_study["resumed"]
    assert (first.trials_run, resumed.trials_run) == (2, 2)
    assert first.study_dir == resumed.study_dir == stock_study["output"] / "stock" / "tiny_stock"
    record = study_json(resumed.study_dir)
    assert [trial["number"] for trial in record["trials"]] == [0, 1, 2, 3]
    assert all(trial["state"] in ("complete", "pruned") for trial in record["trials"])
    # The first call's trials, as it recorded them; only whether a model is kept may have changed since.
    assert [{**trial, "model": None} for trial in record["trials"][:2]] == [
        {**trial, "model": None} for trial in first.record["trials"]
    ]
    assert sorted(path.name for path in resumed.study_dir.glob("journal*")) == ["journal.log"]


@pytest.mark.slow
def test_the_trial_at_the_learning_rate_that_does_not_learn_is_pruned_and_stays_an_ordinary_run(stock_study):
    record = study_json(stock_study["resumed"].study_dir)
    pruned = record["trials"][1]
    assert pruned["values"]["trainer.learning_rate"] == 1e-6
    assert (pruned["state"], pruned["pruned_at_epoch"], pruned["epochs_trained"]) == ("pruned", 1, 1)
    run_dir = stock_study["resumed"].study_dir / "trial-0001"
    assert (run_dir / "config.yaml").is_file() and (run_dir / "metrics.json").is_file()
    assert json.loads((run_dir / "metrics.json").read_text())["epochs_trained"] == 1
    complete = [trial for trial in stock_study["resumed"].study.trials if trial.state == TrialState.COMPLETE]
    assert all(sorted(trial.intermediate_values) == [0, 1, 2] for trial in complete)


@pytest.mark.slow
def test_keep_best_leaves_every_trials_config_and_metrics_and_the_best_trials_models(stock_study):
    result = stock_study["resumed"]
    complete = [trial for trial in result.record["trials"] if trial["state"] == "complete"]
    complete.sort(key=lambda trial: trial["validation"])
    best = {trial["run"] for trial in complete[: study_folder.KEPT_BEST]}
    assert result.best_run.name == complete[0]["run"]
    for trial in result.record["trials"]:
        run_dir = result.study_dir / trial["run"]
        assert (run_dir / "config.yaml").is_file() and (run_dir / "metrics.json").is_file()
        assert study_folder.has_models(run_dir) is (trial["run"] in best)
        assert trial["model"] == ("kept" if trial["run"] in best else "removed")
    assert result.record["counts"]["pruned"] >= 1


@pytest.mark.slow
def test_best_yaml_reproduces_the_best_trial_as_an_ordinary_run(stock_study, tmp_path):
    result = stock_study["resumed"]
    assert result.best_config == result.study_dir / "best.yaml"
    assert "toolkit run stock --config" in result.best_config.read_text()
    again = toolkit.run("stock", result.best_config, run_name="again", output_dir=tmp_path, validation_metrics=True)
    trial_metrics = json.loads((result.best_run / "metrics.json").read_text())
    assert again.metrics["validation"]["headline"]["skill_vs_persistence"] == result.study.best_value
    assert again.metrics["test"]["overall"] == trial_metrics["test"]["overall"]


@pytest.mark.slow
def test_the_default_config_is_trained_once_and_the_best_trial_compared_with_it_on_test(stock_study):
    result = stock_study["resumed"]
    default_dir = result.study_dir / "default"
    assert (default_dir / "run.json").read_text() == stock_study["default_manifest"]  # not trained again on resuming
    default_metrics = json.loads((default_dir / "metrics.json").read_text())
    best_metrics = json.loads((result.best_run / "metrics.json").read_text())
    record = study_json(result.study_dir)
    assert record["default"]["validation"] == default_metrics["validation"]["headline"]["skill_vs_persistence"]
    comparison = record["test"]
    assert comparison["best"] == best_metrics["test"]["headline"]["skill_vs_persistence"]
    assert comparison["default"] == default_metrics["test"]["headline"]["skill_vs_persistence"]
    assert comparison["test"] == "Diebold-Mariano" and 0 <= comparison["p_value"] <= 1
    assert comparison["verdict"].startswith(f"The best trial ({result.best_run.name}) ")
    assert comparison["default_headline"] == default_metrics["test"]["headline"]["verdict"]
    assert all("test" not in json.dumps(trial) for trial in record["trials"])  # trials are chosen on validation alone
    summary = result.summary()
    assert "Trials are chosen by validation headline.skill_vs_persistence (minimize)." in summary
    counts = record["counts"]
    assert f"4 of 4 trials finished ({counts['complete']} complete, {counts['pruned']} pruned" in summary
    assert comparison["verdict"] in summary


@pytest.mark.slow
def test_the_plots_are_written_as_png(stock_study):
    plots = stock_study["resumed"].study_dir / "plots"
    names = sorted(path.name for path in plots.iterdir())
    assert names == ["importances.png", "optimization_history.png", "parameters.png"]
    assert all(path.read_bytes().startswith(PNG) for path in plots.iterdir())


def toolkit_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "toolkit_cli", *args]


@pytest.mark.slow
def test_two_processes_on_one_journal_run_distinct_trials(tmp_path):
    shared = search_config(TINY_STOCK, {"model.dropout": {"float": [0.0, 0.3]}}, trials=4, pruner={"kind": "none"})
    config = write_yaml(tmp_path / "shared.yaml", shared)
    command = toolkit_command("tune", "stock", "--config", str(config), "--output-dir", str(tmp_path))
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    other = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    result = tune("stock", config, output_dir=tmp_path)  # this process, on the same journal meanwhile
    _, error = other.communicate(timeout=300)
    assert other.returncode == 0, error[-2000:]
    trials = study_json(result.study_dir)["trials"]
    assert len(trials) >= 4 and all(trial["state"] == "complete" for trial in trials)
    assert len({trial["run"] for trial in trials}) == len(trials) == len({trial["number"] for trial in trials})
    assert {trial["pid"] for trial in trials} == {os.getpid(), other.pid}
    for trial in trials:
        assert run_directory.is_finished_run(result.study_dir / trial["run"])


@pytest.mark.slow
def test_a_killed_process_leaves_its_trial_failed_not_lost_and_the_study_goes_on(tmp_path):
    # No pruner: nothing writes to the journal while the trial trains, so the kill leaves no journal lock behind
    # (Optuna would wait 30 s before taking over a lock its holder left).
    settings = search_config(TINY_STOCK, {"model.dropout": {"float": [0.0, 0.3]}}, pruner={"kind": "none"})
    config = write_yaml(tmp_path / "killed.yaml", settings)
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    command = toolkit_command("tune", "stock", "--config", str(config), "--trials", "1", "--output-dir", str(tmp_path))
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    journal = tmp_path / "stock" / "killed" / "journal.log"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not running_trial_in(journal):
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    result = tune("stock", config, trials=1, output_dir=tmp_path)
    killed, resumed = result.study.trials
    assert killed.state == TrialState.FAIL
    assert killed.user_attrs[FAILURE] == (
        f"process {process.pid} on {killed.user_attrs[HOST]} ended before the trial did (killed, or it crashed)"
    )
    assert resumed.state == TrialState.COMPLETE and result.trials_run == 1
    assert [trial["state"] for trial in study_json(result.study_dir)["trials"]] == ["failed", "complete"]


def running_trial_in(journal: Path) -> bool:
    """Whether the study in `journal` has a trial whose run has started."""
    if not journal.is_file():
        return False
    storage = JournalStorage(JournalFileBackend(str(journal)))
    studies = storage.get_all_studies()
    if not studies:
        return False
    trials = optuna.load_study(study_name=studies[0].study_name, storage=storage).get_trials(states=(TrialState.RUNNING,))
    return any(CONFIG in trial.user_attrs for trial in trials)  # recorded just before the trial's run starts


def tune_command(tmp_path: Path, config: dict, *args: str) -> list[str]:
    path = write_yaml(tmp_path / "search.yaml", config)
    return ["tune", "stock", "--config", str(path), "--output-dir", str(tmp_path / "runs"), *args]


@pytest.mark.parametrize(
    ("space", "message"),
    [
        ({}, "search.yaml: search.space: empty; give at least one config key to search"),
        ({"model.dropout": {"choice": [0.1]}}, "'model.dropout': choice: 1 value(s), [0.1]; a choice needs two or more"),
        (
            {"trainer.learning_rate": {"float": [0, 0.01], "log": True}},
            "a log range must lie above 0, but [0, 0.01] includes 0",
        ),
        ({"model.dropot": {"float": [0.0, 0.3]}}, "unknown key 'model.dropot'. Did you mean 'dropout'?"),
        ({"trainer.epochs": {"int": [0, 3]}}, "'trainer.epochs', int [0, 3]: trainer.epochs: 0 is below the minimum 1."),
    ],
)
def test_a_bad_space_is_refused_before_any_trial_with_one_message_and_status_2(tmp_path, capsys, space, message):
    assert main(tune_command(tmp_path, search_config(TINY_STOCK, space))) == 2
    error = capsys.readouterr().err
    assert error.startswith("toolkit tune: error: ") and message in error and "Traceback" not in error
    assert not (tmp_path / "runs").exists()


def test_a_metric_the_pipeline_does_not_report_is_refused(tmp_path, capsys):
    metric = "test.headline.skill_vs_persistence"
    config = search_config(TINY_STOCK, {"model.dropout": {"float": [0.0, 0.3]}}, metric=metric)
    assert main(tune_command(tmp_path, config)) == 2
    error = capsys.readouterr().err
    assert f"search.metric: {metric!r} is not a validation metric the stock pipeline reports" in error
    assert "the test split is reported once, at the end." in error


def test_a_study_that_exists_with_another_space_is_refused_naming_the_keys(tmp_path, capsys):
    folder = study_folder.claim(tmp_path / "runs" / "stock" / "search", "stock", "search")
    storage, where = open_storage(folder, None)
    started = load_search("stock", search_config(TINY_STOCK, {"model.dropout": {"float": [0.0, 0.3]}}))
    open_study(storage, where, "search", started, optuna.samplers.RandomSampler(), optuna.pruners.NopPruner())
    other = search_config(TINY_STOCK, {"model.dropout": {"float": [0.0, 0.5]}})
    assert main(tune_command(tmp_path, other)) == 2
    error = capsys.readouterr().err
    assert f"study 'search' in {where} was started with another search" in error
    then, now = '{"float": [0.0, 0.3], "log": false}', '{"float": [0.0, 0.5], "log": false}'
    assert f"space key model.dropout: {then} then, {now} now" in error


def test_a_storage_url_that_cannot_be_opened_is_refused(tmp_path, capsys):
    command = tune_command(tmp_path, tiny_stock_search(), "--storage", "sqlite:////no/such/folder/studies.db")
    assert main(command) == 2
    error = capsys.readouterr().err
    url = "sqlite:////no/such/folder/studies.db"
    assert f"toolkit tune: error: --storage {url!r}: cannot be opened (OperationalError" in error


def test_a_folder_of_that_name_that_is_not_a_study_is_left_alone(tmp_path, capsys):
    mine = tmp_path / "runs" / "stock" / "search"
    mine.mkdir(parents=True)
    (mine / "notes.txt").write_text("mine")
    assert main(tune_command(tmp_path, tiny_stock_search())) == 2
    assert f"{mine} exists and is not a toolkit study (no study.json of ours in it)" in capsys.readouterr().err
    assert sorted(path.name for path in mine.iterdir()) == ["notes.txt"]


def test_keep_takes_best_all_or_none():
    with pytest.raises(InputError, match="keep: 'some'; expected one of best, all, none."):
        tune("stock", tiny_stock_search(), keep="some")
