"""The caption tokenizer: special ids, a vocabulary by frequency, <start> … <end> ids, and ids back to text."""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from toolkit.preprocessing.captions import (
    END,
    END_ID,
    NOT_WORD_IDS,
    PADDING_ID,
    START,
    START_ID,
    UNKNOWN_ID,
    CaptionTokenizer,
    caption_tokenizer,
)

CAPTIONS = ["a red circle", "a blue square", "a red square", "A red, triangle!"]


def test_the_vocabulary_is_the_special_tokens_then_the_words_most_frequent_first():
    tokenizer = caption_tokenizer(CAPTIONS, max_tokens=50, max_length=10)
    vocabulary = tokenizer.vocabulary()
    assert vocabulary[:4] == ["", "[UNK]", START, END] and (PADDING_ID, UNKNOWN_ID, START_ID, END_ID) == (0, 1, 2, 3)
    assert vocabulary[4:6] == ["a", "red"]  # 4 and 3 times; then square twice
    assert vocabulary[6] == "square" and sorted(vocabulary[7:]) == ["blue", "circle", "triangle"]
    assert tokenizer.vocabulary_size() == 10 and NOT_WORD_IDS == (0, 1, 2, 3)
    assert tokenizer.name == "preprocessor"


def test_max_tokens_keeps_the_most_frequent_words_and_counts_the_special_tokens():
    tokenizer = caption_tokenizer(CAPTIONS, max_tokens=6, max_length=10)
    assert tokenizer.vocabulary() == ["", "[UNK]", START, END, "a", "red"]
    assert tokenizer(np.array(["a blue square"])).numpy().tolist() == [[START_ID, 4, UNKNOWN_ID, UNKNOWN_ID, END_ID]]


def test_captions_become_start_words_end_padded_to_the_batchs_longest_and_cut_at_max_length():
    tokenizer = caption_tokenizer(CAPTIONS, max_tokens=50, max_length=3)
    a, red, square = (tokenizer.vocabulary().index(word) for word in ("a", "red", "square"))
    ids = tokenizer(np.array(["A RED square.", "red", "a red square a red square"])).numpy()
    assert ids.dtype == np.int64
    assert ids.tolist() == [
        [START_ID, a, red, square, END_ID],
        [START_ID, red, END_ID, PADDING_ID, PADDING_ID],
        [START_ID, a, red, square, END_ID],  # three words kept, then <end>
    ]


def test_a_caption_cannot_spell_the_special_tokens():
    tokenizer = caption_tokenizer(CAPTIONS, max_tokens=50, max_length=10)
    ids = tokenizer(np.array(["<start> a <end>"])).numpy()[0]
    assert ids[0] == START_ID and ids[-1] == END_ID
    assert START_ID not in ids[1:-1] and END_ID not in ids[1:-1]


def test_ids_go_back_to_text_up_to_the_first_end_without_special_or_unknown_tokens():
    tokenizer = caption_tokenizer(CAPTIONS, max_tokens=50, max_length=10)
    a, red, circle = (tokenizer.vocabulary().index(word) for word in ("a", "red", "circle"))
    ids = [[START_ID, a, UNKNOWN_ID, red, circle, END_ID, a, red], [a, red, PADDING_ID, PADDING_ID, PADDING_ID, 0, 0, 0],
           [END_ID, a, 0, 0, 0, 0, 0, 0]]
    assert tokenizer.detokenize(np.array(ids)).numpy().tolist() == [b"a red circle", b"a red", b""]
    # Also while a serving function is traced.
    traced = tf.function(lambda ids: tokenizer.detokenize(ids), input_signature=[tf.TensorSpec([None, None], tf.int64)])
    assert traced(tf.constant(ids, tf.int64)).numpy().tolist() == [b"a red circle", b"a red", b""]


def test_the_vocabulary_and_max_length_are_saved_with_a_model(tmp_path):
    tokenizer = caption_tokenizer(CAPTIONS, max_tokens=50, max_length=2)
    captions = keras.Input((), dtype="string")
    model = keras.Model(captions, tokenizer(captions))
    model.save(tmp_path / "model.keras")
    restored = keras.saving.load_model(tmp_path / "model.keras")
    texts = np.array(["a red circle", "square"])
    np.testing.assert_array_equal(restored(texts), tokenizer(texts))
    assert restored.layers[-1].vocabulary() == tokenizer.vocabulary()
    assert isinstance(restored.layers[-1], CaptionTokenizer) and restored.layers[-1].max_length == 2
