"""The base class every task pipeline fills in."""

from __future__ import annotations

import abc
from pathlib import Path
from typing import ClassVar

import keras
import numpy as np
import tensorflow as tf

from toolkit.data.splits import DataSplits, Split


class Pipeline(abc.ABC):
    """A task: how to load its data, build its model, evaluate and serve it.

    A pipeline is a recipe. The shared machinery (`toolkit.api.run`, the
    training loop, evaluation, export) calls these methods in order:
    `load_data`, `build_preprocessor` (adapted on the training split only),
    `build_network`, then `fit`, `evaluate` and `serving_outputs`.

    The model that is saved and served is `preprocessor` then `network`, so it
    takes raw inputs. For speed, training applies the preprocessor in the
    `tf.data` pipeline and fits only the network.
    """

    name: ClassVar[str]
    config_class: ClassVar[type]
    # For variable-length sequences: batch examples of similar preprocessed length
    # together (boundaries in steps), so that little time goes into padding.
    length_buckets: ClassVar[tuple[int, ...] | None] = None
    # Examples in time order (forecasting): fine-tuning holds out the latest ones for
    # validation rather than a random sample, which would leak the future.
    time_ordered: ClassVar[bool] = False

    @abc.abstractmethod
    def raw_input_spec(self, metadata: dict) -> tf.TensorSpec:
        """The batch of raw inputs the model and its serving signature take, such as strings or images."""

    @abc.abstractmethod
    def load_data(self, config) -> DataSplits:
        """Loads the raw data splits named by `config.data`."""

    def build_preprocessor(self, config, data: DataSplits) -> keras.layers.Layer | None:
        """Builds the raw-input preprocessor, adapted on `data.train` only; `None` for none."""
        return None

    def fit_baselines(self, config, data: DataSplits, preprocessor: keras.layers.Layer | None) -> dict:
        """Fits reference models on `data.train` that `evaluate` reports beside the network.

        Returns:
            JSON-ready entries to add to the task's metadata, so that a loaded
            task evaluates them too.
        """
        return {}

    def evaluation_folds(self, config) -> list[DataSplits]:
        """Further train/validation/test splits, such as walk-forward folds, to train and test a fresh model on each.

        `toolkit.run` reports the mean and spread of their test metrics under
        `walk_forward`; none by default.
        """
        return []

    @abc.abstractmethod
    def build_network(self, config, data: DataSplits, preprocessor: keras.layers.Layer | None) -> keras.Model:
        """Builds the trainable network, which takes the preprocessor's output."""

    @abc.abstractmethod
    def default_loss(self, metadata: dict):
        """The loss used when `trainer.loss` is null."""

    @abc.abstractmethod
    def default_metrics(self, metadata: dict) -> list:
        """The metrics used when `trainer.metrics` is null."""

    @abc.abstractmethod
    def evaluate(self, task, split: Split, plots_dir: Path | None = None, prefix: str = "") -> dict:
        """Computes held-out metrics for `task` on `split`, writing plots into `plots_dir`."""

    @abc.abstractmethod
    def serving_outputs(self, model: keras.Model, raw_inputs: tf.Tensor, metadata: dict) -> dict[str, tf.Tensor]:
        """Maps a batch of raw inputs to the named outputs of the serving signature."""

    def end_to_end_model(self, preprocessor: keras.layers.Layer | None, network: keras.Model, metadata: dict) -> keras.Model:
        """The model saved as `model.keras` and tracked by the export, holding both layers.

        By default, raw inputs → preprocessor → network. `serving_outputs` is
        given this model.
        """
        spec = self.raw_input_spec(metadata)
        raw = keras.Input(shape=spec.shape[1:], dtype=spec.dtype.name, name="raw_input")
        features = preprocessor(raw) if preprocessor is not None else raw
        return keras.Model(raw, network(features), name="end_to_end")

    def coerce_raw_inputs(self, raw_inputs, metadata: dict) -> np.ndarray:
        """Turns user-given raw inputs (a list, an array, a DataFrame) into an array."""
        return np.asarray(raw_inputs)

    def fine_tune_data(self, data, metadata: dict) -> Split:
        """Turns what `Task.fine_tune` or `Task.evaluate` is given into a `Split`.

        The default takes `(raw_inputs, targets)`; pipelines may also take a
        file, whose labels they map with `metadata`.
        """
        inputs, targets = data
        return Split(self.coerce_raw_inputs(inputs, metadata), np.asarray(targets))

    def dataset(
        self,
        split: Split,
        preprocessor: keras.layers.Layer | None,
        batch_size: int,
        shuffle: bool,
        seed: int = 0,
    ) -> tf.data.Dataset:
        """A batched `tf.data` pipeline of preprocessed inputs and targets.

        The preprocessor runs once per example and its outputs are cached in
        memory, so that later epochs spend no time (and no core) on it.
        """
        data = tf.data.Dataset.from_tensor_slices((split.inputs, split.targets))
        if preprocessor is not None:
            data = data.map(lambda x, y: (preprocessor(x), y), num_parallel_calls=tf.data.AUTOTUNE).cache()
        if shuffle:
            data = data.shuffle(len(split), seed=seed, reshuffle_each_iteration=True)
        if self.length_buckets is None:
            data = data.padded_batch(batch_size)
        else:
            data = data.bucket_by_sequence_length(
                lambda x, y: tf.shape(x)[0],
                bucket_boundaries=list(self.length_buckets),
                bucket_batch_sizes=[batch_size] * (len(self.length_buckets) + 1),
            )
        return data.prefetch(tf.data.AUTOTUNE)
