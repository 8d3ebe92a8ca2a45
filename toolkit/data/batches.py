"""Batches for training: raw examples preprocessed once, cached, shuffled and padded."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from toolkit.config import option
from toolkit.data.splits import Split
from toolkit.errors import Notice

DEFAULT_CACHE_LIMIT_MB = 1024
# Examples preprocessed to estimate the size of a whole split.
_SIZE_SAMPLE = 256


def cache_limit_option():
    """The `data.cache_limit_mb` config field, the same in every data config whose examples are preprocessed."""
    return option(
        DEFAULT_CACHE_LIMIT_MB,
        "A split's preprocessed examples are kept in memory between epochs if they take at most this many MiB; a "
        "larger split is preprocessed afresh each epoch as it streams to the network, and images in a folder are "
        "then read from disk each epoch (0: always stream).",
        min=0,
    )


def preprocessed_batches(
    split: Split,
    preprocessor: keras.layers.Layer | None,
    batch_size: int,
    shuffle: bool,
    seed: int = 0,
    length_buckets: tuple[int, ...] | None = None,
    length_of: Callable[[Any], tf.Tensor] | None = None,
    cache_limit_mb: float | None = None,
) -> tf.data.Dataset:
    """A batched `tf.data` pipeline of preprocessed inputs and their targets.

    The preprocessor runs once per example and its outputs are cached in
    memory, so that later epochs spend no time (and no core) on it; unless
    they would take more than `cache_limit_mb`: then the raw examples are
    shuffled and preprocessed afresh every epoch, on as many cores as
    there are, and only a few batches are in memory at a time. Both ways
    give the same batches in the same order.

    Args:
        split: Raw inputs and targets.
        preprocessor: Applied to each raw input, or `None`.
        batch_size: Examples per batch.
        shuffle: Shuffle afresh every epoch (for training).
        seed: Seed of the shuffle.
        length_buckets: For variable-length sequences: batch examples of
            similar preprocessed length together (boundaries in steps), so
            that little time goes into padding. `None` pads each batch to
            its longest example.
        length_of: With `length_buckets`, a preprocessed input's length in
            steps; its first dimension by default.
        cache_limit_mb: The most preprocessed data to keep in memory, in
            MiB (estimated from a sample of the split); `None`: no limit.
    """
    data = tf.data.Dataset.from_tensor_slices((split.inputs, split.targets))
    streams = False
    if preprocessor is not None:

        def preprocess(dataset: tf.data.Dataset) -> tf.data.Dataset:
            return dataset.map(lambda x, y: (preprocessor(x), y), num_parallel_calls=tf.data.AUTOTUNE)

        preprocessed = preprocess(data)
        size = _mean_example_bytes(preprocessed) * len(split)
        streams = cache_limit_mb is not None and size > cache_limit_mb * 2**20
        data = data if streams else preprocessed.cache()
        if streams:
            warnings.warn(
                f"{len(split)} preprocessed examples would take about {size / 2**20:,.0f} MiB, more than "
                f"data.cache_limit_mb={cache_limit_mb:g}: they are preprocessed afresh each epoch instead of kept in memory.",
                Notice, stacklevel=2,
            )
    if shuffle:
        # The same seed and buffer draw the same order of examples, preprocessed or raw.
        data = data.shuffle(len(split), seed=seed, reshuffle_each_iteration=True)
    if streams:
        data = preprocess(data)
    if length_buckets is None:
        data = data.padded_batch(batch_size)
    else:
        data = data.bucket_by_sequence_length(
            lambda x, y: tf.shape(x)[0] if length_of is None else length_of(x),
            bucket_boundaries=list(length_buckets),
            bucket_batch_sizes=[batch_size] * (len(length_buckets) + 1),
        )
    return data.prefetch(tf.data.AUTOTUNE)


def _mean_example_bytes(data: tf.data.Dataset) -> float:
    """The mean size of a sample of `data`'s examples, in bytes."""
    sizes = [
        sum(np.asarray(value).nbytes for value in tf.nest.flatten(example))
        for example in data.take(_SIZE_SAMPLE).as_numpy_iterator()
    ]
    return float(np.mean(sizes)) if sizes else 0.0
