"""Checks on image batches inside a serving graph."""

from __future__ import annotations

import tensorflow as tf


def checked_image_batch(images: tf.Tensor, image_shape: list[int] | tuple[int, ...]) -> tf.Tensor:
    """`images`, after asserting in the graph that they are `(batch, *image_shape)`.

    A SavedModel signature checks the dtype of its inputs but not all of their
    shape; this makes a wrong shape fail with a message that says which one is
    expected, rather than deep inside the network.
    """
    shape = tf.shape(images)
    expected = tf.constant(list(image_shape), tf.int32)
    same_rank = tf.equal(tf.size(shape), len(image_shape) + 1)
    matches = tf.cond(same_rank, lambda: tf.reduce_all(tf.equal(shape[1:], expected)), lambda: tf.constant(False))
    description = ", ".join(map(str, image_shape))
    check = tf.debugging.Assert(matches, [f"images: expected uint8 images of shape [batch, {description}], got", shape])
    with tf.control_dependencies([check]):
        return tf.identity(images)
