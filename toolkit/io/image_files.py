"""Image files as users give them: decoded and resized one way, for a class folder read in training and a file given to predict."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np
import tensorflow as tf

from toolkit.errors import InputError, Notice

# The file types `keras.utils.image_dataset_from_directory` reads; it skips any other file.
IMAGE_EXTENSIONS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")


def read_image_files(paths: list[str | Path], image_shape: list[int] | tuple[int, ...]) -> np.ndarray:
    """uint8 images of `image_shape` from image files, decoded and resized as the directory loader does.

    A file of another size is resized (bilinear, as `image_dataset_from_directory`)
    with a `Notice` that says so; colour is converted to the model's channels.

    Args:
        paths: Image files (.bmp, .gif, .jpeg, .jpg, .png).
        image_shape: `(height, width)` for grayscale, or `(height, width, channels)`.

    Returns:
        uint8 `(len(paths), *image_shape)`.

    Raises:
        FileNotFoundError: For a file that does not exist.
        InputError: For a file that cannot be decoded as an image, naming it and the decoder's reason.
    """
    height, width, *channels = image_shape
    images = []
    for path in map(Path, paths):
        if path.is_dir():
            raise InputError(f"{path}: is a folder; expected an image file.")
        if not path.is_file():
            raise FileNotFoundError(f"Image file not found: {path}")
        try:
            image = decode_image_file(path, channels[0] if channels else 1)
        except tf.errors.OpError as error:
            raise InputError(f"{path}: cannot be decoded as an image ({decoder_reason(error)}).") from None
        if tuple(image.shape[:2]) != (height, width):
            warnings.warn(
                f"{path}: {image.shape[0]}x{image.shape[1]} pixels, resized to {height}x{width}, the model's input.",
                Notice, stacklevel=2,
            )
        pixels = resized_uint8(image, height, width).numpy()
        images.append(pixels if channels else pixels[..., 0])
    return np.stack(images) if images else np.zeros((0, *image_shape), "uint8")


def decode_image_file(path: Path | tf.Tensor, channels: int = 0) -> tf.Tensor:
    """A file decoded by TensorFlow's decoder, the one Keras' directory loader uses; `channels` 0 keeps the file's own."""
    contents = tf.io.read_file(path if isinstance(path, tf.Tensor) else str(path))
    return tf.io.decode_image(contents, channels=channels, expand_animations=False)


def resized_uint8(image: tf.Tensor, height: int, width: int) -> tf.Tensor:
    """`image` resized as Keras' directory loader resizes (bilinear; unchanged at its own size), as uint8."""
    resized = tf.image.resize(image, (height, width), method="bilinear")
    return tf.cast(tf.clip_by_value(tf.round(resized), 0, 255), tf.uint8)


def decoder_reason(error: tf.errors.OpError) -> str:
    """The decoder's own words, without TensorFlow's op and device decorations."""
    reason = re.sub(r"\{\{[^}]*\}\}|\[Op:\w+\].*", "", error.message.splitlines()[0]).strip()
    return reason.rstrip(".") or type(error).__name__
