"""Test-time augmentation by mirror images: each image and its left-right mirror, their features averaged, at inference only."""

from __future__ import annotations

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="toolkit")
class WithMirrorImages(keras.layers.Layer):
    """At inference, a batch of images followed by their left-right mirror images; in training, the batch as it is.

    With `MeanOverMirrorImages` after the layers that should see both, it
    makes a horizontal flip, the augmentation a model was trained with, a
    test-time augmentation too: the model's answer for an image is the mean
    over the image and its mirror image. Training pays nothing for it.

    Call arguments:
        images: `(batch, height, width[, channels])`; the width axis is 2.
        training: Python boolean; in training the images pass unchanged.

    Returns:
        `(2 * batch, height, width[, channels])` at inference: the images,
        then their mirror images in the same order.

    Example:

    >>> import numpy as np
    >>> from toolkit.layers import WithMirrorImages
    >>> WithMirrorImages()(np.array([[[1, 2, 3]]]), training=False).numpy().tolist()
    [[[1, 2, 3]], [[3, 2, 1]]]
    """

    def call(self, images, training=None):
        if training:
            return images
        return ops.concatenate([images, ops.flip(images, axis=2)], axis=0)

    def compute_output_shape(self, input_shape):
        return (None, *input_shape[1:])  # the batch doubles (or halves) at inference only


@keras.saving.register_keras_serializable(package="toolkit")
class MeanOverMirrorImages(keras.layers.Layer):
    """At inference, the mean of each example's features and its mirror image's, as `WithMirrorImages` stacked them.

    Call arguments:
        features: `(2 * batch, ...)` at inference: the images' features,
            then their mirror images'; `(batch, ...)` in training.
        training: Python boolean; in training the features pass unchanged.

    Returns:
        `(batch, ...)`.

    Example:

    >>> import numpy as np
    >>> from toolkit.layers import MeanOverMirrorImages
    >>> MeanOverMirrorImages()(np.array([[1.0], [3.0]]), training=False).numpy().tolist()
    [[2.0]]
    """

    def call(self, features, training=None):
        if training:
            return features
        originals, mirrors = ops.split(features, 2, axis=0)
        return (originals + mirrors) / 2

    def compute_output_shape(self, input_shape):
        return (None, *input_shape[1:])  # the batch doubles (or halves) at inference only
