"""Caption tokens inside the model: a vocabulary adapted on training captions, with start and end tokens."""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

START, END = "<start>", "<end>"
PADDING_ID, UNKNOWN_ID, START_ID, END_ID = 0, 1, 2, 3
# Ids that are not words: never a word-presence target, never given a presence bonus.
NOT_WORD_IDS = (PADDING_ID, UNKNOWN_ID, START_ID, END_ID)


@keras.saving.register_keras_serializable(package="toolkit")
class CaptionTokenizer(keras.layers.Layer):
    """Caption strings to `<start> w₁ … wₙ <end>` token ids, and ids back to strings.

    Captions are lower-cased and stripped of punctuation, then split on
    whitespace. Id 0 is padding, 1 out-of-vocabulary, 2 `<start>` and 3
    `<end>`; the words of the training captions follow, most frequent first.
    Standardization removes `<` and `>`, so no caption can spell the start or
    end token itself.

    Args:
        max_tokens: Vocabulary size, with padding, out-of-vocabulary, start
            and end.
        max_length: Words kept per caption; ids then have up to
            `max_length + 2` steps.
        **kwargs: Base layer keyword arguments, such as `name`.

    Call arguments:
        captions: A string tensor `(batch,)`.

    Returns:
        int64 ids `(batch, length)`, padded with 0 to the batch's longest.

    Example:

    >>> import numpy as np
    >>> from toolkit.preprocessing.captions import CaptionTokenizer
    >>> tokenizer = CaptionTokenizer(max_tokens=20, max_length=8)
    >>> tokenizer.adapt(np.array(["a red circle", "a blue square"]))
    >>> tokenizer.vocabulary()
    ['', '[UNK]', '<start>', '<end>', 'a', 'square', 'red', 'circle', 'blue']
    >>> tokenizer(np.array(["A red square.", "a green circle"])).numpy().tolist()
    [[2, 4, 6, 5, 3], [2, 4, 1, 7, 3]]
    >>> tokenizer.detokenize(tokenizer(np.array(["a red square"]))).numpy().tolist()
    [b'a red square']
    """

    def __init__(self, max_tokens: int = 5000, max_length: int = 20, **kwargs):
        super().__init__(**kwargs)
        self.max_tokens = max_tokens
        self.max_length = max_length
        self.vectorization = keras.layers.TextVectorization(
            max_tokens=max_tokens, standardize="lower_and_strip_punctuation", output_mode="int", ragged=True
        )

    def adapt(self, captions) -> None:
        """Builds the vocabulary from `captions`, the training captions only."""
        self.vectorization.adapt(tf.data.Dataset.from_tensor_slices(np.asarray(captions, dtype=object)).batch(4096))
        words = self.vectorization.get_vocabulary()[2 : self.max_tokens - 2]
        self.vectorization.set_vocabulary([START, END, *words])

    def vocabulary(self) -> list[str]:
        """Every token, by id."""
        return [str(token) for token in self.vectorization.get_vocabulary()]

    def vocabulary_size(self) -> int:
        """The number of token ids."""
        return self.vectorization.vocabulary_size()

    def build(self, input_shape=None):
        if not self.vectorization.built:
            self.vectorization.build(input_shape)

    def call(self, captions):
        words = self.vectorization(captions)[..., : self.max_length]
        rows = words.nrows()
        starts = tf.fill([rows, 1], tf.constant(START_ID, words.dtype))
        ends = tf.fill([rows, 1], tf.constant(END_ID, words.dtype))
        return tf.concat([starts, words, ends], axis=1).to_tensor(PADDING_ID)

    def detokenize(self, ids) -> tf.Tensor:
        """Token ids `(batch, length)` back to strings, up to the first `<end>`, without special tokens."""
        ids = tf.convert_to_tensor(ids)
        with tf.init_scope():  # read the lookup table eagerly, also while a serving function is traced
            vocabulary = tf.constant(self.vocabulary())
        before_end = tf.cumsum(tf.cast(ids == END_ID, tf.int32), axis=1, exclusive=True) == 0
        keep = before_end & (ids > END_ID)
        words = tf.ragged.boolean_mask(tf.gather(vocabulary, ids), keep)
        return tf.strings.reduce_join(words, axis=1, separator=" ")

    def compute_output_shape(self, input_shape):
        return (input_shape[0], None)

    def get_config(self):
        return {**super().get_config(), "max_tokens": self.max_tokens, "max_length": self.max_length}


def caption_tokenizer(train_captions, max_tokens: int, max_length: int, name: str = "preprocessor") -> CaptionTokenizer:
    """A `CaptionTokenizer` adapted on the training captions only."""
    tokenizer = CaptionTokenizer(max_tokens, max_length, name=name)
    tokenizer.adapt(train_captions)
    return tokenizer
