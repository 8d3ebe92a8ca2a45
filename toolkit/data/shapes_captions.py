"""A generated captioning dataset: coloured shapes on noisy backgrounds, with several template captions each.

No real photo-caption set can be installed offline, so the default captioning
data is made here, deterministically from a seed. Each 64x64 RGB image holds
one or two shapes. A shape has a size (small, large), a colour (red, green,
blue, yellow, purple) and a kind (circle, square, triangle, diamond); two
shapes stand side by side or one above the other. Every image has four
reference captions from different templates, such as "a small red circle to
the left of a large blue square" and "a large blue square to the right of a
small red circle".

Compositional generalisation is measured on held-out splits: some colour
and kind combinations never appear in train, validation or the
in-distribution test split, but every word does. The test's held-out split
shows `HELD_OUT_COMBINATIONS` (such as a red circle); a second one, for model
selection only, shows `SELECTION_COMBINATIONS`, four other pairs, so that
choices are made on pairs the test never shows. Twelve of the twenty pairs
are left to train on; every colour keeps two or three kinds, and every kind
three colours.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from pathlib import Path

import numpy as np

COLORS = {
    "red": (215, 40, 40),
    "green": (40, 175, 60),
    "blue": (50, 90, 235),
    "yellow": (235, 215, 40),
    "purple": (150, 60, 205),
}
KINDS = ("circle", "square", "triangle", "diamond")
SIZES = {"small": (4.5, 6.5), "large": (9.0, 11.5)}
HELD_OUT_COMBINATIONS = (("red", "circle"), ("blue", "square"), ("green", "triangle"), ("yellow", "diamond"))
SELECTION_COMBINATIONS = (("purple", "square"), ("yellow", "circle"), ("red", "triangle"), ("green", "diamond"))
UNSEEN_COMBINATIONS = {
    "held_out": HELD_OUT_COMBINATIONS,
    "held_out_selection": SELECTION_COMBINATIONS,
}
RELATIONS = {"to the left of": "to the right of", "above": "below"}
IMAGE_SIZE = 64
_VERSION = 2  # bump when generation changes, so that old caches are not reused


def shape_mask(kind: str, center: tuple[float, float], radius: float, size: int = IMAGE_SIZE) -> np.ndarray:
    """A boolean `(size, size)` mask of one shape; `center` is `(row, column)`."""
    rows, columns = np.mgrid[0:size, 0:size].astype("float32")
    dy, dx = rows - center[0], columns - center[1]
    if kind == "circle":
        return dx**2 + dy**2 <= radius**2
    if kind == "square":
        return (np.abs(dx) <= radius * 0.85) & (np.abs(dy) <= radius * 0.85)
    if kind == "diamond":
        return np.abs(dx) + np.abs(dy) <= radius * 1.15
    if kind == "triangle":  # pointing up: apex at the top, base at the bottom
        top, bottom = -radius, radius * 0.8
        half_width = (dy - top) / (bottom - top) * radius
        return (dy >= top) & (dy <= bottom) & (np.abs(dx) <= half_width)
    raise ValueError(f"Unknown shape kind {kind!r}; use one of {', '.join(KINDS)}.")


def describe(shape: dict) -> str:
    """'small red circle'."""
    return f"{shape['size']} {shape['color']} {shape['kind']}"


def captions_for(shapes: list[dict], relation: str | None) -> list[str]:
    """The four reference captions of an image's shapes (first shape first in `relation`)."""
    if len(shapes) == 1:
        shape = shapes[0]
        return [
            f"a {describe(shape)}",
            f"there is a {describe(shape)}",
            f"a {shape['color']} {shape['kind']} that is {shape['size']}",
            f"one {describe(shape)} on a noisy background",
        ]
    first, second = (describe(shape) for shape in shapes)
    inverse = RELATIONS[relation]
    return [
        f"a {first} {relation} a {second}",
        f"there is a {first} {relation} a {second}",
        f"a {second} {inverse} a {first}",
        f"a {first} and a {second} , the {shapes[0]['kind']} {relation} the {shapes[1]['kind']}",
    ]


def generate(
    count: int, seed: int, unseen: tuple[tuple[str, str], ...] = ()
) -> tuple[np.ndarray, list[list[str]]]:
    """Generates `count` images and their captions.

    Args:
        count: Number of images.
        seed: The same seed gives the same images and captions.
        unseen: Colour and kind pairs, such as `HELD_OUT_COMBINATIONS`. If
            given, every image has one shape of one of these pairs, and its
            other shape (if any) a training pair. If empty, every shape is of
            a training pair: one in neither `UNSEEN_COMBINATIONS` set.

    Returns:
        `(images, captions)`: uint8 `(count, 64, 64, 3)` and, per image, its
        reference captions.
    """
    rng = np.random.default_rng(seed)
    images = np.empty((count, IMAGE_SIZE, IMAGE_SIZE, 3), dtype="uint8")
    captions = []
    for index in range(count):
        shape_count = 1 if rng.random() < 0.35 else 2
        shapes = [_random_shape(rng, unseen if position == 0 else ()) for position in range(shape_count)]
        if unseen and shape_count == 2 and rng.random() < 0.5:
            shapes.reverse()
        relation = str(rng.choice(list(RELATIONS))) if shape_count == 2 else None
        images[index] = _draw(rng, shapes, relation)
        captions.append(captions_for(shapes, relation))
    return images, captions


def load_shapes_captions(
    counts: dict[str, int], seed: int = 0, cache_dir: str | Path | None = None
) -> dict[str, tuple[np.ndarray, list[list[str]]]]:
    """The generated splits, made once and then read from a cache.

    Args:
        counts: Images per split; the keys are `train`, `validation`, `test`
            (in distribution), `held_out` (the test's unseen combinations)
            and `held_out_selection` (the model-selection ones).
        seed: The dataset's seed; each split draws from its own stream of it.
        cache_dir: Where the generated arrays are kept. Default:
            `$XDG_CACHE_HOME/toolkit` or `~/.cache/toolkit`.

    Returns:
        `{split: (images, captions)}`.
    """
    cache_dir = Path(cache_dir or Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "toolkit")
    key = hashlib.sha1(json.dumps([_VERSION, seed, sorted(counts.items())]).encode()).hexdigest()[:12]
    path = cache_dir / f"shapes_captions_{key}.npz"
    if path.is_file():
        with np.load(path, allow_pickle=False) as stored:
            captions = json.loads(str(stored["captions"]))
            return {name: (stored[f"{name}_images"], captions[name]) for name in counts}
    splits = {}
    for offset, (name, count) in enumerate(sorted(counts.items())):
        splits[name] = generate(count, seed=seed * 1000 + offset, unseen=UNSEEN_COMBINATIONS.get(name, ()))
    cache_dir.mkdir(parents=True, exist_ok=True)
    staging = cache_dir / f".{path.stem}-{uuid.uuid4().hex[:8]}.npz"
    arrays = {f"{name}_images": images for name, (images, _) in splits.items()}
    np.savez(staging, captions=json.dumps({name: captions for name, (_, captions) in splits.items()}), **arrays)
    staging.replace(path)  # atomic: a reader never sees a half-written cache
    return splits


def _random_shape(rng: np.random.Generator, unseen: tuple[tuple[str, str], ...]) -> dict:
    if unseen:
        color, kind = unseen[rng.integers(len(unseen))]
    else:
        while True:
            color, kind = str(rng.choice(list(COLORS))), str(rng.choice(KINDS))
            if not any((color, kind) in pairs for pairs in UNSEEN_COMBINATIONS.values()):
                break
    return {"color": color, "kind": kind, "size": str(rng.choice(list(SIZES)))}


def _draw(rng: np.random.Generator, shapes: list[dict], relation: str | None) -> np.ndarray:
    level = rng.uniform(20, 90)
    image = rng.normal(level, 14, (IMAGE_SIZE, IMAGE_SIZE, 3))
    centers = _centers(rng, len(shapes), relation)
    for shape, center in zip(shapes, centers, strict=True):
        radius = rng.uniform(*SIZES[shape["size"]])
        color = np.array(COLORS[shape["color"]]) + rng.normal(0, 12, 3)
        mask = shape_mask(shape["kind"], center, radius)
        image[mask] = color + rng.normal(0, 6, (mask.sum(), 3))
    return np.clip(image, 0, 255).astype("uint8")


def _centers(rng: np.random.Generator, count: int, relation: str | None) -> list[tuple[float, float]]:
    if count == 1:
        return [(rng.uniform(18, 46), rng.uniform(18, 46))]
    near, far = rng.uniform(12, 19), rng.uniform(45, 52)  # apart by more than two large radii
    across = rng.uniform(14, 50, 2)
    if relation == "to the left of":  # the first shape is on the left
        return [(across[0], near), (across[1], far)]
    return [(near, across[0]), (far, across[1])]  # "above": the first shape is on top
