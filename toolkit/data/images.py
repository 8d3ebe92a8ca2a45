"""Labelled images: real Fashion-MNIST from Debian, a folder per class, tfds datasets, and scikit-learn's digits."""

from __future__ import annotations

import hashlib
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import keras
import numpy as np
import tensorflow as tf

from toolkit.config import ConfigError, option
from toolkit.data.batches import cache_limit_option
from toolkit.data.splits import DataSplits, Split, holdout_split, seeded_sample
from toolkit.errors import InputError, Notice
from toolkit.io.image_files import (
    IMAGE_EXTENSIONS,
    ImageFileError,
    decode_image_file,
    decode_in_dataset,
    resized_uint8,
)

FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")
FASHION_MNIST_FILES = (
    "train-labels-idx1-ubyte.gz",
    "train-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
)
# Where `keras.datasets.fashion_mnist.load_data` looks in Keras' cache.
FASHION_MNIST_CACHE = os.path.join("datasets", "fashion-mnist")
FASHION_MNIST_CLASSES = [
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
]
TFDS_IMAGE_DATASETS = ("mnist", "fashion_mnist", "cifar10")


@dataclass
class ImageDataConfig:
    """Where labelled images come from, and how they are split."""

    source: Literal["fashion_mnist", "directory", "tfds", "digits"] = option(
        "fashion_mnist",
        "fashion_mnist: the real Fashion-MNIST from Debian's dataset-fashion-mnist, read by Keras' loader; "
        "directory: one sub-folder of images per class under `directory`; tfds: `tfds_name` from "
        "tensorflow-datasets; digits: scikit-learn's 8x8 digits, for tiny runs.",
    )
    directory: str | None = option(None, "The folder of class sub-folders, when source is directory.")
    image_size: list[int] = option([64, 64], "Height and width images from a directory are resized to.")
    color_mode: Literal["grayscale", "rgb"] = option("rgb", "Channels of images read from a directory.")
    tfds_name: Literal["mnist", "fashion_mnist", "cifar10"] = option("fashion_mnist", "The tfds dataset, when source is tfds.")
    tfds_data_dir: str | None = option(None, "tensorflow-datasets data_dir, when source is tfds.")
    cache_limit_mb: float = cache_limit_option()
    max_examples: int | None = option(None, "Use at most this many training examples (a seeded sample); null: all.", min=10)
    validation_fraction: float = option(0.1, "Share of the training images held out for validation.", min=0.01, max=0.5)
    test_fraction: float = option(
        0.15, "Share held out for test, for sources without a test split of their own (directory, digits).", min=0.01, max=0.5
    )
    seed: int = option(0, "Seed of the sample and the split.", min=0, max=2**32 - 1)

    def __post_init__(self):
        if self.directory is not None and self.source != "directory":
            raise ConfigError(
                f"data.directory is set, but data.source is {self.source}; set data.source=directory to read it."
            )


def cache_fashion_mnist(source: str | Path = FASHION_MNIST_DIR) -> None:
    """Puts Debian's Fashion-MNIST files into Keras' dataset cache, so that its loader reads them offline.

    Each file is fetched by `keras.utils.get_file` from a `file://` origin,
    into the folder Keras' loader reads (`<keras home>/datasets/fashion-mnist`);
    a file already there (a real download, say) is left as it is.

    Raises:
        FileNotFoundError: If the Debian package is not installed, saying how to install it.
    """
    source = Path(source)
    missing = [name for name in FASHION_MNIST_FILES if not (source / name).is_file()]
    if missing:
        raise FileNotFoundError(
            f"Fashion-MNIST is not installed: {source} lacks {', '.join(missing)}. Install the Debian package with "
            "`sudo apt-get install dataset-fashion-mnist` (`make setup` does it), or use data.source=tfds or digits."
        )
    for name in FASHION_MNIST_FILES:
        keras.utils.get_file(name, origin=(source / name).resolve().as_uri(), cache_subdir=FASHION_MNIST_CACHE)


def load_fashion_mnist(source: str | Path = FASHION_MNIST_DIR) -> tuple[Split, Split]:
    """The real Fashion-MNIST through `keras.datasets.fashion_mnist.load_data()`, offline.

    Returns:
        `(train, test)`: 60,000 and 10,000 uint8 images of 28x28, and int64 labels.
    """
    cache_fashion_mnist(source)
    (train_x, train_y), (test_x, test_y) = keras.datasets.fashion_mnist.load_data()
    return Split(train_x, train_y.astype("int64")), Split(test_x, test_y.astype("int64"))


def load_digits_images() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's 1,797 handwritten digits, as uint8 8x8 images (0-16 stretched to 0-255)."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = np.clip(digits.images * 16, 0, 255).astype("uint8")
    return images, digits.target.astype("int64")


def load_image_directory(
    directory: str | Path, image_size: tuple[int, int], color_mode: str = "rgb"
) -> tuple[ImageFiles, np.ndarray, list[str]]:
    """Image files in one sub-folder per class, found and checked as `keras.utils.image_dataset_from_directory` would.

    Nothing is kept in memory but the file names: the images are read from
    disk when a `tf.data` pipeline reads them (see `ImageFiles`).

    Returns:
        `(files, labels, class_names)`: the image files, int64 labels, and
        the sub-folder names in sorted order.

    Raises:
        FileNotFoundError: If the folder is missing.
        InputError: If it holds fewer than two class folders, a class folder
            without images, or an image that cannot be decoded (see
            `checked_image_files`).
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise FileNotFoundError(f"Image folder not found: {directory}")
    classes = sorted(entry.name for entry in directory.iterdir() if entry.is_dir())
    if len(classes) < 2:
        raise InputError(f"{directory}: expected one sub-folder of images per class, and at least two; found {classes}.")
    channels = 1 if color_mode == "grayscale" else 3
    paths, labels = [], []
    for label, files in enumerate(checked_image_files(directory, classes, channels).values()):
        paths += [str(path) for path in files]
        labels += [label] * len(files)
    return ImageFiles(np.array(paths, dtype=object), (*image_size, channels)), np.asarray(labels, "int64"), classes


class ImageFiles(np.ndarray):
    """Image file names that read as uint8 images of one shape: a `Split`'s inputs that stay on disk.

    It is an array of file names (so it is sampled and split like any
    inputs), which also knows the shape its images are decoded to:
    `read` decodes one inside a `tf.data` pipeline, as
    `image_dataset_from_directory` does (bilinear resizing, the configured
    channels), and `decoded` reads them all into memory.
    """

    def __new__(cls, paths: np.ndarray, image_shape: tuple[int, ...]) -> ImageFiles:
        files = np.asarray(paths, dtype=object).view(cls)
        files.image_shape = tuple(image_shape)
        return files

    def __array_finalize__(self, source) -> None:
        self.image_shape = getattr(source, "image_shape", None)

    def content_digest(self) -> bytes:
        """A SHA-256 of the files' names, sizes and modification times, and the decoded shape: changes when they do."""
        digest = hashlib.sha256(repr(self.image_shape).encode())
        for path in self:
            status = os.stat(path)
            digest.update(f"{path}\0{status.st_size}\0{status.st_mtime_ns}\0".encode())
        return digest.digest()

    def read(self, path: tf.Tensor) -> tf.Tensor:
        """The uint8 image in the file `path` (a string tensor), upright and resized to `image_shape`."""
        height, width, channels = self.image_shape
        return resized_uint8(decode_in_dataset(path, channels), height, width)

    def decoded(self, batch_size: int = 256) -> np.ndarray:
        """Every image, read into memory: uint8 `(len(self), *image_shape)`."""
        files = tf.data.Dataset.from_tensor_slices(np.asarray(self, dtype=str)).map(self.read, tf.data.AUTOTUNE)
        batches = list(files.batch(batch_size).as_numpy_iterator())
        return np.concatenate(batches) if batches else np.zeros((0, *self.image_shape), "uint8")


def checked_image_files(directory: Path, classes: list[str], channels: int = 0) -> dict[str, list[Path]]:
    """The image files of each class folder, every one decoded up front, so that no bad file surfaces mid-way without its name.

    Keras' loader would otherwise stop at the first bad file with a bare
    TensorFlow error ("Invalid PNG data"), and turn a class folder without
    images into a class without examples. Files of other types are skipped
    and named, in one notice with their count by type; a file reached twice
    (through a linked folder) counts once.

    Args:
        directory: The folder of class sub-folders.
        classes: The sub-folders' names.
        channels: The channels the loader converts to (1 or 3); 0 for their own.

    Returns:
        The image files under each class folder (in its sub-folders too, as
        Keras' loader finds them), sorted.

    Raises:
        InputError: Naming each class folder without images, a file reached
            from two class folders, or up to ten files that do not decode as
            images, with the decoder's reason.
    """
    empty, unreadable, skipped, found, owner = [], [], {}, {}, {}
    for name in classes:
        files = []
        # Not `is_file()`: a broken link is listed by Keras' loader too, and must be named here.
        for path in sorted(path for path in (directory / name).rglob("*") if not path.is_dir()):
            if path.suffix.lower() not in IMAGE_EXTENSIONS:
                skipped.setdefault(path.suffix.lower() or "no extension", []).append(path)
                continue
            real = path.resolve()
            if real in owner and owner[real][0] != name:
                raise InputError(
                    f"{directory}: {path} and {owner[real][1]} are the same file, in class folders {name} and "
                    f"{owner[real][0]}: an image has one class. Remove the link or the copy."
                )
            if real not in owner:
                owner[real] = (name, path)
                files.append(path)
        found[name] = files
        if not files:
            empty.append(name)
        for path in files:
            try:
                decode_image_file(path, channels)
            except ImageFileError as error:  # undecodable, truncated, or unreadable (permissions)
                unreadable.append(f"{path} ({error.reason.removeprefix('cannot be decoded as an image ').strip('()')})")
    if skipped:
        counts = ", ".join(f"{len(paths)} {kind}" for kind, paths in sorted(skipped.items()))
        example = next(iter(sorted(skipped.values())))[0]
        warnings.warn(
            f"{directory}: skipped {sum(map(len, skipped.values()))} file(s) that are not images toolkit reads "
            f"({counts}; such as {example}); it reads {', '.join(IMAGE_EXTENSIONS)}.", Notice, stacklevel=2,
        )
    if empty:
        raise InputError(
            f"{directory}: class folder(s) {', '.join(empty)} hold no images ({', '.join(IMAGE_EXTENSIONS)}); "
            "a class needs examples: add images, or remove the folder."
        )
    if unreadable:
        raise InputError(
            f"{directory}: {len(unreadable)} file(s) cannot be decoded as images; fix or remove them: "
            + "; ".join(unreadable[:10]) + ("; ..." if len(unreadable) > 10 else "")
        )
    return found


def load_tfds_images(name: str, data_dir: str | None = None) -> tuple[Split, Split, list[str]]:
    """`mnist`, `fashion_mnist` or `cifar10` from tensorflow-datasets (downloaded once into `data_dir`).

    Returns:
        `(train, test, class_names)`, with uint8 `(n, height, width, channels)` images.
    """
    import tensorflow_datasets as tfds

    if name not in TFDS_IMAGE_DATASETS:
        raise InputError(f"data.tfds_name: {name!r} is not one of {', '.join(TFDS_IMAGE_DATASETS)}.")
    builder = tfds.builder(name, data_dir=data_dir)
    builder.download_and_prepare()
    splits = []
    for split in ("train", "test"):
        images, labels = [], []
        for image, label in tfds.as_numpy(builder.as_dataset(split=split, as_supervised=True)):
            images.append(image)
            labels.append(label)
        splits.append(Split(np.stack(images).astype("uint8"), np.asarray(labels, "int64")))
    return splits[0], splits[1], list(builder.info.features["label"].names)


def in_memory(split: Split, max_examples: int | None = None, seed: int = 0) -> Split:
    """`split` with its images in memory: `ImageFiles` read from disk, at most `max_examples` of them (a seeded sample)."""
    if not isinstance(split.inputs, ImageFiles):
        return split
    files, targets = seeded_sample(split.inputs, split.targets, max_examples, seed)
    return Split(files.decoded(), targets)


def load_image_splits(config: ImageDataConfig) -> DataSplits:
    """Loads and splits the images an `ImageDataConfig` names; the metadata holds `class_names` and `image_shape`."""
    if config.source in ("fashion_mnist", "tfds"):
        if config.source == "fashion_mnist":
            train, test = load_fashion_mnist()
            class_names = FASHION_MNIST_CLASSES
        else:
            train, test, class_names = load_tfds_images(config.tfds_name, config.tfds_data_dir)
        images, labels = seeded_sample(train.inputs, train.targets, config.max_examples, config.seed)
        train, validation = holdout_split(images, labels, config.validation_fraction, config.seed)
    else:
        if config.source == "digits":
            images, labels = load_digits_images()
            class_names = [str(digit) for digit in range(10)]
        else:
            if config.directory is None:
                raise InputError("data.directory: required when data.source is directory.")
            images, labels, class_names = load_image_directory(config.directory, config.image_size, config.color_mode)
        images, labels = seeded_sample(images, labels, config.max_examples, config.seed)
        rest, test = holdout_split(images, labels, config.test_fraction, config.seed)
        train, validation = holdout_split(
            rest.inputs, rest.targets, config.validation_fraction / (1 - config.test_fraction), config.seed
        )
    shape = train.inputs.image_shape if isinstance(train.inputs, ImageFiles) else train.inputs.shape[1:]
    metadata = {"class_names": list(class_names), "image_shape": list(shape)}
    return DataSplits(train, validation, test, metadata=metadata)
