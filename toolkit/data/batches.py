"""Batches for training: raw examples preprocessed once, cached, shuffled and padded."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import keras
import tensorflow as tf

from toolkit.data.splits import Split


def preprocessed_batches(
    split: Split,
    preprocessor: keras.layers.Layer | None,
    batch_size: int,
    shuffle: bool,
    seed: int = 0,
    length_buckets: tuple[int, ...] | None = None,
    length_of: Callable[[Any], tf.Tensor] | None = None,
) -> tf.data.Dataset:
    """A batched `tf.data` pipeline of preprocessed inputs and their targets.

    The preprocessor runs once per example and its outputs are cached in
    memory, so that later epochs spend no time (and no core) on it.

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
    """
    data = tf.data.Dataset.from_tensor_slices((split.inputs, split.targets))
    if preprocessor is not None:
        data = data.map(lambda x, y: (preprocessor(x), y), num_parallel_calls=tf.data.AUTOTUNE).cache()
    if shuffle:
        data = data.shuffle(len(split), seed=seed, reshuffle_each_iteration=True)
    if length_buckets is None:
        data = data.padded_batch(batch_size)
    else:
        data = data.bucket_by_sequence_length(
            lambda x, y: tf.shape(x)[0] if length_of is None else length_of(x),
            bucket_boundaries=list(length_buckets),
            bucket_batch_sizes=[batch_size] * (len(length_buckets) + 1),
        )
    return data.prefetch(tf.data.AUTOTUNE)
