"""Review text → word ids → Embedding(mask_zero) → LSTM stack → pooling → dropout, beside an optional bag of n-grams."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import keras
import numpy as np
import tensorflow as tf

from toolkit.config import option, section
from toolkit.errors import InputError
from toolkit.layers import MaxAndMeanPooling1D
from toolkit.models.classifier import BranchEnsembleHead, Classifier, softmax_head
from toolkit.models.raw_inputs import as_text_array
from toolkit.models.recurrent import RecurrentConfig, recurrent_stack
from toolkit.preprocessing.batch_checks import checked_text_lengths
from toolkit.preprocessing.text import (
    TextFeatures,
    TextToTokenIds,
    has_word,
    text_vectorizer,
    wordless_rows,
)

# The backbone's branches with a bag of n-grams, in its output order.
BRANCHES = ("recurrent", "ngram_bag")
# What a text without a word to read is refused with, followed by the rows, in the graph and in Python.
WORDLESS_MESSAGE = (
    "text: a text needs at least one word (a letter or digit; whitespace, markup and punctuation alone have none); "
    "texts without one at rows"
)


@dataclass
class NgramBagConfig:
    """A bag of n-grams beside the recurrent network: the mean of its n-grams' embeddings (as fastText does)."""

    ngrams: int = option(2, "The longest n-gram: 2 for words and bigrams; 0 for no bag (the recurrent network alone).", min=0, max=3)
    max_tokens: int = option(200_000, "N-gram vocabulary size, padding and out-of-vocabulary included.", min=3)
    embedding_dim: int = option(16, "Size of each n-gram's embedding.", min=1)


@dataclass
class TextClassifierConfig:
    """A many-to-one recurrent text classifier, with an optional bag-of-n-grams branch."""

    embedding_dim: int = option(64, "Size of each word's embedding.", min=1)
    spatial_dropout: float = option(0.2, "Dropout of whole embedding channels, in training.", min=0.0, max=1.0)
    recurrent: RecurrentConfig = section(RecurrentConfig, "The LSTM stack.")
    pooling: Literal["last", "max_and_mean"] = option(
        "max_and_mean", "last: the last LSTM state; max_and_mean: the maximum and mean of every step's output."
    )
    dropout: float = option(0.3, "Dropout before the head.", min=0.0, max=1.0)
    ngram_bag: NgramBagConfig = section(
        NgramBagConfig, "A second branch, fitted alone; the head averages the two branches' logits."
    )


def build_text_backbone(
    vocabulary_size: int, config: TextClassifierConfig, ngram_vocabulary_size: int | None = None
) -> keras.Model:
    """Word ids → a feature vector; with an n-gram vocabulary, also n-gram ids → a second one.

    The recurrent branch's layers are named `embedding`, `spatial_dropout`,
    `lstm_1`..., `pooling` and `dropout`; the bag's `ngram_embedding` and
    `ngram_mean`.

    Args:
        vocabulary_size: Number of word ids, padding (0) included.
        config: The architecture.
        ngram_vocabulary_size: Number of n-gram ids, or `None` for no bag.

    Returns:
        A model from `token_ids` (or a dict of `token_ids` and `ngram_ids`)
        to the recurrent features (or a list: them, then the bag's).
    """
    token_ids = keras.Input((None,), dtype="int64", name="token_ids")
    x = keras.layers.Embedding(vocabulary_size, config.embedding_dim, mask_zero=True, name="embedding")(token_ids)
    if config.spatial_dropout:
        x = keras.layers.SpatialDropout1D(config.spatial_dropout, name="spatial_dropout")(x)
    x = recurrent_stack(x, config.recurrent, return_sequences=config.pooling == "max_and_mean")
    if config.pooling == "max_and_mean":
        x = MaxAndMeanPooling1D(name="pooling")(x)
    recurrent = keras.layers.Dropout(config.dropout, name="dropout")(x)
    if ngram_vocabulary_size is None:
        return keras.Model(token_ids, recurrent, name="text_backbone")
    ngram_ids = keras.Input((None,), dtype="int64", name="ngram_ids")
    bag = keras.layers.Embedding(
        ngram_vocabulary_size, config.ngram_bag.embedding_dim, mask_zero=True, name="ngram_embedding"
    )(ngram_ids)
    bag = keras.layers.GlobalAveragePooling1D(name="ngram_mean")(bag)
    return keras.Model({"token_ids": token_ids, "ngram_ids": ngram_ids}, [recurrent, bag], name="text_backbone")


def text_preprocessor(
    train_texts: np.ndarray, max_tokens: int, max_length: int, config: TextClassifierConfig
) -> TextToTokenIds | TextFeatures:
    """The preprocessor `config` needs, adapted on the training texts only: word ids, and n-gram ids for a bag.

    Args:
        train_texts: The training split's texts.
        max_tokens: Word vocabulary size, padding and out-of-vocabulary included.
        max_length: Word ids kept per text.
        config: The architecture; `config.ngram_bag` says whether there is a bag.
    """
    bag = config.ngram_bag
    if not bag.ngrams:
        return text_vectorizer(train_texts, max_tokens, max_length)
    preprocessor = TextFeatures(max_tokens, max_length, bag.max_tokens, bag.ngrams, name="preprocessor")
    preprocessor.adapt(train_texts)
    return preprocessor


def build_text_classifier(
    preprocessor: TextToTokenIds | TextFeatures,
    config: TextClassifierConfig,
    class_names: list[str],
    limits: dict | None = None,
) -> TextClassifier:
    """An untrained `TextClassifier` around `preprocessor`: with a bag of n-grams, two branches and a `BranchEnsembleHead`.

    `limits` are what its serving signature refuses (see `toolkit.models.serving_limits`).
    """
    if isinstance(preprocessor, TextFeatures):
        backbone = build_text_backbone(preprocessor.vocabulary_size(), config, preprocessor.ngram_vocabulary_size())
        head = BranchEnsembleHead(len(class_names), list(BRANCHES), name="head")
    else:
        backbone, head = build_text_backbone(preprocessor.vocabulary_size(), config), softmax_head(len(class_names))
    return TextClassifier(backbone, head, class_names, preprocessor, limits=limits)


@keras.saving.register_keras_serializable(package="toolkit")
class TextClassifier(Classifier):
    """Classifies raw strings: a text preprocessor, a backbone over its ids, and a softmax head.

    The preprocessor is a `TextToTokenIds`, or a `TextFeatures` for a backbone
    with a bag of n-grams beside the recurrent network (whose head is then a
    `BranchEnsembleHead` over the two). Its serving signature takes `text`,
    a batch of strings.

    Example:

    >>> import numpy as np
    >>> from toolkit.models.classifier import softmax_head
    >>> from toolkit.models.text_classifier import TextClassifier, TextClassifierConfig, build_text_backbone
    >>> from toolkit.preprocessing.text import text_vectorizer
    >>> texts = np.array(["a good film", "a bad film"], dtype=object)
    >>> preprocessor = text_vectorizer(texts, max_tokens=20, max_length=8)
    >>> backbone = build_text_backbone(preprocessor.vocabulary_size(), TextClassifierConfig())
    >>> model = TextClassifier(backbone, softmax_head(2), ["negative", "positive"], preprocessor)
    >>> sorted(model.serve(np.array(["good"], dtype=object)))
    ['label', 'probabilities', 'probability']
    """

    def raw_input_spec(self) -> tf.TensorSpec:
        return tf.TensorSpec([None], tf.string, name="text")

    def checked_size(self, raw_inputs: tf.Tensor) -> tf.Tensor:
        """Rows, as every task model checks them, and the characters of each text against `serving.max_characters`."""
        return checked_text_lengths(super().checked_size(raw_inputs), self.limits.get("max_characters"), "text")

    def checked_inputs(self, raw_inputs: tf.Tensor) -> tf.Tensor:
        """A batch of strings, each with a word to read (`has_word`): a text without one has no prediction."""
        texts = super().checked_inputs(raw_inputs)
        wordless = tf.where(tf.logical_not(has_word(texts)))[:, 0]
        check = tf.debugging.Assert(tf.equal(tf.size(wordless), 0), [WORDLESS_MESSAGE, wordless], summarize=5)
        with tf.control_dependencies([check]):
            return tf.identity(texts)

    def raw_batch(self, raw_inputs) -> np.ndarray:
        """An object array of `str`, after refusing a text without a word to read, as the serving graph does."""
        texts = as_text_array(raw_inputs)
        refuse_wordless_texts(texts)
        return texts


def refuse_wordless_texts(texts, rows: str = "rows", first_row: int = 0) -> None:
    """Raises the serving graph's message for texts that have no word to read (`has_word`), naming them.

    Args:
        texts: A sequence of `str`.
        rows: What the rows are called in the message, such as `"lines"` of a file.
        first_row: The number of the first text, such as 2 for the line after a CSV's header.
    """
    wordless = wordless_rows(texts)
    if wordless.size:
        shown = ", ".join(str(index + first_row) for index in wordless[:5])
        more = f" and {wordless.size - 5} more" if wordless.size > 5 else ""
        raise InputError(f"{WORDLESS_MESSAGE.replace('at rows', f'at {rows}')} {shown}{more}.")
