"""One trial of a search: the space's suggestions, a config, an ordinary run in the study folder, its validation metric."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import keras
import optuna
from optuna.trial import TrialState

from toolkit import api
from toolkit import config as config_lib
from toolkit.config import ConfigError
from toolkit.errors import TrainingDivergedError
from toolkit.tuning.heartbeat import FAILURE, Heartbeat
from toolkit.tuning.metrics import read_metric, shown_metric
from toolkit.tuning.pruning import PruningCallback
from toolkit.tuning.search_config import Search
from toolkit.tuning.study_folder import trial_run_name

# What a trial records in its attributes, beside its heartbeat's host and process (`heartbeat`).
RUN = "run"
VALUES = "values"
CONFIG = "config"
VALIDATION = "validation"
EPOCHS = "epochs_trained"
SECONDS = "seconds"
PRUNED_AT = "pruned_at_epoch"


@dataclass(frozen=True)
class TrialOutcome:
    """How a trial ended: its state for Optuna, its value if it completed, and a line that says so."""

    state: TrialState
    value: float | None
    line: str


def run_trial(trial: optuna.Trial, search: Search, study: str, output_dir: str | Path) -> TrialOutcome:
    """Runs `trial` as an ordinary run `output_dir/<pipeline>/<study>/trial-NNNN/`, judged on the validation split.

    A trial whose values the config refuses together, or whose training
    diverges, fails alone, with its reason recorded; so does one whose
    validation metric is not a number. Other errors propagate.
    """
    started = time.perf_counter()
    name = trial_run_name(trial.number)
    with Heartbeat(trial):
        values = {parameter.key: parameter.suggest(trial) for parameter in search.space}
        trial.set_user_attr(VALUES, values)
        trial.set_user_attr(RUN, name)
        try:
            config = search.trial_config(values)
        except ConfigError as error:
            return _failed(trial, name, f"the config refuses these values together: {error}")
        trial.set_user_attr(CONFIG, config_lib.to_dict(config))
        pruning = PruningCallback(trial, search.metric) if search.pruner.kind != "none" else None
        # Each trial builds new models; Keras' global state would otherwise grow with every one.
        keras.backend.clear_session()
        try:
            result = api.run(
                search.pipeline, config, run_name=name, output_dir=output_dir, group=study,
                callbacks=None if pruning is None else [pruning], validation_metrics=True,
            )
        except TrainingDivergedError as error:
            return _failed(trial, name, str(error))
    seconds = round(time.perf_counter() - started, 1)
    value = read_metric(result.metrics["validation"], search.metric.name)
    trial.set_user_attr(VALIDATION, value)
    trial.set_user_attr(EPOCHS, result.metrics["epochs_trained"])
    trial.set_user_attr(SECONDS, seconds)
    epochs = _epochs(result.metrics["epochs_trained"])
    shown = f"validation {search.metric.name} {shown_metric(value)}, {epochs}, {seconds:.0f} s"
    if value is None:
        return _failed(trial, name, f"its validation {search.metric.name} is not a finite number ({shown})")
    if pruning is not None and pruning.pruned_at_epoch is not None:
        trial.set_user_attr(PRUNED_AT, pruning.pruned_at_epoch)
        return TrialOutcome(TrialState.PRUNED, None, f"{name}: pruned after epoch {pruning.pruned_at_epoch}: {shown}")
    return TrialOutcome(TrialState.COMPLETE, value, f"{name}: {shown}")


def _failed(trial: optuna.Trial, name: str, reason: str) -> TrialOutcome:
    trial.set_user_attr(FAILURE, reason)
    return TrialOutcome(TrialState.FAIL, None, f"{name}: failed: {reason}")


def _epochs(epochs: int | dict[str, int]) -> str:
    if isinstance(epochs, dict):
        return "epochs " + ", ".join(f"{part} {count}" for part, count in epochs.items())
    return f"{epochs} epoch{'s' if epochs != 1 else ''}"
