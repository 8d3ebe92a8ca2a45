"""Pooling a sequence over time, padding excluded."""

from __future__ import annotations

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="toolkit")
class MaxAndMeanPooling1D(keras.layers.Layer):
    """The maximum and the mean of each feature over the unmasked time steps, concatenated.

    Pooling every step's output, rather than keeping the last state, lets a
    many-to-one recurrent network use what it saw anywhere in a long
    sequence. Unlike `keras.layers.GlobalMaxPooling1D`, the maximum skips
    masked (padding) steps, so a sequence gets the same features alone or
    padded in a batch.

    Call arguments:
        sequences: Floats of shape `(batch, steps, features)`.
        mask: Booleans of shape `(batch, steps)`, true at real steps; the
            layer before it (an `Embedding(mask_zero=True)` and RNNs) passes it.

    Returns:
        Floats of shape `(batch, 2 * features)`: the maxima, then the means.
        A sequence with no real step gets zeros.

    Example:

    >>> import numpy as np
    >>> from toolkit.layers import MaxAndMeanPooling1D
    >>> sequences = np.array([[[1.0], [3.0], [-9.0]]])
    >>> mask = np.array([[True, True, False]])
    >>> MaxAndMeanPooling1D()(sequences, mask=mask).numpy().tolist()
    [[3.0, 2.0]]
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def call(self, sequences, mask=None):
        if mask is None:
            return ops.concatenate([ops.max(sequences, axis=1), ops.mean(sequences, axis=1)], axis=-1)
        real = ops.expand_dims(ops.cast(mask, "bool"), -1)
        count = ops.sum(ops.cast(real, sequences.dtype), axis=1)
        lowest = ops.full_like(sequences, float("-inf"))
        maxima = ops.max(ops.where(real, sequences, lowest), axis=1)
        maxima = ops.where(count > 0, maxima, ops.zeros_like(maxima))
        means = ops.sum(ops.where(real, sequences, ops.zeros_like(sequences)), axis=1) / ops.maximum(count, 1.0)
        return ops.concatenate([maxima, means], axis=-1)

    def compute_mask(self, sequences, mask=None):
        return None

    def compute_output_shape(self, input_shape):
        return (input_shape[0], 2 * input_shape[-1])
