"""Checks on a batch of raw inputs inside a serving graph, with messages that say what was expected and found.

A SavedModel signature does not check the shape of what it is given: its
graph would fail deep inside the network ("Incompatible shapes: [2] vs. [3]",
"slice index 4 of dimension 2 out of bounds"), or worse, answer a batch of
the wrong shape. These assertions run first, in TensorFlow ops, so they hold
in the exported graph as in Python.
"""

from __future__ import annotations

import tensorflow as tf


def checked_batch(
    inputs: tf.Tensor, spec: tf.TensorSpec, what: str, also: str = "", found: tf.Tensor | None = None
) -> tf.Tensor:
    """`inputs`, after asserting in the graph that their rank and dimensions are those of `spec`.

    Args:
        inputs: A batch of raw inputs, of any rank.
        spec: The expected batch: its first dimension is the batch, of any size.
        what: What the inputs are, for the message, such as `"uint8 images"`.
        also: Follows the expected shape in the message: what else is taken, or
            what the dimensions mean.
        found: The shape to report, when `inputs` were reshaped from what was
            given; `None` reports the shape of `inputs`.

    Returns:
        `inputs`, with the static shape of `spec`.
    """
    expected = spec.shape.as_list()
    shape = tf.shape(inputs)
    known = [(axis, size) for axis, size in enumerate(expected) if axis > 0 and size is not None]

    def dimensions_match():
        if not known:
            return tf.constant(True)
        return tf.reduce_all(tf.stack([tf.equal(shape[axis], size) for axis, size in known]))

    matches = tf.cond(tf.equal(tf.size(shape), len(expected)), dimensions_match, lambda: tf.constant(False))
    description = ", ".join(["batch", *(str(size) for size in expected[1:])])
    message = f"{spec.name}: expected {what} of shape [{description}]{also}, got shape"
    check = tf.debugging.Assert(matches, [message, shape if found is None else found], summarize=8)
    with tf.control_dependencies([check]):
        return tf.ensure_shape(tf.identity(inputs), expected)


def checked_image_batch(images: tf.Tensor, image_shape: list[int] | tuple[int, ...]) -> tf.Tensor:
    """uint8 `images` checked to be `(batch, *image_shape)`; for grayscale, a trailing channel axis of 1 is taken too.

    Grayscale images often come as `(batch, H, W, 1)`, as Keras' own image
    loaders give them; that axis is dropped rather than refused.

    Args:
        images: A batch of images, of any rank.
        image_shape: `(height, width)` for grayscale, or `(height, width, channels)`.

    Returns:
        `images`, without a grayscale channel axis, with the static shape `(batch, *image_shape)`.
    """
    image_shape = list(image_shape)
    given_shape = tf.shape(images)
    if len(image_shape) == 2 and images.shape.rank is None:  # an exported signature: any rank
        has_channel_axis = tf.cond(
            tf.equal(tf.size(given_shape), 4), lambda: tf.equal(given_shape[3], 1), lambda: tf.constant(False)
        )
        images = tf.cond(has_channel_axis, lambda: tf.squeeze(images, -1), lambda: images)
    elif len(image_shape) == 2 and images.shape.rank == 4 and images.shape[-1] == 1:
        images = tf.squeeze(images, -1)
    spec = tf.TensorSpec([None, *image_shape], tf.uint8, name="images")
    also = f" or [batch, {', '.join(map(str, image_shape))}, 1]" if len(image_shape) == 2 else ""
    return checked_batch(images, spec, "uint8 images", also, found=given_shape)


def checked_text_lengths(texts: tf.Tensor, max_characters: int | None, name: str) -> tf.Tensor:
    """`texts` after asserting that none has more than `max_characters` characters (`serving.max_characters`).

    Args:
        texts: A batch of strings, of any rank.
        max_characters: The most characters (Unicode code points) a text may have; `None`: no limit.
        name: What a text is called in the message, such as `"text"` or `"prompt"`.
    """
    if max_characters is None:
        return texts
    lengths = tf.cast(tf.strings.length(texts, unit="UTF8_CHAR"), tf.int64)
    too_long = tf.where(tf.reshape(lengths, [-1]) > max_characters)[:, 0]
    check = tf.debugging.Assert(
        tf.equal(tf.size(too_long), 0),
        [f"{name}: at most {max_characters} characters per {name} (serving.max_characters); longer {name}s at rows",
         too_long],
        summarize=5,
    )
    with tf.control_dependencies([check]):
        return tf.identity(texts)
