"""Caption metrics: BLEU through NLTK (cases worked out by hand and NLTK's documented example), and token accuracy."""

from __future__ import annotations

import math

import numpy as np
import pytest
import tensorflow as tf

from toolkit.evaluation.captioning import caption_metrics, caption_words, token_accuracy


def test_bleu_by_hand():
    perfect = caption_metrics([["a red circle above a blue square"]], ["A red circle, above a blue square."])
    assert perfect == {"bleu_1": 1.0, "bleu_2": 1.0, "bleu_3": 1.0, "bleu_4": 1.0, "exact_match": 1.0}
    # "a b c e" against "a b c d": n-gram precisions 3/4, 2/3, 1/2, 0/1; same length, so no brevity penalty.
    scores = caption_metrics([["a b c d"]], ["a b c e"])
    assert scores["bleu_1"] == pytest.approx(0.75)
    assert scores["bleu_2"] == pytest.approx((3 / 4 * 2 / 3) ** 0.5)
    assert scores["bleu_3"] == pytest.approx((3 / 4 * 2 / 3 * 1 / 2) ** (1 / 3))
    assert scores["bleu_4"] == pytest.approx(0.0, abs=1e-12)
    assert scores["exact_match"] == 0.0


def test_any_reference_counts_and_short_captions_pay_the_brevity_penalty():
    scores = caption_metrics([["x y z w", "a b c d"]], ["a b c d"])
    assert scores["bleu_4"] == pytest.approx(1.0) and scores["exact_match"] == 1.0
    short = caption_metrics([["a b c d e f"]], ["a b c"])
    assert short["bleu_1"] == pytest.approx(math.exp(1 - 6 / 3))


def test_matches_nltks_documented_corpus_example():
    hypothesis_1 = "It is a guide to action which ensures that the military always obeys the commands of the party"
    references_1 = [
        "It is a guide to action that ensures that the military will forever heed Party commands",
        "It is the guiding principle which guarantees the military forces always being under the command of the Party",
        "It is the practical guide for the army always to heed the directions of the party",
    ]
    hypothesis_2 = "he read the book because he was interested in world history"
    references_2 = ["he was interested in world history because he read the book"]
    scores = caption_metrics([references_1, references_2], [hypothesis_1, hypothesis_2])
    # NLTK's corpus_bleu docstring gives 0.5920778868801042. We lower-case, but no clipped
    # count changes: the one reference with lower-case "party" already allows every match.
    assert scores["bleu_4"] == pytest.approx(0.5920778868801042, abs=1e-12)


def test_caption_words_lowercase_and_drop_punctuation():
    assert caption_words("A red, small Circle.") == ["a", "red", "small", "circle"]


def test_token_accuracy_counts_teacher_forced_next_words_and_leaves_padding_out():
    def network(inputs, training=False):
        """Predicts the input word again: right wherever the next word repeats it."""
        _, words = inputs
        return tf.one_hot(words, 6)

    inputs = np.array([[2, 4, 4, 5], [2, 5, 0, 0]])
    targets = np.array([[4, 4, 5, 3], [5, 3, 0, 0]])  # padding after <end> (3)
    pairs = tf.data.Dataset.from_tensor_slices(((np.zeros((2, 1)), inputs), targets)).batch(1)
    # Row 1: only its second step repeats its input (4 after 4), 1 of 4; row 2: 0 of 2 before the padding.
    assert token_accuracy(network, pairs) == pytest.approx(1 / 6)
    assert token_accuracy(network, pairs.take(0)) == 0.0, "no batches: no division by zero"
