"""Caption data: the generated shapes set, Flickr8k and COCO files, image paths, and tfds coco_captions (mocked)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds

from toolkit.data.captions import (
    CaptionDataConfig,
    load_caption_splits,
    load_images,
    load_tfds_coco,
    read_coco_captions,
    read_flickr8k_captions,
)
from toolkit.data.shapes_captions import (
    COLORS,
    HELD_OUT_COMBINATIONS,
    KINDS,
    SELECTION_COMBINATIONS,
    generate,
    load_shapes_captions,
)


def mentions_held_out(captions: list[str]) -> bool:
    return any(f"{color} {kind}" in captions[0] for color, kind in HELD_OUT_COMBINATIONS)


def pairs_shown(captions: list[list[str]]) -> set[tuple[str, str]]:
    """The colour-kind pairs an image set's first captions name."""
    words = [caption[0].split() for caption in captions]
    return {(a, b) for caption in words for a, b in zip(caption, caption[1:]) if a in COLORS and b in KINDS}


def test_generation_is_deterministic_and_held_out_combinations_stay_out_of_training():
    images, captions = generate(300, seed=5)
    again, same = generate(300, seed=5)
    np.testing.assert_array_equal(images, again)
    assert captions == same and images.shape == (300, 64, 64, 3) and images.dtype == np.uint8
    assert not any(mentions_held_out(c) for c in captions)
    _, held_out = generate(100, seed=6, unseen=HELD_OUT_COMBINATIONS)
    assert all(mentions_held_out(c) for c in held_out)
    assert all(len(c) == 4 for c in captions)
    words = {word for c in captions for caption in c for word in caption.split()}
    assert {"red", "circle", "blue", "square", "left", "above"} <= words  # every word is seen in training


def test_generated_splits_are_cached_once(tmp_path):
    counts = {"train": 20, "validation": 10, "test": 10, "held_out": 10}
    first = load_shapes_captions(counts, seed=1, cache_dir=tmp_path)
    (cached,) = tmp_path.glob("shapes_captions_*.npz")
    stamp = cached.stat().st_mtime_ns
    second = load_shapes_captions(counts, seed=1, cache_dir=tmp_path)
    assert cached.stat().st_mtime_ns == stamp and not list(tmp_path.glob(".*"))
    np.testing.assert_array_equal(first["held_out"][0], second["held_out"][0])
    assert first["test"][1] == second["test"][1]


def test_the_model_selection_split_shares_no_pair_with_the_test_held_out_split_and_neither_is_trained_on(tmp_path):
    config = CaptionDataConfig(train_images=400, validation_images=100, test_images=100, held_out_images=200,
                               selection_images=200, cache_dir=str(tmp_path))
    data = load_caption_splits(config)
    assert set(data.extra_tests) == {"held_out", "held_out_selection"}
    held_out = pairs_shown(data.extra_tests["held_out"].targets)
    selection = pairs_shown(data.extra_tests["held_out_selection"].targets)
    seen = pairs_shown(data.train.targets) | pairs_shown(data.validation.targets) | pairs_shown(data.test.targets)
    assert set(HELD_OUT_COMBINATIONS) <= held_out and set(SELECTION_COMBINATIONS) <= selection
    assert not set(HELD_OUT_COMBINATIONS) & (selection | seen)
    assert not set(SELECTION_COMBINATIONS) & (held_out | seen)
    assert len(seen) == 12  # every other pair is trained on
    trained_words = {word for caption in data.train.targets for word in caption[0].split()}
    assert set(COLORS) | set(KINDS) <= trained_words


def test_shapes_splits_carry_held_out_tests(tmp_path):
    config = CaptionDataConfig(train_images=30, validation_images=10, test_images=10, held_out_images=10,
                               selection_images=10, cache_dir=str(tmp_path))
    data = load_caption_splits(config)
    assert len(data.train) == 30 and len(data.validation) == 10
    assert data.metadata["image_shape"] == [64, 64, 3]
    assert isinstance(data.train.targets[0], list) and len(data.train.targets[0]) == 4


@pytest.fixture
def image_folder(tmp_path):
    folder = tmp_path / "Images"
    folder.mkdir()
    for index in range(4):
        image = np.full((20, 30, 3), 60 * index, dtype=np.uint8)
        tf.io.write_file(str(folder / f"img{index}.jpg"), tf.io.encode_jpeg(image))
    return folder


def test_flickr8k_captions_txt_and_token_layouts_agree(tmp_path):
    (tmp_path / "captions.txt").write_text(
        "image,caption\nimg0.jpg,A dog runs .\nimg0.jpg,\"A dog, running.\"\nimg1.jpg,Two cats sleep .\n"
    )
    (tmp_path / "Flickr8k.token.txt").write_text(
        "img0.jpg#0\tA dog runs .\nimg0.jpg#1\tA dog, running.\nimg1.jpg#0\tTwo cats sleep .\n"
    )
    expected = {"img0.jpg": ["A dog runs .", "A dog, running."], "img1.jpg": ["Two cats sleep ."]}
    assert read_flickr8k_captions(tmp_path / "captions.txt") == expected
    assert read_flickr8k_captions(tmp_path / "Flickr8k.token.txt") == expected


def test_malformed_caption_files_are_named(tmp_path):
    (tmp_path / "bad.txt").write_text("img0.jpg\tno hash here\n")
    with pytest.raises(ValueError, match=r"bad.txt: line 1 is not 'name.jpg#k<TAB>caption'"):
        read_flickr8k_captions(tmp_path / "bad.txt")
    (tmp_path / "bad.csv").write_text("file,text\na.jpg,hello\n")
    with pytest.raises(ValueError, match=r"bad.csv: expected a CSV with the columns image,caption"):
        read_flickr8k_captions(tmp_path / "bad.csv")
    (tmp_path / "bad.json").write_text('{"images": []}')
    with pytest.raises(ValueError, match=r"bad.json: not a COCO captions file \(KeyError"):
        read_coco_captions(tmp_path / "bad.json")


def test_coco_json_and_a_flickr_folder_load_into_splits(tmp_path, image_folder):
    coco = {
        "images": [{"id": i, "file_name": f"img{i}.jpg"} for i in range(4)],
        "annotations": [{"image_id": i % 4, "caption": f"caption {i}"} for i in range(8)],
    }
    (tmp_path / "captions.json").write_text(json.dumps(coco))
    assert read_coco_captions(tmp_path / "captions.json")["img1.jpg"] == ["caption 1", "caption 5"]
    config = CaptionDataConfig(source="coco", images_dir=str(image_folder), captions_file=str(tmp_path / "captions.json"),
                               image_size=16, validation_fraction=0.25, test_fraction=0.25)
    data = load_caption_splits(config)
    assert (len(data.train), len(data.validation), len(data.test)) == (2, 1, 1)
    assert data.train.inputs.shape == (2, 16, 16, 3) and data.metadata["image_shape"] == [16, 16, 3]


@pytest.mark.parametrize("name", ["../secret.jpg", "/etc/passwd", "sub/../../secret.jpg"])
def test_paths_outside_the_image_folder_are_rejected(image_folder, name):
    with pytest.raises(ValueError, match="leads outside the image folder"):
        load_images(image_folder, [name], 16)


def test_missing_and_corrupt_images_are_named(image_folder):
    with pytest.raises(FileNotFoundError, match="Image file not found: .*absent.jpg"):
        load_images(image_folder, ["absent.jpg"], 16)
    (image_folder / "broken.jpg").write_bytes(b"not an image")
    with pytest.raises(ValueError, match="broken.jpg: not a readable image"):
        load_images(image_folder, ["img0.jpg", "broken.jpg"], 16)
    assert load_images(image_folder, ["img3.jpg"], 8)[0, 0, 0, 0] == pytest.approx(180, abs=3)


def test_tfds_coco_captions_offline_with_mock_data():
    with tfds.testing.mock_data(num_examples=6):
        train, validation, test = load_tfds_coco(None, image_size=32, max_images=4)
    assert train.inputs.shape == (4, 32, 32, 3) and train.inputs.dtype == np.uint8
    assert len(validation) == 4 and len(test) == 4
    assert all(isinstance(caption, str) for caption in train.targets[0])
