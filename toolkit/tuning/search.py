"""`toolkit.tune`: a hyperparameter search of ordinary runs, that resumes, runs in parallel and says what it found."""

from __future__ import annotations

import contextlib
import json
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import optuna
from optuna.trial import TrialState

from toolkit import api, progress, run_directory
from toolkit import config as config_lib
from toolkit.errors import InputError, Notice, TrainingDivergedError
from toolkit.tuning import comparison as comparison_lib
from toolkit.tuning import report, study_folder
from toolkit.tuning.heartbeat import FAILURE, fail_stale_trials
from toolkit.tuning.metrics import read_metric, shown_metric
from toolkit.tuning.objective import CONFIG, RUN, run_trial
from toolkit.tuning.plots import plot_study
from toolkit.tuning.search_config import Search, load_search
from toolkit.tuning.storage import open_storage, open_study

# The study's name when none is given and the config is not a file (whose name is used).
DEFAULT_STUDY = "search"
_FINISHED = (TrialState.COMPLETE, TrialState.PRUNED)


@dataclass
class TuneResult:
    """What `toolkit.tune` returns.

    Attributes:
        study_dir: The study folder, `output_dir/<pipeline>/<study>/`.
        study: The Optuna study.
        record: What `study.json` holds.
        table: The best completed trials, as the printed table.
        best_run: The best trial's run directory; `None` before a trial completes.
        best_config: `best.yaml`; `None` before a trial completes.
        comparison: The best trial beside the default config on the test
            split (see `toolkit.tuning.comparison`); `None` before a trial completes.
        plots: Each plot's file name in `plots/`, or why it was not drawn.
        trials_run: The trials this call ran.
        seconds: This call's wall time.
    """

    study_dir: Path
    study: optuna.Study
    record: dict
    table: str
    best_run: Path | None
    best_config: Path | None
    comparison: dict | None
    plots: dict[str, str]
    trials_run: int
    seconds: float

    def summary(self) -> str:
        """The report `toolkit tune` prints: the trials' counts, the best ones, and where everything is."""
        record = self.record
        metric = record["metric"]
        lines = [
            f"Study {record['study']!r} in {self.study_dir} (Optuna storage: {record['storage']}).",
            f"{report.format_counts(record)}; this run: {self.trials_run} trial(s) in {self.seconds / 60:.1f} min.",
            f"Trials are chosen by validation {metric['name']} ({metric['direction']}).",
            "",
            self.table,
            "",
        ]
        default = record.get("default") or {}
        if self.best_run is not None:
            lines.append(
                f"Best: {self.best_run.name}, validation {metric['name']} {record['best']['validation']:.4g}; the default "
                f"config's: {shown_metric(default.get('validation'), 'not measured')}. Its config: {self.best_config}"
            )
        if self.comparison is not None:
            lines.append(report.format_comparison(self.comparison))
        drawn = [name for name in self.plots.values() if not name.startswith("not drawn")]
        lines.append(f"Plots in {self.study_dir / study_folder.PLOTS}: {', '.join(drawn) or 'none yet'}.")
        return "\n".join(lines)


def tune(
    name: str,
    config: str | Path | dict,
    trials: int | None = None,
    timeout: float | None = None,
    study: str | None = None,
    keep: str = "best",
    storage: str | None = None,
    output_dir: str | Path = api.DEFAULT_OUTPUT_DIR,
    sampler: optuna.samplers.BaseSampler | None = None,
) -> TuneResult:
    """Searches a pipeline's hyperparameters; every trial is an ordinary run in `output_dir/<name>/<study>/`.

    The study resumes when called again with the same study name, and
    several processes may run it at once. Trials are chosen on the
    validation split; at the end the default config (the search config
    without its `search` section) is trained once, as the run `default/`,
    and the best trial's test metric is reported beside it with the
    pipeline's verdict.

    Args:
        name: A registered pipeline, such as `"stock"`.
        config: A search config: a YAML path, or its values as a dict.
        trials: The study's size (replaces `search.trials`): trials run until
            it holds this many that completed or were pruned, counting
            earlier runs and other processes.
        timeout: Minutes (replaces `search.timeout`); no trial starts after them.
        study: The study's name, a plain name; by default the config file's
            name without `.yaml`, or `"search"`.
        keep: Which trials keep their models: `"best"` (the best
            `study_folder.KEPT_BEST`), `"all"` or `"none"`. Configs and
            metrics always stay.
        storage: A database URL (SQLAlchemy's) that several hosts share;
            by default a journal file in the study folder.
        output_dir: Where pipelines' runs go.
        sampler: An Optuna sampler; by default TPE, random for
            `search.random_trials` trials first.

    Returns:
        A `TuneResult`.

    Raises:
        InputError: Before any trial starts, for a search config, study
            name, storage or `keep` that is not valid, or a study of that
            name started with another search (naming the keys).
    """
    started = time.monotonic()
    if keep not in study_folder.KEEP_CHOICES:
        raise InputError(f"keep: {keep!r}; expected one of {', '.join(study_folder.KEEP_CHOICES)}.")
    search = load_search(name, config, trials, timeout)
    study_name = study or (Path(config).stem if isinstance(config, (str, Path)) else DEFAULT_STUDY)
    folder = study_folder.claim(study_folder.study_path(output_dir, name, study_name), name, study_name)
    with _quiet_optuna():
        optuna_storage, where = open_storage(folder, storage)
        with study_folder.lock(folder):
            optuna_study = open_study(
                optuna_storage, where, study_name, search, sampler or _sampler(search), _pruner(search)
            )
            _write_record(optuna_study, search, folder, where, keep)
        _say_failed(fail_stale_trials(optuna_study, optuna_storage))
        trials_run = _run_trials(optuna_study, optuna_storage, search, folder, where, keep, output_dir, started)
        return _finish(optuna_study, search, folder, where, keep, output_dir, trials_run, started)


def _run_trials(study, storage, search: Search, folder: Path, where: str, keep: str, output_dir, started: float) -> int:
    """Runs trials until the study holds `search.trials` finished ones, the timeout passes, or as many were tried."""
    attempts = search.trials - _finished(study)
    if attempts <= 0:
        progress.LOGGER.info(
            "%s: the study already holds %d finished trials (%d asked for); none run. Ask for more trials to add some.",
            study.study_name, _finished(study), search.trials,
        )
    run = 0
    while run < attempts and _finished(study) < search.trials and not _timed_out(search, started):
        _say_failed(fail_stale_trials(study, storage))
        trial = study.ask()
        try:
            outcome = run_trial(trial, search, study.study_name, output_dir)
        except BaseException as error:
            why = "interrupted" if isinstance(error, KeyboardInterrupt) else f"{type(error).__name__}: {error}"
            with contextlib.suppress(Exception):  # recording why must not hide the error itself
                trial.set_user_attr(FAILURE, why)
            study.tell(trial, state=TrialState.FAIL, skip_if_finished=True)
            raise
        study.tell(trial, outcome.value, state=outcome.state, skip_if_finished=True)
        run += 1
        best = report.best_trial(study)
        progress.LOGGER.info(
            "%s%s", outcome.line,
            "" if best is None else f" (best so far: {best.user_attrs.get(RUN)}, {best.value:.4g})",
        )
        with study_folder.lock(folder):
            _write_record(study, search, folder, where, keep)
            _keep_models(study, folder, keep, final=False)
    return run


def _finish(
    study, search: Search, folder: Path, where: str, keep: str, output_dir, trials_run: int, started: float
) -> TuneResult:
    """Trains the default config unless it is trained, compares the best trial with it on test, and writes the report."""
    default_dir = folder / study_folder.DEFAULT_RUN
    with study_folder.lock(folder, "default"):  # one process trains it; the others wait for it
        default_error = _train_default(search, study.study_name, default_dir, output_dir)
    best = report.best_trial(study)
    best_dir = None if best is None else folder / best.user_attrs[RUN]
    comparison = None
    if best_dir is not None:
        comparison = _compare(best_dir, default_dir, default_error, search, best)
    with study_folder.lock(folder):
        plots = plot_study(study, search.metric.name, folder / study_folder.PLOTS)
        if keep == "none":
            _keep_models(study, folder, keep, final=True)
        record = _write_record(study, search, folder, where, keep, comparison)
    best_config = folder / study_folder.BEST_CONFIG if best is not None else None
    return TuneResult(
        folder, study, record, report.format_table(study, search), best_dir, best_config, comparison, plots, trials_run,
        time.monotonic() - started,
    )


def _train_default(search: Search, study: str, default_dir: Path, output_dir) -> str | None:
    """Trains the search's starting config as the run `default/`, unless it is there; returns why it could not be, if so."""
    if run_directory.is_finished_run(default_dir):
        return None
    with progress.step(f"{study}: training the default config once, as {default_dir}"):
        try:
            api.run(
                search.pipeline, search.base_config, run_name=study_folder.DEFAULT_RUN, output_dir=output_dir,
                group=study, validation_metrics=True,
            )
        except TrainingDivergedError as error:
            return str(error)
    return None


def _compare(best_dir: Path, default_dir: Path, default_error: str | None, search: Search, best) -> dict:
    if default_error is not None or not run_directory.is_finished_run(best_dir):
        why = (
            f"the default config could not be trained: {default_error}" if default_error is not None
            else f"the best trial ran on {best.user_attrs.get('host')}, and its run is in that host's study folder"
        )
        return {
            "metric": search.metric.name, "best_trial": best_dir.name, "verdict": f"No test comparison: {why}.",
            "note": comparison_lib.NOTE,
        }
    with progress.step(f"comparing {best_dir.name} with the default config on the test split"):
        return comparison_lib.compare_on_test(best_dir, default_dir, search.metric)


def _write_record(study, search: Search, folder: Path, where: str, keep: str, comparison: dict | None = None) -> dict:
    """Writes `study.json` and, once a trial has completed, `best.yaml`; returns the record. The caller holds the lock."""
    record = report.study_record(study, search, folder, where, keep)
    default_metrics = folder / study_folder.DEFAULT_RUN / run_directory.METRICS
    if default_metrics.is_file():
        validation = json.loads(default_metrics.read_text()).get("validation", {})
        record["default"] = {"run": study_folder.DEFAULT_RUN, "validation": read_metric(validation, search.metric.name)}
    if comparison is not None:
        record["test"] = comparison
    study_folder.write_json(folder / study_folder.STUDY_RECORD, record)
    best = report.best_trial(study)
    if best is not None:
        config = config_lib.from_dict(type(search.base_config), best.user_attrs[CONFIG])
        line = f"validation {search.metric.name} {best.value:.6g} ({search.direction})"
        study_folder.write_best_config(folder, search.pipeline, config, best.user_attrs[RUN], line)
    return record


def _keep_models(study, folder: Path, keep: str, final: bool) -> None:
    """Removes the models of the trials that `keep` does not keep (see `study_folder.models_to_keep`)."""
    if keep == "all":
        return
    kept = study_folder.models_to_keep([trial.user_attrs[RUN] for trial in report.ranked(study)], keep, final)
    trials = study.get_trials(deepcopy=False)
    names = [trial.user_attrs.get(RUN, study_folder.trial_run_name(trial.number)) for trial in trials]
    removed, left = study_folder.remove_models_except(folder, names, kept)
    if removed:
        progress.LOGGER.info("models removed (--keep %s), configs and metrics kept: %s", keep, ", ".join(removed))
    for name, why in left.items():
        warnings.warn(f"the models of {name} stay for now: {why}", Notice, stacklevel=2)


def _sampler(search: Search) -> optuna.samplers.BaseSampler:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        # The constant liar keeps processes that share a study from suggesting the same values at once.
        return optuna.samplers.TPESampler(n_startup_trials=search.random_trials, constant_liar=True)


def _pruner(search: Search) -> optuna.pruners.BasePruner:
    pruner = search.pruner
    if pruner.kind == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=pruner.startup_trials, n_warmup_steps=pruner.warmup_epochs)
    if pruner.kind == "hyperband":
        return optuna.pruners.HyperbandPruner(min_resource=max(1, pruner.warmup_epochs), max_resource="auto")
    return optuna.pruners.NopPruner()


def _finished(study) -> int:
    return len(study.get_trials(deepcopy=False, states=_FINISHED))


def _timed_out(search: Search, started: float) -> bool:
    return search.timeout_minutes is not None and time.monotonic() - started >= search.timeout_minutes * 60


def _say_failed(failed: dict[int, str]) -> None:
    for number, reason in failed.items():
        progress.LOGGER.info("%s: marked failed: %s", study_folder.trial_run_name(number), reason)


@contextlib.contextmanager
def _quiet_optuna() -> Iterator[None]:
    """Optuna's own lines (a study created, each trial's result) are left out: toolkit says each trial's once."""
    verbosity = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        yield
    finally:
        optuna.logging.set_verbosity(verbosity)
