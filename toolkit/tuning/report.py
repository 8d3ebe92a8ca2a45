"""What a search found, plainly: `study.json`'s record of every trial, and the printed table of the best ones."""

from __future__ import annotations

import dataclasses
import datetime
import json
from pathlib import Path

import optuna
from optuna.trial import FrozenTrial, TrialState

from toolkit import run_directory
from toolkit.tuning import heartbeat, objective
from toolkit.tuning.search_config import Search
from toolkit.tuning.study_folder import FORMAT, FORMAT_VERSION, has_models, trial_run_name

# Trials shown in the printed table.
TABLE_ROWS = 10
_STATES = {
    TrialState.COMPLETE: "complete", TrialState.PRUNED: "pruned", TrialState.FAIL: "failed",
    TrialState.RUNNING: "running", TrialState.WAITING: "waiting",
}


def best_trial(study: optuna.Study) -> FrozenTrial | None:
    """The completed trial with the best validation metric, or `None` before one completes."""
    try:
        return study.best_trial
    except ValueError:
        return None


def ranked(study: optuna.Study) -> list[FrozenTrial]:
    """The completed trials, best first; a tie goes to the earlier trial."""
    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    maximize = study.direction == optuna.study.StudyDirection.MAXIMIZE
    return sorted(complete, key=lambda trial: (-trial.value if maximize else trial.value, trial.number))


def study_record(study: optuna.Study, search: Search, folder: Path, where: str, keep: str) -> dict:
    """`study.json`: what was searched and how, and every trial, by Optuna's number."""
    trials = study.get_trials(deepcopy=False)
    best = best_trial(study)
    counts = {name: sum(trial.state == state for trial in trials) for state, name in _STATES.items()}
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "pipeline": search.pipeline,
        "study": study.study_name,
        "storage": where,
        "metric": {
            "name": search.metric.name, "split": "validation", "direction": search.direction,
            "meaning": search.metric.meaning, "watched_each_epoch": search.metric.epoch_log,
        },
        "space": {parameter.key: parameter.as_dict() for parameter in search.space},
        "pruner": dataclasses.asdict(search.pruner),
        "trials_wanted": search.trials,
        "keep": keep,
        "counts": counts,
        "best": None if best is None else {
            "run": _run_name(best), "validation": best.value, "values": _values(best),
        },
        "trials": [trial_record(trial, folder) for trial in trials],
    }


def trial_record(trial: FrozenTrial, folder: Path) -> dict:
    """One trial: its values, validation metric, state, times, where it ran, and whether its model is kept here."""
    attributes = trial.user_attrs
    run = _run_name(trial)
    return {
        "number": trial.number,
        "run": run,
        "state": _STATES.get(trial.state, trial.state.name.lower()),
        "values": _values(trial),
        "validation": attributes.get(objective.VALIDATION),
        "pruned_at_epoch": attributes.get(objective.PRUNED_AT),
        "epochs_trained": attributes.get(objective.EPOCHS),
        "seconds": attributes.get(objective.SECONDS),
        "started": _time(trial.datetime_start),
        "finished": _time(trial.datetime_complete),
        "host": attributes.get(heartbeat.HOST),
        "pid": attributes.get(heartbeat.PID),
        "failure": attributes.get(heartbeat.FAILURE),
        "model": _model_state(folder / run, attributes),
    }


def format_table(study: optuna.Study, search: Search, rows: int = TABLE_ROWS) -> str:
    """The best completed trials as an aligned text table: validation metric, epochs, seconds and each searched value."""
    top = ranked(study)[:rows]
    if not top:
        return "No trial has completed yet."
    keys = [parameter.key for parameter in search.space]
    header = ["rank", "trial", f"validation {search.metric.name}", "epochs", "seconds", *keys]
    lines = [header]
    for rank, trial in enumerate(top, start=1):
        attributes, values = trial.user_attrs, _values(trial)
        lines.append([
            str(rank), _run_name(trial), f"{trial.value:.4g}", _epochs(attributes.get(objective.EPOCHS)),
            _seconds(attributes.get(objective.SECONDS)), *(_shown(values.get(key)) for key in keys),
        ])
    widths = [max(len(line[column]) for line in lines) for column in range(len(header))]
    rows = ("  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)) for line in lines)
    return "\n".join(row.rstrip() for row in rows)


def format_counts(record: dict) -> str:
    counts = record["counts"]
    finished = counts["complete"] + counts["pruned"]
    parts = [f"{counts['complete']} complete", f"{counts['pruned']} pruned", f"{counts['failed']} failed"]
    if counts["running"]:
        parts.append(f"{counts['running']} running")
    return f"{finished} of {record['trials_wanted']} trials finished ({', '.join(parts)})"


def format_comparison(comparison: dict) -> str:
    """The test comparison's lines: the sentence, then each run's own verdict against its baseline."""
    lines = [f"Test split, the best trial beside the default config. {comparison['note']}"]
    if comparison.get("best") is not None or comparison.get("default") is not None:
        lines.append(
            f"  Test {comparison['metric']}: {_measured(comparison.get('best'))} for {comparison['best_trial']}, "
            f"{_measured(comparison.get('default'))} for the default config."
        )
    lines.append(f"  {comparison['verdict']}")
    for label, key in (("Best trial", "best_headline"), ("Default config", "default_headline")):
        if comparison.get(key):
            lines.append(f"  {label} against its baseline: {comparison[key]}")
    return "\n".join(lines)


def _run_name(trial: FrozenTrial) -> str:
    return trial.user_attrs.get(objective.RUN, trial_run_name(trial.number))


def _values(trial: FrozenTrial) -> dict:
    return trial.user_attrs.get(objective.VALUES) or dict(trial.params)


def _model_state(run_dir: Path, attributes: dict) -> str:
    if has_models(run_dir):
        return "kept"
    if run_directory.is_finished_run(run_dir):
        return "removed"
    return "not here" if attributes.get(objective.EPOCHS) is not None else "none"


def _time(moment: datetime.datetime | None) -> str | None:
    return None if moment is None else moment.isoformat(timespec="seconds")


def _epochs(epochs) -> str:
    if isinstance(epochs, dict):
        return "+".join(str(count) for count in epochs.values())
    return "" if epochs is None else str(epochs)


def _seconds(seconds) -> str:
    return "" if seconds is None else f"{seconds:.0f}"


def _measured(value: float | None) -> str:
    return "undefined" if value is None else f"{value:.4g}"


def _shown(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return json.dumps(value) if isinstance(value, (list, dict)) else str(value)
