"""Image files as users give them: decoded and resized one way, for a class folder read in training and a file given to predict.

TensorFlow's decoder (the one Keras' directory loader uses) decodes what it
can: BMP, GIF, JPEG, PNG and WebP. Pillow reads the rest that toolkit takes
(TIFF), and every file's header first: its size, checked against a pixel
limit before anything is decoded; its EXIF orientation, applied as
`PIL.ImageOps.exif_transpose` applies it; and its colour mode, so that a
CMYK JPEG becomes grayscale through RGB rather than through a conversion
libjpeg refuses.
"""

from __future__ import annotations

import io
import re
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import tensorflow as tf
from PIL import Image, ImageOps, UnidentifiedImageError

from toolkit.errors import InputError, Notice

# What TensorFlow's decoder reads (the types Keras' directory loader takes, and WebP), and what Pillow reads for it.
TENSORFLOW_EXTENSIONS = (".bmp", ".gif", ".jpeg", ".jpg", ".png", ".webp")
PILLOW_EXTENSIONS = (".tif", ".tiff")
# Pillow's names of those formats, for bytes that come without a file name.
_PILLOW_FORMATS = ("TIFF",)
IMAGE_EXTENSIONS = TENSORFLOW_EXTENSIONS + PILLOW_EXTENSIONS
# Formats TensorFlow decodes only in colour.
_RGB_ONLY_FORMATS = ("BMP", "GIF", "WEBP")
_EXIF_ORIENTATION = 0x0112
# EXIF orientation → the transposition that turns the stored pixels upright, as `ImageOps.exif_transpose` has it.
_UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


class ImageFileError(InputError):
    """A file that cannot be read as an image, or is larger than allowed; the message names it and why.

    Attributes:
        path: The file, or what the bytes of an image in memory are.
        reason: Why, in a few words.
    """

    def __init__(self, path: Path | str, reason: str):
        super().__init__(f"{path}: {reason}.")
        self.path = path
        self.reason = reason


def read_image_files(
    paths: list[str | Path], image_shape: list[int] | tuple[int, ...], max_pixels: int | None = None
) -> np.ndarray:
    """uint8 images of `image_shape` from image files, decoded and resized as the directory loader does.

    A file of another size is resized (bilinear, as `image_dataset_from_directory`)
    with a `Notice` that says so; colour is converted to the model's channels.

    Args:
        paths: Image files (see `IMAGE_EXTENSIONS`).
        image_shape: `(height, width)` for grayscale, or `(height, width, channels)`.
        max_pixels: Refuse a file of more pixels than this, from its header; `None`: no limit.

    Returns:
        uint8 `(len(paths), *image_shape)`.

    Raises:
        FileNotFoundError: For a file that does not exist.
        InputError: For a folder, or a file that cannot be decoded as an image, naming it and the decoder's reason.
    """
    height, width, *channels = image_shape
    images = []
    for path in map(Path, paths):
        if path.is_dir():
            raise InputError(f"{path}: is a folder; expected an image file.")
        if not path.is_file():
            raise FileNotFoundError(f"Image file not found: {path}")
        image = decode_image_file(path, channels[0] if channels else 1, max_pixels)
        if tuple(image.shape[:2]) != (height, width):
            warnings.warn(
                f"{path}: {image.shape[0]}x{image.shape[1]} pixels, resized to {height}x{width}, the model's input.",
                Notice, stacklevel=2,
            )
        pixels = resized_uint8(image, height, width).numpy()
        images.append(pixels if channels else pixels[..., 0])
    return np.stack(images) if images else np.zeros((0, *image_shape), "uint8")


def decode_image_file(path: str | Path, channels: int, max_pixels: int | None = None) -> np.ndarray:
    """The image in a file, upright, as uint8 `(height, width, channels)`.

    Args:
        path: An image file.
        channels: 1 (grayscale) or 3 (RGB); 0 keeps the file's own.
        max_pixels: Refuse a file of more pixels than this, from its header; `None`: no limit.

    Raises:
        ImageFileError: Naming the file and the reason: not an image, damaged, or too large.
    """
    path = Path(path)
    pillow_only = path.suffix.lower() in PILLOW_EXTENSIONS
    return _decoded(path, path, pillow_only, lambda: tf.io.read_file(str(path)), channels, max_pixels)


def decode_image_bytes(contents: bytes, name: str, channels: int, max_pixels: int | None = None) -> np.ndarray:
    """The image in a file's bytes held in memory (an upload, say), decoded as `decode_image_file` decodes a file.

    Nothing is written to disk. The formats only Pillow reads (TIFF) are
    told by the header, as there is no file name.

    Args:
        contents: The bytes of an image file of a format in `IMAGE_EXTENSIONS`.
        name: What the bytes are, for messages, such as `"images: instance 0"`.
        channels: 1 (grayscale) or 3 (RGB); 0 keeps the image's own.
        max_pixels: Refuse an image of more pixels than this, from its header; `None`: no limit.

    Raises:
        ImageFileError: Naming `name` and the reason: not an image, damaged, or too large.
    """
    return _decoded(io.BytesIO(contents), name, None, lambda: tf.constant(contents), channels, max_pixels)


def _decoded(
    source: Path | io.BytesIO,
    name: Path | str,
    pillow_only: bool | None,
    contents: Callable[[], tf.Tensor],
    channels: int,
    max_pixels: int | None,
) -> np.ndarray:
    """The image in `source`, upright: Pillow reads its header, then TensorFlow's decoder (or Pillow's) its pixels.

    `pillow_only` says whether only Pillow reads it (from a file name's
    suffix); `None` leaves it to the header's format.
    """
    pixels, orientation, mode, file_format = None, 1, None, None
    try:
        with Image.open(source) as header:
            _check_pixels(name, header.width, header.height, max_pixels)
            mode, file_format = header.mode, header.format
            if pillow_only or (pillow_only is None and header.format in _PILLOW_FORMATS):
                # Pillow turns what it reads upright itself (a TIFF's orientation, say), exactly once.
                return _pillow_pixels(ImageOps.exif_transpose(header), channels)
            orientation = header.getexif().get(_EXIF_ORIENTATION, 1)
    except Image.DecompressionBombError as error:
        raise ImageFileError(name, f"more pixels than Pillow reads safely ({_reason(error)}); it was not decoded") from None
    except (UnidentifiedImageError, OSError) as error:
        if pillow_only:
            raise ImageFileError(name, f"cannot be decoded as an image ({_reason(error)})") from None
        # TensorFlow's decoder says best why a file it should read is not an image (or reads one Pillow cannot).
    pixels = _tensorflow_pixels(name, contents, channels, mode, file_format)
    _check_pixels(name, pixels.shape[1], pixels.shape[0], max_pixels)
    return _upright(pixels, orientation)


def _check_pixels(path: Path | str, width: int, height: int, max_pixels: int | None) -> None:
    if max_pixels is not None and width * height > max_pixels:
        raise ImageFileError(
            path, f"{width}x{height} pixels, more than the {max_pixels} this model reads from a file "
            "(serving.max_image_pixels); it was not decoded"
        )


def _upright(pixels: np.ndarray, orientation: int) -> np.ndarray:
    """`pixels` turned as their EXIF `orientation` says, by Pillow's own transpositions."""
    if orientation not in _UPRIGHT:
        return pixels
    planes = [np.asarray(Image.fromarray(pixels[..., channel]).transpose(_UPRIGHT[orientation])) for channel in range(pixels.shape[-1])]
    return np.stack(planes, axis=-1)


def _pillow_pixels(image: Image.Image, channels: int) -> np.ndarray:
    """A file TensorFlow cannot decode, by Pillow, in the channels asked for."""
    target = {1: "L", 3: "RGB"}.get(channels, "RGB" if image.mode not in ("L", "1") else "L")
    pixels = np.asarray(image.convert(target))
    return pixels[..., None] if pixels.ndim == 2 else pixels


def _tensorflow_pixels(
    name: Path | str, contents: Callable[[], tf.Tensor], channels: int, mode: str | None, file_format: str | None
) -> np.ndarray:
    """An image decoded by TensorFlow's decoder, the one Keras' directory loader uses, from what `contents` reads."""
    try:
        # libjpeg refuses CMYK to grayscale, and TensorFlow's BMP, GIF and WebP decoders any grayscale: through RGB.
        if channels == 1 and (mode == "CMYK" or file_format in _RGB_ONLY_FORMATS):
            return tf.image.rgb_to_grayscale(tf.io.decode_image(contents(), channels=3, expand_animations=False)).numpy()
        return tf.io.decode_image(contents(), channels=channels, expand_animations=False).numpy()
    except tf.errors.OpError as error:
        raise ImageFileError(name, f"cannot be decoded as an image ({decoder_reason(error)})") from None


def decode_in_dataset(path: tf.Tensor, channels: int) -> tf.Tensor:
    """`decode_image_file` inside a `tf.data` pipeline: a string tensor in, uint8 `(height, width, channels)` out."""
    image = tf.py_function(lambda name: decode_image_file(name.numpy().decode(), channels), [path], tf.uint8)
    image.set_shape([None, None, channels])
    return image


def resized_uint8(image: tf.Tensor | np.ndarray, height: int, width: int) -> tf.Tensor:
    """`image` resized as Keras' directory loader resizes (bilinear; unchanged at its own size), as uint8."""
    resized = tf.image.resize(image, (height, width), method="bilinear")
    return tf.cast(tf.clip_by_value(tf.round(resized), 0, 255), tf.uint8)


def decoder_reason(error: tf.errors.OpError) -> str:
    """The decoder's own words, without TensorFlow's op and device decorations."""
    reason = re.sub(r"\{\{[^}]*\}\}|\[Op:\w+\].*", "", error.message.splitlines()[0]).strip()
    return reason.rstrip(".") or type(error).__name__


def _reason(error: Exception) -> str:
    """Pillow's words, without the file name it quotes (the message names the file already)."""
    return re.sub(r"\s*'[^']*'", "", str(error)).strip(" :").rstrip(".") or type(error).__name__
