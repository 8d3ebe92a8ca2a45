"""Text preprocessing inside the model: standardization and a vocabulary adapted on training text."""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

# IMDB reviews carry HTML line breaks; punctuation is split off rather than dropped, so
# that "great!" and "great" share a token and "!" stays a token of its own.
LINE_BREAK = r"<br\s*/?>"
# Unicode separators and control characters (such as U+2028 or U+0085) would survive the
# whitespace split as parts of tokens, and then break the vocabulary file lines on reload.
SEPARATORS = r"[\s\pZ\pC]+"
PUNCTUATION = r"([!\"#$%&()*+,\-./:;<=>?@\[\\\]^_`{|}~])"


@keras.saving.register_keras_serializable(package="toolkit")
def standardize_text(text: tf.Tensor) -> tf.Tensor:
    """Lower-cases, turns `<br />` and Unicode separators into spaces, and spaces out punctuation."""
    text = tf.strings.lower(text)
    text = tf.strings.regex_replace(text, LINE_BREAK, " ")
    text = tf.strings.regex_replace(text, SEPARATORS, " ")
    return tf.strings.regex_replace(text, PUNCTUATION, r" \1 ")


# A token that is a word: a letter or a digit of any script, once the text is standardized.
WORD = r".*[\pL\pN].*"


def has_word(texts: tf.Tensor) -> tf.Tensor:
    """Whether each text has a word to read once standardized as the models read it: a letter or digit of any script.

    The one rule for a text with nothing to read, in the serving graph and in
    Python alike: blank text, whitespace or control characters of any kind
    (zero-width and ideographic spaces, line separators, NUL), markup such as
    `<br />` and punctuation alone have no word.

    Example:

    >>> import tensorflow as tf
    >>> from toolkit.preprocessing.text import has_word
    >>> has_word(tf.constant(["Fine.", "?!", "<br />", "\u200b", "42", "été"])).numpy().tolist()
    [True, False, False, False, True, True]
    """
    return tf.strings.regex_full_match(standardize_text(texts), WORD)


def wordless_rows(texts) -> np.ndarray:
    """The indices of the texts that have no word to read, by `has_word`'s rule; texts are a sequence of `str`."""
    texts = [str(text) for text in texts]
    if not texts:
        return np.zeros(0, "int64")
    return np.flatnonzero(~has_word(tf.constant(texts, tf.string)).numpy())


@keras.saving.register_keras_serializable(package="toolkit")
class TextToTokenIds(keras.layers.Layer):
    """Raw strings to token ids, at most `max_length` per text, padded with 0 to the batch's longest.

    A `TextVectorization` with `standardize_text` does the work. Padding only to
    the longest text of each batch, rather than to a fixed length, keeps short
    batches cheap, in training (with length bucketing) and in serving.

    With `ngrams=2`, the ids are of the text's words and then of its
    bigrams (and so on for 3): a bag of n-grams, in no useful order.

    Args:
        max_tokens: Vocabulary size, including padding (0) and out-of-vocabulary (1).
        max_length: Ids kept per text; the rest of a longer text is cut.
            `None` keeps them all.
        ngrams: The longest n-gram given an id; 1 for words only.
        **kwargs: Base layer keyword arguments, such as `name`.

    Call arguments:
        texts: A string tensor of shape `(batch,)`, or a scalar string.

    Returns:
        int64 token ids of shape `(batch, length)` (or `(length,)` for a
        scalar) with `length <= max_length`.

    Example:

    >>> import numpy as np
    >>> from toolkit.preprocessing.text import TextToTokenIds
    >>> layer = TextToTokenIds(max_tokens=10, max_length=3)
    >>> layer.adapt(np.array(["a good film", "a bad film"]))
    >>> [str(token) for token in layer.vectorization.get_vocabulary()]
    ['', '[UNK]', 'film', 'a', 'good', 'bad']
    >>> layer(np.array(["A good, good film!", "bad"])).numpy().tolist()
    [[3, 4, 1], [5, 0, 0]]
    """

    def __init__(self, max_tokens: int, max_length: int | None, ngrams: int = 1, **kwargs):
        super().__init__(**kwargs)
        self.max_tokens = max_tokens
        self.max_length = max_length
        self.ngrams = ngrams
        self.vectorization = keras.layers.TextVectorization(
            max_tokens=max_tokens,
            standardize=standardize_text,
            ngrams=None if ngrams == 1 else ngrams,
            output_mode="int",
            ragged=True,
        )

    def adapt(self, texts) -> None:
        """Builds the vocabulary from `texts`, the training split's texts only."""
        self.vectorization.adapt(tf.data.Dataset.from_tensor_slices(texts).batch(1024))

    def vocabulary_size(self) -> int:
        """The number of token ids, padding and out-of-vocabulary included."""
        return self.vectorization.vocabulary_size()

    def build(self, input_shape=None):
        if not self.vectorization.built:
            self.vectorization.build(input_shape)

    def call(self, texts):
        ids = self.vectorization(texts)[..., : self.max_length]
        ids = ids.to_tensor() if isinstance(ids, tf.RaggedTensor) else ids
        # A batch of empty texts still gets one (padding) step: an RNN cannot run zero steps.
        missing = tf.maximum(0, 1 - tf.shape(ids)[-1])
        paddings = tf.concat([tf.zeros([tf.rank(ids) - 1, 2], tf.int32), [[0, missing]]], axis=0)
        return tf.pad(ids, paddings)

    def compute_output_shape(self, input_shape):
        return (*input_shape, None)

    def get_config(self):
        return {
            **super().get_config(),
            "max_tokens": self.max_tokens,
            "max_length": self.max_length,
            "ngrams": self.ngrams,
        }


@keras.saving.register_keras_serializable(package="toolkit")
class TextFeatures(keras.layers.Layer):
    """Raw strings to two views of each text: its word ids in order, and the ids of its bag of n-grams.

    The word ids feed a recurrent network; the n-gram ids, every one of the
    text (never cut), feed a bag-of-n-grams model beside it.

    Args:
        max_tokens: Word vocabulary size, padding and out-of-vocabulary included.
        max_length: Word ids kept per text.
        ngram_max_tokens: N-gram vocabulary size, padding and out-of-vocabulary included.
        ngrams: The longest n-gram, such as 2 for words and bigrams.
        **kwargs: Base layer keyword arguments, such as `name`.

    Call arguments:
        texts: A string tensor of shape `(batch,)`, or a scalar string.

    Returns:
        A dict: `token_ids`, as `TextToTokenIds` gives them, and `ngram_ids`,
        int64 ids padded with 0 to the batch's longest bag.

    Example:

    >>> import numpy as np
    >>> from toolkit.preprocessing.text import TextFeatures
    >>> layer = TextFeatures(max_tokens=10, max_length=2, ngram_max_tokens=20, ngrams=2)
    >>> layer.adapt(np.array(["a good film", "a bad film"]))
    >>> features = layer(np.array(["a good film"]))
    >>> features["token_ids"].shape, features["ngram_ids"].shape
    (TensorShape([1, 2]), TensorShape([1, 5]))
    """

    def __init__(self, max_tokens: int, max_length: int, ngram_max_tokens: int, ngrams: int, **kwargs):
        super().__init__(**kwargs)
        self.max_tokens = max_tokens
        self.max_length = max_length
        self.ngram_max_tokens = ngram_max_tokens
        self.ngrams = ngrams
        self.token_ids = TextToTokenIds(max_tokens, max_length, name="token_ids")
        self.ngram_ids = TextToTokenIds(ngram_max_tokens, None, ngrams=ngrams, name="ngram_ids")

    def adapt(self, texts) -> None:
        """Builds both vocabularies from `texts`, the training split's texts only."""
        self.token_ids.adapt(texts)
        self.ngram_ids.adapt(texts)

    def vocabulary_size(self) -> int:
        """The number of word ids, padding and out-of-vocabulary included."""
        return self.token_ids.vocabulary_size()

    def ngram_vocabulary_size(self) -> int:
        """The number of n-gram ids, padding and out-of-vocabulary included."""
        return self.ngram_ids.vocabulary_size()

    def build(self, input_shape=None):
        self.token_ids.build(input_shape)
        self.ngram_ids.build(input_shape)

    def call(self, texts):
        return {"token_ids": self.token_ids(texts), "ngram_ids": self.ngram_ids(texts)}

    def compute_output_shape(self, input_shape):
        return {"token_ids": (*input_shape, None), "ngram_ids": (*input_shape, None)}

    def get_config(self):
        return {
            **super().get_config(),
            "max_tokens": self.max_tokens,
            "max_length": self.max_length,
            "ngram_max_tokens": self.ngram_max_tokens,
            "ngrams": self.ngrams,
        }


def text_vectorizer(train_texts: np.ndarray, max_tokens: int, max_length: int, name: str = "preprocessor") -> TextToTokenIds:
    """A `TextToTokenIds` layer adapted on the training texts only."""
    layer = TextToTokenIds(max_tokens, max_length, name=name)
    layer.adapt(train_texts)
    return layer


def word_count(features: tf.Tensor | dict[str, tf.Tensor]) -> tf.Tensor:
    """The number of word ids of one preprocessed text, from a `TextToTokenIds` or a `TextFeatures`."""
    return tf.shape(features["token_ids"] if isinstance(features, dict) else features)[0]
