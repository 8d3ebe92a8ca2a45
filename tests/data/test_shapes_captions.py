"""The generated captioning data: shapes and their masks, captions by template, held-out pairs, determinism and the cache."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from toolkit.data import shapes_captions as shapes
from toolkit.data.shapes_captions import (
    HELD_OUT_COMBINATIONS,
    SELECTION_COMBINATIONS,
    captions_for,
    generate,
    load_shapes_captions,
    shape_mask,
)

RED_CIRCLE = {"size": "small", "color": "red", "kind": "circle"}
BLUE_SQUARE = {"size": "large", "color": "blue", "kind": "square"}


def test_each_kind_of_shape_covers_the_area_its_geometry_gives():
    radius = 10.0
    areas = {kind: int(shape_mask(kind, (32, 32), radius).sum()) for kind in shapes.KINDS}
    assert areas["circle"] == pytest.approx(math.pi * radius**2, rel=0.03)
    assert areas["square"] == pytest.approx((2 * 0.85 * radius) ** 2, rel=0.12)
    assert areas["diamond"] == pytest.approx(2 * (1.15 * radius) ** 2, rel=0.05)
    assert areas["triangle"] == pytest.approx(0.5 * (2 * radius) * (1.8 * radius), rel=0.1)  # base × height / 2
    triangle = shape_mask("triangle", (32, 32), radius)
    rows = np.flatnonzero(triangle.any(axis=1))
    assert triangle[rows[0]].sum() < triangle[rows[-1]].sum(), "the apex is at the top"
    assert shape_mask("circle", (0, 0), 5).shape == (64, 64) and shape_mask("circle", (3, 3), 2, size=8).shape == (8, 8)
    with pytest.raises(ValueError, match="Unknown shape kind 'star'; use one of circle, square, triangle, diamond"):
        shape_mask("star", (32, 32), 5)


def test_one_shape_has_four_captions_and_two_shapes_say_where_each_is_both_ways():
    assert captions_for([RED_CIRCLE], None) == [
        "a small red circle",
        "there is a small red circle",
        "a red circle that is small",
        "one small red circle on a noisy background",
    ]
    assert captions_for([RED_CIRCLE, BLUE_SQUARE], "above") == [
        "a small red circle above a large blue square",
        "there is a small red circle above a large blue square",
        "a large blue square below a small red circle",
        "a small red circle and a large blue square , the circle above the square",
    ]
    assert captions_for([RED_CIRCLE, BLUE_SQUARE], "to the left of")[2] == "a large blue square to the right of a small red circle"


def test_the_first_shape_is_placed_left_of_or_above_the_second_apart_from_it():
    rng = np.random.default_rng(0)
    for _ in range(20):
        (row_1, column_1), (row_2, column_2) = shapes._centers(rng, 2, "to the left of")
        assert column_2 - column_1 > 2 * shapes.SIZES["large"][1]
        (row_1, column_1), (row_2, column_2) = shapes._centers(rng, 2, "above")
        assert row_2 - row_1 > 2 * shapes.SIZES["large"][1]


def test_generation_is_deterministic_by_seed_with_four_captions_per_image():
    images, captions = generate(6, seed=3)
    assert images.shape == (6, 64, 64, 3) and images.dtype == np.uint8
    assert len(captions) == 6 and all(len(references) == 4 for references in captions)
    again, same_captions = generate(6, seed=3)
    np.testing.assert_array_equal(images, again)
    assert same_captions == captions
    assert generate(6, seed=4)[1] != captions


def pairs_in(caption: str) -> set[tuple[str, str]]:
    words = caption.split()
    return {(color, kind) for color, kind in itertools.pairwise(words) if color in shapes.COLORS and kind in shapes.KINDS}


def test_training_images_never_show_an_unseen_pair_and_held_out_images_each_show_one():
    _, training = generate(200, seed=0)
    unseen = set(HELD_OUT_COMBINATIONS) | set(SELECTION_COMBINATIONS)
    seen = set().union(*(pairs_in(references[0]) for references in training))
    assert not seen & unseen
    assert len(seen) == 12, "the twelve training pairs"
    _, held_out = generate(100, seed=1, unseen=HELD_OUT_COMBINATIONS)
    for references in held_out:
        shown = pairs_in(references[0])
        assert len(shown & set(HELD_OUT_COMBINATIONS)) == 1 and not shown & set(SELECTION_COMBINATIONS)


def test_splits_are_generated_once_then_read_from_the_cache(tmp_path, monkeypatch):
    counts = {"train": 4, "held_out": 3}
    splits = load_shapes_captions(counts, seed=2, cache_dir=tmp_path)
    assert [path.name.startswith("shapes_captions_") for path in tmp_path.iterdir()] == [True]
    assert {name: len(captions) for name, (_, captions) in splits.items()} == counts
    assert all(pairs_in(references[0]) & set(HELD_OUT_COMBINATIONS) for references in splits["held_out"][1])

    def never(*args, **kwargs):
        raise AssertionError("generated again instead of read from the cache")

    monkeypatch.setattr(shapes, "generate", never)
    cached = load_shapes_captions(counts, seed=2, cache_dir=tmp_path)
    for name in counts:
        np.testing.assert_array_equal(cached[name][0], splits[name][0])
        assert cached[name][1] == splits[name][1]
    with pytest.raises(AssertionError, match="generated again"):
        load_shapes_captions(counts, seed=3, cache_dir=tmp_path)  # another seed is another cache


def test_the_cache_folder_defaults_to_xdg_cache_home(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    load_shapes_captions({"train": 1}, seed=0)
    assert len(list((tmp_path / "toolkit").glob("shapes_captions_*.npz"))) == 1
    assert not list((tmp_path / "toolkit").glob(".*")), "no staging file is left behind"
