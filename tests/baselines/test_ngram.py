"""The Kneser–Ney n-gram baseline: probabilities worked out by hand, its discounts, short contexts and what it refuses."""

from __future__ import annotations

import math

import numpy as np
import pytest

from toolkit.baselines.ngram import KneserNeyNGrams

# Bigrams of 0 1 0 1 0 2: "0 1" and "1 0" twice, "0 2" once: n₁ = 1, n₂ = 2, so D = 1 / (1 + 2·2) = 0.2.
TOKENS = np.array([0, 1, 0, 1, 0, 2])


def test_bigram_probabilities_by_hand():
    model = KneserNeyNGrams(2, 4).fit(TOKENS)  # token 3 never occurs
    # Each of 0, 1, 2 follows one distinct token: continuation counts 1, 1, 1, so the unigram level's
    # discount is 3 / 3 = 1 and it is the uniform 1/4. After 0 (seen 3 times, followed by 2 kinds):
    # P(w | 0) = max(c(0 w) − 0.2, 0) / 3 + 0.2 · 2 / 3 · 1/4.
    floor = 0.2 * 2 / 3 / 4
    expected = [floor, (2 - 0.2) / 3 + floor, (1 - 0.2) / 3 + floor, floor]
    np.testing.assert_allclose(model.probabilities(np.array([[0]]))[0], expected)
    assert sum(expected) == pytest.approx(1.0)
    # A context never seen (3) falls back to the lower order.
    np.testing.assert_allclose(model.probabilities(np.array([[3]]))[0], [0.25] * 4)


def test_every_distribution_sums_to_one_and_gives_every_token_some_probability():
    tokens = np.random.default_rng(0).integers(0, 5, 2000)
    model = KneserNeyNGrams(3, 6).fit(tokens)  # token 5 never occurs
    contexts = np.array([[a, b] for a in range(6) for b in range(6)])
    probabilities = model.probabilities(contexts)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-9)
    assert (probabilities > 0).all()


def test_log2_probabilities_of_many_rows_are_those_of_each_row_alone():
    model = KneserNeyNGrams(3, 5).fit(np.random.default_rng(1).integers(0, 5, 500))
    contexts = np.array([[0, 1], [4, 4], [2, 3]])
    targets = np.array([2, 0, 3])
    together = model.log2_probabilities(contexts, targets)
    for context, target, value in zip(contexts, targets, together):
        assert value == pytest.approx(math.log2(model.probabilities(context[None])[0, target]))


def test_a_row_with_a_shorter_context_gets_the_distribution_of_the_order_it_fills():
    model = KneserNeyNGrams(2, 4).fit(TOKENS)
    # No token before: the unigram (continuation) level, here uniform, whatever the context column holds.
    for context in range(4):
        assert model.log2_probabilities(np.array([[context]]), np.array([1]), np.array([0]))[0] == pytest.approx(-2.0)
    assert model.log2_probabilities(np.array([[0]]), np.array([1]), np.array([1]))[0] == pytest.approx(
        math.log2((2 - 0.2) / 3 + 0.2 * 2 / 3 / 4)
    )


def test_a_pattern_of_the_models_order_is_learned():
    model = KneserNeyNGrams(3, 3).fit(np.array([0, 0, 1] * 100))
    assert model.probabilities(np.array([[0, 0]]))[0].argmax() == 1
    assert model.probabilities(np.array([[0, 1]]))[0].argmax() == 0
    assert model.probabilities(np.array([[0, 0]]))[0, 1] > 0.95


def test_orders_below_one_and_codes_beyond_64_bits_are_refused():
    with pytest.raises(ValueError, match="KneserNeyNGrams: `order` must be at least 1, got 0"):
        KneserNeyNGrams(0, 10)
    with pytest.raises(ValueError, match="8-grams over 300 tokens do not fit one 64-bit code each"):
        KneserNeyNGrams(8, 300)
    assert KneserNeyNGrams(7, 300).order == 7  # 300⁷ ≈ 2.2e17 < 2⁶²
