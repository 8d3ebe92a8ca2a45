"""Tiny search configs, and the smoke studies that several modules of the search's tests read."""

from __future__ import annotations

import copy
from pathlib import Path

import optuna
import pytest
import yaml
from optuna.trial import TrialState

import pipelines  # noqa: F401  (registers the built-in pipelines)

# One ticker, an 11-day window, 4 units, 3 epochs: a trial in a few seconds.
TINY_STOCK = {
    "data": {"tickers": ["IBM"], "window": 11, "walk_forward_folds": 0},
    "model": {"recurrent": {"units": 4}},
    "trainer": {"epochs": 3, "batch_size": 256, "early_stopping_patience": None, "verbose": 0},
}
# A learning rate that learns in 3 epochs and one that does not, so that the median pruner has one to stop.
STOCK_SPACE = {
    "trainer.learning_rate": {"choice": [0.03, 1e-6]},
    "model.dropout": {"float": [0.0, 0.3]},
}
# 600 of scikit-learn's 8x8 digits, a one-block CNN, one epoch: a trial in a few seconds, most of them the HOG baseline's.
TINY_DIGITS = {
    "data": {"source": "digits", "max_examples": 600, "validation_fraction": 0.2},
    "model": {"encoder": {"filters": [8], "batch_norm_momentum": 0.9}, "dense_units": 16},
    "trainer": {"epochs": 1, "batch_size": 128, "early_stopping_patience": None, "verbose": 0},
}
DIGITS_SPACE = {"trainer.learning_rate": {"float": [0.001, 0.01], "log": True}, "model.dropout": {"choice": [0.0, 0.3]}}


def search_config(base: dict, space: dict, **search) -> dict:
    """A search config: `base` plus a search section with `space` and the other search keys given."""
    return {**copy.deepcopy(base), "search": {"space": copy.deepcopy(space), **search}}


def write_yaml(path: Path, values: dict) -> Path:
    path.write_text(yaml.safe_dump(values, sort_keys=False))
    return path


def tiny_stock_search(**search) -> dict:
    """The tiny stock search, pruned by the median of earlier trials from their first epoch on."""
    settings = {"random_trials": 1, "pruner": {"kind": "median", "warmup_epochs": 0, "startup_trials": 1}, **search}
    return search_config(TINY_STOCK, STOCK_SPACE, **settings)


def reported_search():
    """A search of a float and a choice of lists: the search of `finished_study`."""
    from toolkit.tuning.search_config import load_search

    space = {"model.dropout": {"float": [0.0, 0.3]}, "features": {"choice": [["log_return"], ["log_range"]]}}
    return load_search("stock", search_config(TINY_STOCK, space))


def finished_study(outcomes: list[tuple[TrialState, float | None]], direction: str = "minimize") -> optuna.Study:
    """A study of `reported_search` whose trials ended as `outcomes` say, each with the attributes a real trial records."""
    from toolkit.tuning import objective
    from toolkit.tuning.heartbeat import FAILURE
    from toolkit.tuning.study_folder import trial_run_name

    study = optuna.create_study(direction=direction, sampler=optuna.samplers.RandomSampler(seed=0))
    space = reported_search().space
    for state, value in outcomes:
        trial = study.ask()
        values = {parameter.key: parameter.suggest(trial) for parameter in space}
        trial.set_user_attr(objective.VALUES, values)
        trial.set_user_attr(objective.RUN, trial_run_name(trial.number))
        if state == TrialState.FAIL:
            trial.set_user_attr(FAILURE, "the config refuses these values together")
        else:
            trial.set_user_attr(objective.VALIDATION, value)
            trial.set_user_attr(objective.EPOCHS, 3)
            trial.set_user_attr(objective.SECONDS, 4.2)
        study.tell(trial, value if state == TrialState.COMPLETE else None, state=state)
    return study


@pytest.fixture(scope="session")
def stock_study(tmp_path_factory):
    """A stock search of 2 trials, resumed to 4: the second trial, at the learning rate that does not learn, is pruned.

    Random samplers with fixed seeds make the trials' values, and so their
    runs, the same every time: the first call draws the learning rate that
    learns and then the one that does not; the second draws two more.
    """
    from toolkit.tuning.search import tune

    output = tmp_path_factory.mktemp("studies")
    config = write_yaml(output / "tiny_stock.yaml", tiny_stock_search())
    first = tune("stock", config, trials=2, output_dir=output, sampler=optuna.samplers.RandomSampler(seed=6))
    default_manifest = (first.study_dir / "default" / "run.json").read_text()
    resumed = tune("stock", config, trials=4, output_dir=output, sampler=optuna.samplers.RandomSampler(seed=4))
    return {"config": config, "output": output, "first": first, "resumed": resumed, "default_manifest": default_manifest}


@pytest.fixture(scope="session")
def digits_study(tmp_path_factory):
    """An image classification search of 4 trials on scikit-learn's digits, without pruning."""
    from toolkit.tuning.search import tune

    output = tmp_path_factory.mktemp("studies")
    config = search_config(TINY_DIGITS, DIGITS_SPACE, trials=4, random_trials=2, pruner={"kind": "none"})
    return tune("image_classification", config, study="digits", output_dir=output)
