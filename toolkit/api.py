"""The Python API: `toolkit.run(name, ...)` trains and exports; `toolkit.load(run_dir)` restores."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import keras

from toolkit import config as config_lib
from toolkit import distribution, progress, run_directory, training
from toolkit.distribution import SINGLE_PROCESS, WorkerRole
from toolkit.errors import InputError
from toolkit.evaluation.folds import describe_fold, summarize_folds
from toolkit.evaluation.plots import plot_learning_curves
from toolkit.recipes.pipeline import WalkForwardEvaluation
from toolkit.registry import get_pipeline
from toolkit.run_directory import TrainingFiles
from toolkit.trained_run import TrainedRun

DEFAULT_OUTPUT_DIR = Path("saved_models")


@dataclass
class RunResult:
    """What `toolkit.run` returns.

    Attributes:
        trained_run: The trained run (`predict`, `evaluate`, `fine_tune`, `export`).
        metrics: The held-out metrics, as written to `metrics.json`.
        history: Per-epoch training logs.
        run_dir: The run directory.
        seconds: Wall time of the whole run.
        worker: This process's role. A worker that is not the chief of a
            multi-worker run evaluates and writes nothing: its `metrics` hold
            only `distribution`, and `run_dir` is where the chief writes the run.
    """

    trained_run: TrainedRun
    metrics: dict
    history: dict
    run_dir: Path
    seconds: float
    worker: WorkerRole = SINGLE_PROCESS

    @property
    def model(self) -> keras.Model:
        """The end-to-end model: raw inputs in."""
        return self.trained_run.model

    @property
    def task(self) -> TrainedRun:
        """Deprecated since toolkit 0.2, and gone in 0.3: `trained_run`."""
        warnings.warn("RunResult.task is now RunResult.trained_run; the old name goes in toolkit 0.3.", DeprecationWarning, stacklevel=2)
        return self.trained_run


def resolve_config(name: str, config=None, overrides=None):
    """Resolves a pipeline's config from a path, a dict, an instance or the defaults, then overrides."""
    pipeline = get_pipeline(name)
    cls = pipeline.config_class
    if config is None or isinstance(config, (str, Path)):
        return config_lib.load_config(cls, config, overrides, pipeline=name)
    if dataclasses.is_dataclass(config):
        config = config_lib.to_dict(config)
    return config_lib.from_dict(cls, config_lib.apply_overrides(config, overrides))


def run(
    name: str,
    config: str | Path | dict | object | None = None,  # object: a config dataclass instance
    overrides: list[str] | dict | None = None,
    run_name: str | None = None,
    output_dir: str | Path = DEFAULT_OUTPUT_DIR,
    fresh: bool = False,
    group: str | None = None,
    callbacks: list[keras.callbacks.Callback] | None = None,
    validation_metrics: bool = False,
) -> RunResult:
    """Trains, evaluates and exports a pipeline.

    Started again with the same `run_name`, config and data after being
    killed, a run resumes from its last finished epoch. While it runs, no
    other process can run or write a run of the same name.

    Args:
        name: A registered pipeline, such as `"sentiment"`.
        config: A YAML path, a dict, a config instance, or `None` for the
            pipeline's defaults.
        overrides: Dotted overrides, such as `["trainer.epochs=3"]` or
            `{"trainer.epochs": 3}`.
        run_name: The run directory's name, a plain name; defaults to a timestamp.
        output_dir: Runs go to `output_dir/<name>/<run_name>/`.
        fresh: Discard what an interrupted run of this name left to resume
            from, instead of resuming it.
        group: A plain name that gathers related runs: the run then goes to
            `output_dir/<name>/<group>/<run_name>/` (the trials of a search, say).
        callbacks: Keras callbacks added to the fit of the run's network (or
            of each part of its fit plan), after toolkit's own; not to the
            walk-forward folds.
        validation_metrics: Also evaluate the validation split, as the
            held-out splits are, into `metrics.json` under `validation`:
            what a hyperparameter search chooses by.

    Returns:
        A `RunResult`.

    Raises:
        RunDirectoryError: For a run name that is not a plain name; a folder
            of that name that is not a finished toolkit run; another process
            running a run of that name; or an interrupted run of that name
            started with another config or other data (unless `fresh`).
    """
    started = time.perf_counter()
    pipeline = get_pipeline(name)
    config = resolve_config(name, config, overrides)
    if config.trainer.distribution == "multi_worker" and run_name is None:
        raise InputError(
            "trainer.distribution=multi_worker: give a run name (--run-name, or run_name= in Python), the same on "
            "every worker, so that they agree on the run they train and resume."
        )
    # Before anything else of TensorFlow's: a multi-worker strategy must be made first.
    strategy = distribution.distribution_strategy(config.trainer.distribution)
    role = distribution.worker_role(strategy)
    run_dir = run_directory.run_path(
        output_dir, name, time.strftime("%Y%m%d-%H%M%S") if run_name is None else run_name, group
    )
    with contextlib.ExitStack() as held:
        try:
            slot = held.enter_context(
                run_directory.claim(run_dir) if role.is_chief else run_directory.worker_slot(run_dir, role.name)
            )
            keras.utils.set_random_seed(config.trainer.seed)
            with progress.step(f"{name}: loading the data"):
                data = pipeline.load_data(config)
            fingerprint = data.fingerprint()
            work = slot.work(name, config, fingerprint, fresh)
        except Exception:
            distribution.start_together(strategy, None)
            raise
        distribution.start_together(strategy, json.dumps([config_lib.to_dict(config), fingerprint], sort_keys=True))
        with progress.step(f"{name}: training"):
            trained, history, fit_seconds = _train(pipeline, config, data, work, strategy, callbacks)
        folds = pipeline.walk_forward_folds(config) if isinstance(pipeline, WalkForwardEvaluation) else []
        fold_metrics = [
            _walk_forward_fold(pipeline, config, fold, (index, len(folds)), work, strategy, role, trained, fingerprint)
            for index, fold in enumerate(folds)
        ]
        distributed = distribution.describe(config.trainer.distribution, strategy, role)
        if role.workers > 1:
            distributed["weights_checksum"] = distribution.weights_checksum(trained.model)
        if not role.is_chief:
            distribution.wait_for_every_worker(strategy)
            return RunResult(trained, {"distribution": distributed}, history, run_dir, time.perf_counter() - started, role)

        with progress.step(f"{name}: evaluating, beside the baseline"):
            metrics = pipeline.evaluate_run(trained, data, work.plots)
            if validation_metrics:
                metrics["validation"] = pipeline.evaluate(trained, data.validation)
        if fold_metrics:
            metrics["walk_forward"] = summarize_folds(fold_metrics)
        plot_learning_curves(history, work.plots / "learning_curves.png")
        metrics["epochs_trained"] = training.epochs_trained(trained.model, history)
        metrics["fit_seconds"] = round(fit_seconds, 1)
        metrics["distribution"] = distributed
        with progress.step(f"{name}: writing the run to {run_dir}"):
            slot.write(name, config, trained.model, metrics, work, started=started)
    distribution.wait_for_every_worker(strategy)
    trained.source = run_dir
    return RunResult(trained, metrics, history, run_dir, time.perf_counter() - started, role)


def _train(pipeline, config, data, work: TrainingFiles, strategy, callbacks=None) -> tuple[TrainedRun, dict, float]:
    """Builds a pipeline's task model and fits it on `data`; returns the trained run, its history and the seconds spent fitting.

    After multi-worker training, the run holds a copy of the model outside
    the strategy, which each worker can evaluate and export alone.
    """
    trainer = config.trainer
    preprocessor = pipeline.build_preprocessor(config, data)
    with strategy.scope():
        model = pipeline.build_task(config, data, preprocessor)
    # Only data configs whose examples are preprocessed before the network have a cache limit.
    cache_limit_mb = getattr(config.data, "cache_limit_mb", None)
    train = pipeline.dataset(data.train, model, trainer.batch_size, True, trainer.seed, cache_limit_mb)
    validation = pipeline.dataset(data.validation, model, trainer.batch_size, False, cache_limit_mb=cache_limit_mb)
    started = time.perf_counter()
    history = training.fit_task(
        model, train, validation, trainer, work, pipeline.default_loss(), pipeline.default_metrics(), strategy,
        callbacks=callbacks,
    )
    fit_seconds = time.perf_counter() - started
    if distribution.is_multi_worker(strategy):
        model = distribution.without_strategy(model)
    return TrainedRun(pipeline, config, model), history, fit_seconds


def _walk_forward_fold(
    pipeline, config, fold, position: tuple[int, int], work: TrainingFiles, strategy, role, trained, fingerprint
) -> dict | None:
    """A walk-forward fold's test metrics, labelled: from a fresh model trained on it, or from the run's own model.

    The last fold is the run's own split: its model is not trained twice.
    The chief alone evaluates; other workers return `None`.
    """
    index, count = position
    own_split = fold.fingerprint() == fingerprint
    label = describe_fold(index, count, fold.test, own_split)
    with progress.step(f"{pipeline.name}: walk-forward fold {label['fold']}, testing {label['test_period']}"):
        if not own_split:
            keras.utils.set_random_seed(config.trainer.seed)
            trained, _, _ = _train(pipeline, config, fold, work.fold(index), strategy)
        return {**label, **pipeline.evaluate(trained, fold.test)} if role.is_chief else None


def load(run_dir: str | Path) -> TrainedRun:
    """Restores the trained run in a run directory: `predict`, `evaluate`, `fine_tune`, `export`."""
    return TrainedRun.load(run_dir)
