"""An auxiliary loss for a captioner: which words a caption of the image uses, predicted from the image alone."""

from __future__ import annotations

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="toolkit")
class WordPresenceLoss(keras.layers.Layer):
    """Adds, in training, a multi-label loss for predicting from image features which words the caption holds.

    A factored supervision of the image encoder (concept or attribute
    prediction, as in Wu et al., 2016): each word is its own yes-or-no
    question, so the features must tell a colour apart from a kind rather
    than only recognise pairs seen together. The layer passes its first
    input through unchanged, so that it sits on the training graph's path
    without changing what the network computes; at inference it does nothing.

    Args:
        vocabulary_size: Number of word ids.
        weight: The loss's weight beside the captioning loss.
        ignored_ids: Ids that are not words (padding, unknown, start, end).
        **kwargs: Base layer keyword arguments, such as `name`.

    Call arguments:
        inputs: `[passthrough, features, ids]`: any tensor, returned as it
            is; image features `(batch, features)`; and the caption's word
            ids `(batch, steps)`.
        training: Python boolean; the loss is added in training only.

    Returns:
        `passthrough`.

    Example:

    >>> import numpy as np
    >>> from toolkit.layers import WordPresenceLoss
    >>> layer = WordPresenceLoss(vocabulary_size=6, weight=1.0, ignored_ids=(0,))
    >>> x = np.ones((2, 3), "float32")
    >>> out = layer([x, np.ones((2, 4), "float32"), np.array([[4, 5, 0], [2, 0, 0]])], training=True)
    >>> bool((out.numpy() == x).all()), len(layer.losses)
    (True, 1)
    """

    def __init__(self, vocabulary_size: int, weight: float, ignored_ids: tuple[int, ...] = (0,), **kwargs):
        super().__init__(**kwargs)
        if not isinstance(vocabulary_size, int) or vocabulary_size <= 0:
            raise ValueError(f"WordPresenceLoss: `vocabulary_size` must be a positive integer, got {vocabulary_size!r}.")
        if weight < 0:
            raise ValueError(f"WordPresenceLoss: `weight` must be at least 0, got {weight!r}.")
        self.vocabulary_size = int(vocabulary_size)
        self.weight = float(weight)
        self.ignored_ids = tuple(int(i) for i in ignored_ids)
        self.presence = keras.layers.Dense(self.vocabulary_size, name="presence")

    def build(self, input_shape):
        if not self.presence.built:
            self.presence.build(input_shape[1])

    def call(self, inputs, training=None):
        passthrough, features, ids = inputs
        if training and self.weight > 0:
            present = ops.max(ops.one_hot(ops.cast(ids, "int32"), self.vocabulary_size), axis=1)
            counted = ops.cast([index not in self.ignored_ids for index in range(self.vocabulary_size)], present.dtype)
            losses = ops.binary_crossentropy(present, self.presence(features), from_logits=True)
            self.add_loss(self.weight * ops.sum(ops.mean(losses, axis=0) * counted) / ops.sum(counted))
        return passthrough

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def compute_mask(self, inputs, mask=None):
        return None if mask is None else mask[0]

    def get_config(self):
        return {**super().get_config(), "vocabulary_size": self.vocabulary_size, "weight": self.weight,
                "ignored_ids": list(self.ignored_ids)}
