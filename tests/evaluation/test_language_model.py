"""Bits per character of a language model and of its n-gram baseline on the same characters, and the verdict."""

from __future__ import annotations

import math

import keras
import numpy as np
import pytest
from scipy import stats

from toolkit.baselines.ngram import KneserNeyNGrams
from toolkit.errors import InputError
from toolkit.evaluation import language_model as lm

SURE = 2.0  # the logit of the one character the network predicts; the other three get 0


def next_character_network(vocabulary: int = 4) -> keras.Model:
    """Predicts id `(i + 1) % vocabulary` after id `i`, with probability e^2 / (e^2 + 3)."""
    ids = keras.Input((None,), dtype="int64")
    embedding = keras.layers.Embedding(vocabulary, vocabulary)
    network = keras.Model(ids, embedding(ids))
    embedding.set_weights([SURE * np.roll(np.eye(vocabulary, dtype="float32"), 1, axis=1)])
    return network


def test_streams_are_equal_contiguous_rows_and_their_next_characters():
    inputs, targets = lm.as_streams(np.arange(11), 3)  # (11 - 1) // 3 = 3 per row; the last id is left out
    assert inputs.tolist() == [[0, 1, 2], [3, 4, 5], [6, 7, 8]]
    assert targets.tolist() == [[1, 2, 3], [4, 5, 6], [7, 8, 9]]
    assert inputs.dtype == targets.dtype == np.int64


def test_held_out_text_is_read_as_rows_of_at_least_256_characters_up_to_64_rows():
    assert lm.evaluation_streams(np.zeros(100))[0].shape == (1, 99)
    assert lm.evaluation_streams(np.zeros(1000))[0].shape == (3, 333)  # 999 // 256 = 3 rows
    assert lm.evaluation_streams(np.zeros(100_000))[0].shape == (64, 1562)
    assert lm.evaluation_streams(np.zeros(2))[0].shape == (1, 1)
    for short in (0, 1):
        with pytest.raises(InputError, match=rf"data: {short} character\(s\); bits per character need at least 2"):
            lm.evaluation_streams(np.zeros(short))


def test_the_networks_log2_probabilities_are_those_of_its_softmax_across_batches_of_rows():
    inputs, targets = lm.as_streams(np.arange(41 * 20 + 1) % 4, 41)  # 41 rows: more than one batch of 16
    log2 = lm.network_log2_probabilities(next_character_network(), inputs, targets)
    assert log2.shape == (41, 20)
    np.testing.assert_allclose(log2, math.log2(math.exp(SURE) / (math.exp(SURE) + 3)), rtol=1e-5)
    wrong = lm.network_log2_probabilities(next_character_network(), inputs, (targets + 1) % 4)
    np.testing.assert_allclose(wrong, math.log2(1 / (math.exp(SURE) + 3)), rtol=1e-5)


def test_the_ngram_context_is_cut_at_each_rows_start_as_the_networks_state_is():
    model = KneserNeyNGrams(3, 4).fit(np.random.default_rng(0).integers(0, 4, 500))
    inputs = np.array([[2, 0, 3, 1]])
    targets = np.array([[0, 3, 1, 2]])
    log2 = lm.ngram_log2_probabilities(model, inputs, targets)
    # Position 0 reads one real character (2); from position 1 on, the two before the target.
    for before in range(4):  # whatever came before the row does not count
        assert log2[0, 0] == pytest.approx(model.log2_probabilities(np.array([[before, 2]]), np.array([0]), np.array([1]))[0])
    full = model.log2_probabilities(np.array([[2, 0], [0, 3], [3, 1]]), np.array([3, 1, 2]))
    np.testing.assert_allclose(log2[0, 1:], full)


def test_the_baseline_order_with_fewest_validation_bits_is_chosen():
    text = np.array([0, 0, 1] * 300)  # after "0 0" comes 1, after "0 1" and "1 0" comes 0: a 3-gram pattern
    best, scores = lm.fit_ngram_baseline(text, text[:400], 2, [2, 3])
    assert best.order == 3
    assert scores[3] < 0.1 < scores[2]
    best, scores = lm.fit_ngram_baseline(text, text[:400], 2, [3, 2])
    assert best.order == 3 and sorted(scores) == [2, 3], "whatever order they are tried in"


def test_a_significant_difference_is_a_verdict_with_both_figures():
    network = -np.array([[1.0] * 5, [1.2] * 5, [0.8] * 5, [1.0] * 5])  # 1 bit per character on average
    baseline = np.full((4, 5), -2.0)
    result = lm.comparison(network, baseline, "the Kneser–Ney 3-gram model")
    p_value = stats.ttest_1samp([1.0, 0.8, 1.2, 1.0], 0.0).pvalue  # per stream, the bits the network saves
    assert result == {
        "bits_per_character": pytest.approx(1.0),
        "baseline_bits_per_character": 2.0,
        "p_value": pytest.approx(p_value),
        "verdict": "The network beats the Kneser–Ney 3-gram model: 1.000 against 2.000 bits per character (1.000 "
        "fewer, 50.0%; paired t-test over 4 streams, p = 0.0012).",
    }
    loses = lm.comparison(baseline, network, "the 3-gram model")
    assert loses["verdict"].startswith("The network loses to the 3-gram model: 2.000 against 1.000 bits per character "
                                       "(1.000 more, 100.0%;")


def test_a_difference_that_is_not_significant_ties():
    network = -np.array([[1.0] * 3, [3.0] * 3])
    baseline = -np.array([[2.0] * 3, [1.9] * 3])
    result = lm.comparison(network, baseline, "the 2-gram model")
    assert result["verdict"].startswith("The network ties the 2-gram model: ")
    assert result["verdict"].endswith(", not a significant difference.")
    one_stream = lm.comparison(network[:1], baseline[:1], "the 2-gram model")
    assert one_stream["p_value"] == 1.0, "one stream gives no test"


def test_report_gives_bits_per_character_and_with_a_baseline_the_comparison_as_headline():
    ids = np.arange(1001) % 4
    network = next_character_network()
    alone = lm.report(network, ids)
    expected_bits = -math.log2(math.exp(SURE) / (math.exp(SURE) + 3))
    assert alone == {"characters": 999, "bits_per_character": pytest.approx(expected_bits, rel=1e-4)}  # 3 rows of 333
    baseline = KneserNeyNGrams(2, 4).fit(ids)
    compared = lm.report(network, ids, baseline)
    assert compared["headline"]["verdict"].startswith("The network ")
    assert "the Kneser–Ney 2-gram model" in compared["headline"]["verdict"]
    assert compared["baseline_bits_per_character"] == compared["headline"]["baseline_bits_per_character"]
    assert compared["bits_per_character"] == pytest.approx(expected_bits, rel=1e-4)
