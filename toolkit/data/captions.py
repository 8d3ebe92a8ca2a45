"""Image-caption data: the generated shapes set, Flickr8k (both layouts), COCO captions JSON and tfds coco_captions."""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import tensorflow as tf

from toolkit.config import option
from toolkit.data.shapes_captions import load_shapes_captions
from toolkit.data.splits import DataSplits, Split
from toolkit.errors import InputError


@dataclass
class CaptionDataConfig:
    """Where image-caption pairs come from, and how they are split."""

    source: Literal["shapes", "flickr8k", "coco", "tfds_coco"] = option(
        "shapes",
        "shapes: the generated shapes dataset (see toolkit.data.shapes_captions); flickr8k: `images_dir` and "
        "`captions_file` (captions.txt or Flickr8k.token.txt); coco: `images_dir` and a captions JSON in "
        "`captions_file`; tfds_coco: tensorflow-datasets coco_captions.",
    )
    train_images: int = option(8000, "shapes: training images.", min=10)
    validation_images: int = option(500, "shapes: validation images.", min=10)
    test_images: int = option(1000, "shapes: in-distribution test images.", min=10)
    held_out_images: int = option(1000, "shapes: test images with colour-shape combinations never seen in training.", min=10)
    selection_images: int = option(
        500, "shapes: images with four other unseen combinations, reported as held_out_selection: the split on "
        "which settings are chosen, so that the test's unseen combinations never inform a choice; 0: no such split.",
        min=0,
    )
    seed: int = option(0, "Seed of the generated data and of the split of real data.", min=0, max=2**32 - 1)
    cache_dir: str | None = option(None, "shapes: cache of the generated arrays; null: ~/.cache/toolkit.")
    images_dir: str | None = option(None, "flickr8k, coco: the folder the caption file's image names are in.")
    captions_file: str | None = option(None, "flickr8k: captions.txt or Flickr8k.token.txt; coco: captions_*.json.")
    tfds_data_dir: str | None = option(None, "tfds_coco: tensorflow-datasets data_dir.")
    image_size: int = option(64, "Real images are resized to this square size.", min=16)
    max_images: int | None = option(None, "Real data: use at most this many images (a seeded sample).", min=10)
    validation_fraction: float = option(0.1, "Real data: share of images for validation.", min=0.01, max=0.5)
    test_fraction: float = option(0.1, "Real data: share of images for test.", min=0.01, max=0.5)
    max_tokens: int = option(5000, "Vocabulary size, with padding, unknown, start and end.", min=5)
    max_length: int = option(20, "Words kept per caption.", min=1)


def read_flickr8k_captions(path: str | Path) -> dict[str, list[str]]:
    """Flickr8k captions, `{image file name: [captions]}`, from either common layout.

    `captions.txt` is a CSV with the header `image,caption`;
    `Flickr8k.token.txt` has lines `name.jpg#k<TAB>caption`.
    """
    path = _existing(path, "Caption file")
    captions: dict[str, list[str]] = defaultdict(list)
    lines = path.read_text(encoding="utf-8").splitlines()
    if lines and "\t" in lines[0]:
        for line_number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            name, tab, caption = line.partition("\t")
            if not tab or "#" not in name:
                raise InputError(f"{path}: line {line_number} is not 'name.jpg#k<TAB>caption': {line[:80]!r}")
            captions[name.rsplit("#", 1)[0]].append(caption.strip())
    else:
        rows = csv.DictReader(lines)
        if rows.fieldnames is None or not {"image", "caption"} <= set(rows.fieldnames):
            raise InputError(f"{path}: expected a CSV with the columns image,caption; found {rows.fieldnames}.")
        for line_number, row in enumerate(rows, start=2):
            if not row["image"] or not (row["caption"] or "").strip():
                raise InputError(f"{path}: line {line_number}: empty image name or caption.")
            captions[row["image"]].append(row["caption"].strip())
    if not captions:
        raise InputError(f"{path}: no captions.")
    return dict(captions)


def read_coco_captions(path: str | Path) -> dict[str, list[str]]:
    """COCO captions JSON (`images` with `id` and `file_name`, `annotations` with `image_id` and `caption`)."""
    path = _existing(path, "Caption file")
    try:
        content = json.loads(path.read_text(encoding="utf-8"))
        names = {image["id"]: image["file_name"] for image in content["images"]}
        captions: dict[str, list[str]] = defaultdict(list)
        for annotation in content["annotations"]:
            captions[names[annotation["image_id"]]].append(annotation["caption"].strip())
    except (json.JSONDecodeError, KeyError, TypeError) as error:
        raise InputError(f"{path}: not a COCO captions file ({type(error).__name__}: {error}).") from None
    return dict(captions)


def load_images(images_dir: str | Path, names: list[str], image_size: int) -> np.ndarray:
    """Reads and resizes images named relative to `images_dir`, as uint8 `(n, size, size, 3)`.

    Raises:
        ValueError: For a name that is absolute or leads outside `images_dir`
            (`../`), or a file that cannot be decoded; naming it.
        FileNotFoundError: For a missing image.
    """
    root = _existing(images_dir, "Image folder", directory=True).resolve()
    images = np.empty((len(names), image_size, image_size, 3), dtype="uint8")
    for index, name in enumerate(names):
        path = safe_image_path(root, name)
        try:
            image = tf.io.decode_image(tf.io.read_file(str(path)), channels=3, expand_animations=False)
        except tf.errors.InvalidArgumentError as error:
            raise InputError(f"{path}: not a readable image ({error.message.splitlines()[0]}).") from None
        resized = tf.image.resize(image, (image_size, image_size), antialias=True)
        images[index] = tf.cast(tf.clip_by_value(tf.round(resized), 0, 255), tf.uint8).numpy()
    return images


def safe_image_path(root: Path, name: str) -> Path:
    """`root / name`, refusing names that are absolute or leave `root`."""
    candidate = Path(name)
    resolved = (root / candidate).resolve()
    if candidate.is_absolute() or ".." in candidate.parts or not resolved.is_relative_to(root):
        raise InputError(f"Image name {name!r} leads outside the image folder {root}; only names inside it are allowed.")
    if not resolved.is_file():
        raise FileNotFoundError(f"Image file not found: {resolved}")
    return resolved


def load_tfds_coco(data_dir: str | None, image_size: int, max_images: int | None) -> tuple[Split, Split, Split]:
    """tensorflow-datasets `coco_captions` (Karpathy splits train, val, test), resized."""
    import tensorflow_datasets as tfds

    splits = []
    for name in ("train", "val", "test"):
        dataset = tfds.load("coco_captions", split=name, data_dir=data_dir)
        if max_images:
            dataset = dataset.take(max_images)
        images, captions = [], []
        for example in tfds.as_numpy(dataset):
            resized = tf.image.resize(example["image"], (image_size, image_size), antialias=True)
            images.append(np.clip(np.round(resized.numpy()), 0, 255).astype("uint8"))
            captions.append([text.decode("utf-8") for text in example["captions"]["text"]])
        splits.append(Split(np.stack(images), as_caption_lists(captions)))
    return splits[0], splits[1], splits[2]


def load_caption_splits(config: CaptionDataConfig) -> DataSplits:
    """The splits a `CaptionDataConfig` names: uint8 images and, per image, its reference captions.

    Targets are object arrays of caption lists. The shapes source adds two
    splits of unseen colour-shape combinations: `held_out`, an extra test
    split, and `held_out_selection`, of other pairs, on which settings are
    chosen, so that no choice is made on the test's pairs.
    """
    extra_tests = {}
    if config.source == "shapes":
        counts = {"train": config.train_images, "validation": config.validation_images,
                  "test": config.test_images, "held_out": config.held_out_images}
        if config.selection_images:
            counts["held_out_selection"] = config.selection_images
        generated = {name: Split(images, as_caption_lists(captions))
                     for name, (images, captions) in load_shapes_captions(counts, config.seed, config.cache_dir).items()}
        train, validation, test = generated.pop("train"), generated.pop("validation"), generated.pop("test")
        extra_tests = generated
    elif config.source == "tfds_coco":
        train, validation, test = load_tfds_coco(config.tfds_data_dir, config.image_size, config.max_images)
    else:
        if config.images_dir is None or config.captions_file is None:
            raise InputError(f"data.images_dir and data.captions_file: both required when data.source is {config.source}.")
        read = read_flickr8k_captions if config.source == "flickr8k" else read_coco_captions
        by_image = read(config.captions_file)
        names = sorted(by_image)
        rng = np.random.default_rng(config.seed)
        names = [names[i] for i in rng.permutation(len(names))[: config.max_images]]
        images = load_images(config.images_dir, names, config.image_size)
        captions = as_caption_lists([by_image[name] for name in names])
        test_count = max(1, int(round(len(names) * config.test_fraction)))
        validation_count = max(1, int(round(len(names) * config.validation_fraction)))
        test = Split(images[:test_count], captions[:test_count])
        validation = Split(images[test_count : test_count + validation_count], captions[test_count : test_count + validation_count])
        train = Split(images[test_count + validation_count :], captions[test_count + validation_count :])
    metadata = {"image_shape": list(train.inputs.shape[1:])}
    return DataSplits(train, validation, test, metadata=metadata, extra_tests=extra_tests)


def as_caption_lists(captions) -> np.ndarray:
    """An object array holding one list of reference captions per image; a lone string is a list of one.

    Raises:
        ValueError: For an image without a non-empty caption.
    """
    array = np.empty(len(captions), dtype=object)
    array[:] = [[image_captions] if isinstance(image_captions, str) else list(image_captions) for image_captions in captions]
    for index, references in enumerate(array):
        if not references or not all(isinstance(c, str) and c.strip() for c in references):
            raise InputError(f"Captions of image {index}: expected non-empty strings, got {references!r}.")
    return array


def _existing(path: str | Path, what: str, directory: bool = False) -> Path:
    path = Path(path)
    if not (path.is_dir() if directory else path.is_file()):
        raise FileNotFoundError(f"{what} not found: {path}")
    return path
