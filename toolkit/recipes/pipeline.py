"""The base class every task pipeline fills in, and the mixin of pipelines also evaluated walk-forward."""

from __future__ import annotations

import abc
from pathlib import Path
from typing import ClassVar

import keras
import tensorflow as tf

from toolkit.data.batches import preprocessed_batches
from toolkit.data.splits import DataSplits, Split
from toolkit.models.task import TaskModel


class Pipeline(abc.ABC):
    """A task: how to load its data, build its model, and evaluate it.

    A pipeline is a recipe. `toolkit.run` calls `load_data`,
    `build_preprocessor` (adapted on the training split only), then
    `build_task` inside the distribution strategy's scope, fits the task
    model's `network` on `dataset`s, and `evaluate_run`s the result. What the
    trained task needs in order to serve lives in its `TaskModel`, not here.
    """

    name: ClassVar[str]
    config_class: ClassVar[type]
    task_class: ClassVar[type[TaskModel]]

    @abc.abstractmethod
    def load_data(self, config) -> DataSplits:
        """Loads the raw data splits named by `config.data`."""

    def build_preprocessor(self, config, data: DataSplits) -> keras.layers.Layer | None:
        """Builds the raw-input preprocessor, adapted on `data.train` only; `None` for none."""
        return None

    @abc.abstractmethod
    def build_task(self, config, data: DataSplits, preprocessor: keras.layers.Layer | None) -> TaskModel:
        """Builds the untrained task model around `preprocessor`, with anything else fitted on `data.train` only."""

    @abc.abstractmethod
    def default_loss(self):
        """The loss used when `trainer.loss` is null."""

    @abc.abstractmethod
    def default_metrics(self) -> list:
        """The metrics used when `trainer.metrics` is null."""

    @abc.abstractmethod
    def evaluate(self, trained, split: Split, plots_dir: Path | None = None, prefix: str = "") -> dict:
        """Computes held-out metrics for the trained `trained` on `split`, writing plots into `plots_dir`."""

    def evaluate_run(self, trained, data: DataSplits, plots_dir: Path | None = None) -> dict:
        """A run's held-out metrics, by split name (see `DataSplits.held_out`); plots of splits but `test` are prefixed."""
        return {name: self.evaluate(trained, split, plots_dir, plot_prefix(name)) for name, split in data.held_out().items()}

    def dataset(
        self, split: Split, model: TaskModel, batch_size: int, shuffle: bool, seed: int = 0, cache_limit_mb: float | None = None
    ) -> tf.data.Dataset:
        """Batches of `split` for fitting `model.network`: inputs preprocessed once and cached, if they fit (see `preprocessed_batches`)."""
        return preprocessed_batches(split, model.preprocessor, batch_size, shuffle, seed, cache_limit_mb=cache_limit_mb)

    @abc.abstractmethod
    def fine_tune_data(self, data, model: TaskModel) -> Split:
        """Turns what `TrainedRun.fine_tune` or `TrainedRun.evaluate` is given into a `Split`.

        Such as `(raw_inputs, targets)` checked against what `model` knows, or a file.
        """


def plot_prefix(split_name: str) -> str:
    """The prefix of a held-out split's plot files: none for `test`, `<name>_` for the others."""
    return "" if split_name == "test" else f"{split_name}_"


class WalkForwardEvaluation(abc.ABC):
    """A pipeline mixin: the run also trains and tests a fresh model on each of further folds in time.

    `toolkit.run` reports the mean and spread of their test metrics under
    `walk_forward`.
    """

    @abc.abstractmethod
    def walk_forward_folds(self, config) -> list[DataSplits]:
        """The folds to train and test on, oldest first; an empty list for none."""
