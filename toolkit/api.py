"""The Python API: `toolkit.run(name, ...)` trains and exports; `toolkit.load(run_dir)` restores."""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from pathlib import Path

import keras

from toolkit import config as config_lib
from toolkit import run_directory, training
from toolkit.evaluation.folds import summarize_folds
from toolkit.evaluation.plots import plot_learning_curves
from toolkit.pipelines.base import WalkForwardEvaluation
from toolkit.registry import get_pipeline
from toolkit.run_directory import TrainingFiles
from toolkit.task import Task

DEFAULT_OUTPUT_DIR = Path("saved_models")


@dataclass
class RunResult:
    """What `toolkit.run` returns.

    Attributes:
        task: The trained task (`predict`, `evaluate`, `fine_tune`, `export`).
        metrics: The held-out metrics, as written to `metrics.json`.
        history: Per-epoch training logs.
        run_dir: The run directory.
        seconds: Wall time of the whole run.
    """

    task: Task
    metrics: dict
    history: dict
    run_dir: Path
    seconds: float

    @property
    def model(self) -> keras.Model:
        """The end-to-end model: raw inputs in."""
        return self.task.model


def resolve_config(name: str, config=None, overrides=None):
    """Resolves a pipeline's config from a path, a dict, an instance or the defaults, then overrides."""
    pipeline = get_pipeline(name)
    cls = pipeline.config_class
    if config is None or isinstance(config, (str, Path)):
        return config_lib.load_config(cls, config, overrides)
    if dataclasses.is_dataclass(config):
        config = config_lib.to_dict(config)
    return config_lib.from_dict(cls, config_lib.apply_overrides(config, overrides))


def run(
    name: str,
    config=None,
    overrides: list[str] | dict | None = None,
    run_name: str | None = None,
    output_dir: str | Path = DEFAULT_OUTPUT_DIR,
    fresh: bool = False,
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
    run_dir = run_directory.run_path(output_dir, name, time.strftime("%Y%m%d-%H%M%S") if run_name is None else run_name)
    with run_directory.claim(run_dir) as slot:
        keras.utils.set_random_seed(config.trainer.seed)
        data = pipeline.load_data(config)
        work = slot.work(name, config, data.fingerprint(), fresh)
        task, history, fit_seconds = _train(pipeline, config, data, work)

        metrics = pipeline.evaluate_run(task, data, work.plots)
        if isinstance(pipeline, WalkForwardEvaluation) and (folds := pipeline.walk_forward_folds(config)):
            metrics["walk_forward"] = _evaluate_folds(pipeline, config, folds, work)
        plot_learning_curves(history, work.plots / "learning_curves.png")
        metrics["epochs_trained"] = training.epochs_trained(task.model, history)
        metrics["fit_seconds"] = round(fit_seconds, 1)
        slot.write(name, config, task.model, metrics, work, started=started)
    task.source = run_dir
    return RunResult(task, metrics, history, run_dir, time.perf_counter() - started)


def _train(pipeline, config, data, work: TrainingFiles) -> tuple[Task, dict, float]:
    """Builds a pipeline's task model and fits it on `data`; returns the task, its history and the seconds spent fitting."""
    trainer = config.trainer
    strategy = training.distribution_strategy(trainer.distribution)
    preprocessor = pipeline.build_preprocessor(config, data)
    with strategy.scope():
        model = pipeline.build_task(config, data, preprocessor)
    train = pipeline.dataset(data.train, model, trainer.batch_size, shuffle=True, seed=trainer.seed)
    validation = pipeline.dataset(data.validation, model, trainer.batch_size, shuffle=False)
    started = time.perf_counter()
    history = training.fit_task(
        model, train, validation, trainer, work, pipeline.default_loss(), pipeline.default_metrics(), strategy
    )
    return Task(pipeline, config, model), history, time.perf_counter() - started


def _evaluate_folds(pipeline, config, folds: list, work: TrainingFiles) -> dict:
    """Trains a fresh model per fold and evaluates it on that fold's test split."""
    results = []
    for index, fold in enumerate(folds):
        keras.utils.set_random_seed(config.trainer.seed)
        task, _, _ = _train(pipeline, config, fold, work.fold(index))
        results.append(pipeline.evaluate(task, fold.test))
    return summarize_folds(results)


def load(run_dir: str | Path) -> Task:
    """Restores the task in a run directory: `predict`, `evaluate`, `fine_tune`, `export`."""
    return Task.load(run_dir)
