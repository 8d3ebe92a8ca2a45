"""Text inside the model: standardization, the one rule for a text with a word, token ids, a bag of n-grams, and saving."""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from toolkit.preprocessing.text import (
    TextFeatures,
    TextToTokenIds,
    has_word,
    standardize_text,
    text_vectorizer,
    word_count,
    wordless_rows,
)

TEXTS = np.array(["a good film", "a bad film", "good good"], dtype=object)


def test_standardization_lowercases_breaks_lines_and_spaces_out_punctuation():
    standardized = standardize_text(tf.constant(["Great!<br />Really<br>GOOD,film", "tab\tand\u2028line\u00a0space"]))
    assert [text.split() for text in standardized.numpy().astype(str)] == [
        ["great", "!", "really", "good", ",", "film"],
        ["tab", "and", "line", "space"],
    ]


def test_a_text_has_a_word_if_a_letter_or_digit_of_any_script_remains():
    texts = ["Fine.", "?!", "<br />", "\u200b\u3000", "42", "été", "日本", "", "\x00", "- - -"]
    assert has_word(tf.constant(texts)).numpy().tolist() == [True, False, False, False, True, True, True, False, False, False]
    assert wordless_rows(texts).tolist() == [1, 2, 3, 7, 8, 9]
    assert wordless_rows([]).tolist() == [] and wordless_rows(np.array(["ok"], dtype=object)).tolist() == []


def test_ids_are_cut_at_max_length_padded_to_the_batchs_longest_and_never_empty():
    layer = text_vectorizer(TEXTS, max_tokens=20, max_length=2)
    vocabulary = layer.vectorization.get_vocabulary()
    good, film, bad, a = (vocabulary.index(word) for word in ("good", "film", "bad", "a"))
    ids = layer(np.array(["A good film!", "bad", "unseen words here"], dtype=object)).numpy()
    assert ids.dtype == np.int64 and ids.tolist() == [[a, good], [bad, 0], [1, 1]]
    assert layer(np.array(["", "  "], dtype=object)).numpy().tolist() == [[0], [0]], "one padding step for an RNN"
    assert layer(tf.constant("good film")).numpy().tolist() == [good, film], "a scalar string is one text"
    assert layer.name == "preprocessor" and layer.vocabulary_size() == len(vocabulary) == 6


def test_without_max_length_every_id_is_kept():
    layer = TextToTokenIds(max_tokens=20, max_length=None)
    layer.adapt(TEXTS)
    assert layer(np.array(["good " * 50], dtype=object)).shape == (1, 50)


def test_ngrams_give_the_words_then_their_bigrams_an_id_each():
    layer = TextToTokenIds(max_tokens=50, max_length=None, ngrams=2)
    layer.adapt(TEXTS)
    vocabulary = layer.vectorization.get_vocabulary()
    assert {"good", "a good", "good film", "good good"} <= set(vocabulary)
    ids = layer(np.array(["a good film"], dtype=object)).numpy()[0]
    assert [vocabulary[i] for i in ids] == ["a", "good", "film", "a good", "good film"]


def test_text_features_give_cut_word_ids_and_the_whole_bag_of_ngrams():
    layer = TextFeatures(max_tokens=20, max_length=2, ngram_max_tokens=50, ngrams=2)
    layer.adapt(TEXTS)
    features = layer(np.array(["a good film", "good"], dtype=object))
    assert features["token_ids"].shape == (2, 2)
    assert features["ngram_ids"].shape == (2, 5), "never cut: three words and two bigrams"
    assert layer.vocabulary_size() == 6 and layer.ngram_vocabulary_size() == layer.ngram_ids.vocabulary_size() > 6
    assert word_count(features["token_ids"][0]) == 2
    assert word_count({"token_ids": features["token_ids"][1], "ngram_ids": features["ngram_ids"][1]}) == 2


def test_both_preprocessors_are_saved_with_their_vocabularies(tmp_path):
    words = text_vectorizer(TEXTS, max_tokens=20, max_length=4)
    bag = TextFeatures(max_tokens=20, max_length=4, ngram_max_tokens=50, ngrams=2, name="bag")
    bag.adapt(TEXTS)
    texts = keras.Input((), dtype="string")
    features = bag(texts)
    keras.Model(texts, [words(texts), features["token_ids"], features["ngram_ids"]]).save(tmp_path / "model.keras")
    restored = keras.saving.load_model(tmp_path / "model.keras")
    sample = np.array(["a bad film", "good good good"], dtype=object)
    for loaded, original in zip(restored(sample), [words(sample), bag(sample)["token_ids"], bag(sample)["ngram_ids"]]):
        np.testing.assert_array_equal(loaded, original)
