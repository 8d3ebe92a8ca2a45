"""Text streams: contiguous splits, .txt files and folders read as they are, tfds tiny_shakespeare offline."""

from __future__ import annotations

import pytest

from toolkit.config import ConfigError
from toolkit.data.text_stream import TextStreamConfig, as_text_stream, load_text_stream
from toolkit.errors import InputError
from toolkit.io.text_files import read_text_files


def test_reviews_are_cut_into_contiguous_training_validation_and_test_text():
    data = load_text_stream(TextStreamConfig(max_characters=20_000, validation_fraction=0.1, test_fraction=0.05))
    assert (len(data.train), len(data.validation), len(data.test)) == (17_000, 2_000, 1_000)
    whole = load_text_stream(TextStreamConfig(max_characters=20_000, validation_fraction=0.1, test_fraction=0.05))
    assert data.train.text + data.validation.text + data.test.text == whole.train.text + whole.validation.text + whole.test.text
    other_order = load_text_stream(TextStreamConfig(max_characters=20_000, seed=1))
    assert other_order.train.text[:500] != data.train.text[:500]


def test_a_folder_of_text_files_is_read_in_name_order(tmp_path):
    (tmp_path / "b.txt").write_text("second\n", encoding="utf-8")
    (tmp_path / "a.txt").write_text("first", encoding="utf-8")
    (tmp_path / "notes.md").write_text("not text", encoding="utf-8")
    assert read_text_files(tmp_path) == "first\nsecond"


def test_text_files_config_splits_the_file(tmp_path):
    path = tmp_path / "book.txt"
    path.write_text("x" * 10_000, encoding="utf-8")
    data = load_text_stream(TextStreamConfig(source="text_files", path=str(path), validation_fraction=0.1, test_fraction=0.1))
    assert (len(data.train), len(data.validation), len(data.test)) == (8_000, 1_000, 1_000)


def _written(path, text):
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda root: root / "missing.txt", "missing.txt: no such file or folder"),
        (lambda root: root, "a folder without .txt files"),
        (lambda root: _written(root / "blank.txt", "\n \n"), "blank.txt: no text"),
    ],
    ids=["missing", "empty folder", "blank"],
)
def test_unusable_text_files_are_named(tmp_path, make, message):
    with pytest.raises(InputError, match=message):
        read_text_files(make(tmp_path))


def test_too_little_text_for_the_split_is_refused(tmp_path):
    path = tmp_path / "short.txt"
    path.write_text("y" * 1_100, encoding="utf-8")
    with pytest.raises(InputError, match="1,100 characters are too few"):
        load_text_stream(TextStreamConfig(source="text_files", path=str(path), max_characters=1_000_000))


def test_a_path_for_another_source_is_refused():
    with pytest.raises(ConfigError, match="data.path is set, but data.source is movie_reviews"):
        TextStreamConfig(path="book.txt")


def test_fine_tune_data_takes_strings_and_refuses_other_things():
    assert as_text_stream(["one", "two"]).text == "one\ntwo"
    with pytest.raises(TypeError, match="expected a .txt file, a folder path, a string or a list of strings; got int"):
        as_text_stream(3)


def test_tiny_shakespeare_from_tfds_with_its_own_parts(tmp_path):
    tfds = pytest.importorskip("tensorflow_datasets")
    with tfds.testing.mock_data(num_examples=1):
        data = load_text_stream(TextStreamConfig(source="tfds_tiny_shakespeare", max_characters=1_000))
    assert 0 < len(data.train) <= 1_000 and len(data.validation) > 0 and len(data.test) > 0
