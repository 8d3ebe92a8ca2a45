"""The Python API: `toolkit.run(name, ...)` trains and exports; `toolkit.load(run_dir)` restores."""

from __future__ import annotations

import dataclasses
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import keras

from toolkit import config as config_lib
from toolkit import training
from toolkit.evaluation.folds import summarize_folds
from toolkit.evaluation.plots import plot_learning_curves
from toolkit.export import write_run_dir
from toolkit.registry import get_pipeline
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
) -> RunResult:
    """Trains, evaluates and exports a pipeline.

    Started again with the same `run_name` after being killed, a run resumes
    from its last finished epoch.

    Args:
        name: A registered pipeline, such as `"sentiment"`.
        config: A YAML path, a dict, a config instance, or `None` for the
            pipeline's defaults.
        overrides: Dotted overrides, such as `["trainer.epochs=3"]` or
            `{"trainer.epochs": 3}`.
        run_name: The run directory's name; defaults to a timestamp.
        output_dir: Runs go to `output_dir/<name>/<run_name>/`.

    Returns:
        A `RunResult`.
    """
    started = time.perf_counter()
    pipeline = get_pipeline(name)
    config = resolve_config(name, config, overrides)
    run_name = run_name or time.strftime("%Y%m%d-%H%M%S")
    run_dir = Path(output_dir) / name / run_name
    work_dir = run_dir.parent / f".{run_name}.work"
    keras.utils.set_random_seed(config.trainer.seed)

    data = pipeline.load_data(config)
    task, history = _train(pipeline, config, data, work_dir)

    plots_dir = work_dir / "plots"
    metrics = {"test": pipeline.evaluate(task, data.test, plots_dir)}
    for split_name, split in data.extra_tests.items():
        metrics[split_name] = pipeline.evaluate(task, split, plots_dir, prefix=f"{split_name}_")
    folds = pipeline.evaluation_folds(config)
    if folds:
        metrics["walk_forward"] = _evaluate_folds(pipeline, config, folds, work_dir)
    plot_learning_curves(history, plots_dir / "learning_curves.png")
    metrics["epochs_trained"] = len(next(iter(history.values()), []))
    metrics["train_seconds"] = round(time.perf_counter() - started, 1)

    write_run_dir(
        run_dir,
        task,
        metrics,
        extra_dirs={"plots": plots_dir, "logs": work_dir / "logs"},
        extra_files={"training_log.csv": work_dir / "training_log.csv", "history.json": work_dir / "history.json"},
    )
    shutil.rmtree(work_dir, ignore_errors=True)
    return RunResult(task, metrics, history, run_dir, time.perf_counter() - started)


def _train(pipeline, config, data, work_dir: Path) -> tuple[Task, dict]:
    """Builds, compiles and fits a pipeline's model on `data`; returns the task and its history."""
    trainer = config.trainer
    strategy = training.distribution_strategy(trainer.distribution)
    preprocessor = pipeline.build_preprocessor(config, data)
    metadata = {**data.metadata, **pipeline.fit_baselines(config, data, preprocessor)}
    with strategy.scope():
        network = pipeline.build_network(config, data, preprocessor)
        training.compile_model(network, trainer, pipeline.default_loss(metadata), pipeline.default_metrics(metadata))
    history = training.fit(
        network,
        pipeline.dataset(data.train, preprocessor, trainer.batch_size, shuffle=True, seed=trainer.seed),
        pipeline.dataset(data.validation, preprocessor, trainer.batch_size, shuffle=False),
        trainer,
        work_dir,
    )
    return Task(pipeline, config, preprocessor, network, metadata), history


def _evaluate_folds(pipeline, config, folds: list, work_dir: Path) -> dict:
    """Trains a fresh model per fold and evaluates it on that fold's test split."""
    results = []
    for index, fold in enumerate(folds):
        keras.utils.set_random_seed(config.trainer.seed)
        task, _ = _train(pipeline, config, fold, work_dir / f"fold_{index}")
        results.append(pipeline.evaluate(task, fold.test))
    return summarize_folds(results)


def load(run_dir: str | Path) -> Task:
    """Restores the task in a run directory: `predict`, `evaluate`, `fine_tune`, `export`."""
    return Task.load(run_dir)
