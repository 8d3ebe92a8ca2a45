"""One trial: values the config refuses together fail that trial alone, saying why; a trial is an ordinary run."""

from __future__ import annotations

import json

import optuna
import pytest
from optuna.trial import TrialState

from tests.tuning.conftest import TINY_STOCK, search_config
from toolkit.tuning import objective
from toolkit.tuning.heartbeat import FAILURE, HOST, PID
from toolkit.tuning.objective import run_trial
from toolkit.tuning.search_config import load_search


def test_values_the_config_refuses_together_fail_the_trial_alone_before_any_training(tmp_path):
    # Each alone is a valid clipping setting; Keras clips one way, so the config refuses both at once.
    space = {"trainer.clipnorm": {"choice": [None, 1.0]}, "trainer.clipvalue": {"choice": [None, 0.5]}}
    base = {**TINY_STOCK, "trainer": {**TINY_STOCK["trainer"], "clipnorm": None}}
    search = load_search("stock", search_config(base, space))
    study = optuna.create_study()
    study.enqueue_trial({"trainer.clipnorm": 1.0, "trainer.clipvalue": 0.5})
    trial = study.ask()
    outcome = run_trial(trial, search, "refused", tmp_path)
    assert outcome.state == TrialState.FAIL and outcome.value is None
    assert outcome.line.startswith("trial-0000: failed: the config refuses these values together: trainer: set only one")
    attributes = study.trials[0].user_attrs
    assert attributes[FAILURE].startswith("the config refuses these values together: trainer: set only one of clipnorm")
    assert attributes[objective.VALUES] == {"trainer.clipnorm": 1.0, "trainer.clipvalue": 0.5}
    assert HOST in attributes and PID in attributes
    assert not (tmp_path / "stock").exists()


@pytest.mark.slow
def test_a_completed_trial_is_an_ordinary_run_with_its_validation_metric(stock_study):
    study_dir = stock_study["resumed"].study_dir
    trial = next(trial for trial in stock_study["resumed"].study.trials if trial.state == TrialState.COMPLETE)
    run_dir = study_dir / trial.user_attrs[objective.RUN]
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert trial.value == metrics["validation"]["headline"]["skill_vs_persistence"]
    assert trial.user_attrs[objective.VALIDATION] == trial.value
    assert trial.user_attrs[objective.EPOCHS] == metrics["epochs_trained"] == 3
    assert "test" in metrics  # an ordinary run's held-out metrics, never read by the search
    searched = trial.user_attrs[objective.VALUES]["trainer.learning_rate"]
    assert trial.user_attrs[objective.CONFIG]["trainer"]["learning_rate"] == searched
