"""Bits per character of a language model beside its n-gram baseline, on the same characters of the same text."""

from __future__ import annotations

import math

import keras
import numpy as np
from scipy import stats

from toolkit.baselines.ngram import KneserNeyNGrams
from toolkit.errors import InputError
from toolkit.evaluation.verdict import verdict_verb

# Held-out text is read as this many streams at most, each from a zero state.
EVALUATION_STREAMS = 64
_ROWS_AT_ONCE = 16


def as_streams(ids: np.ndarray, streams: int) -> tuple[np.ndarray, np.ndarray]:
    """A text's ids as `streams` equal contiguous rows of inputs, and their next characters; the remainder left out.

    Returns:
        `(inputs, targets)`, int64 `(streams, length)` each, `length = (len(ids) − 1) // streams`.
    """
    length = (len(ids) - 1) // streams
    return (
        np.asarray(ids[: streams * length], "int64").reshape(streams, length),
        np.asarray(ids[1 : streams * length + 1], "int64").reshape(streams, length),
    )


def evaluation_streams(ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Held-out ids as up to `EVALUATION_STREAMS` rows of at least 256 characters (one row for a short text).

    Raises:
        InputError: For fewer than 2 characters: nothing to predict from.
    """
    if len(ids) < 2:
        raise InputError(
            f"data: {len(ids)} character(s); bits per character need at least 2, one to read and one to predict."
        )
    return as_streams(ids, max(1, min(EVALUATION_STREAMS, (len(ids) - 1) // 256)))


def report(network: keras.Model, ids: np.ndarray, baseline: KneserNeyNGrams | None = None) -> dict:
    """A held-out text's bits per character; with a fitted n-gram `baseline`, both on the same characters and a verdict."""
    inputs, targets = evaluation_streams(ids)
    network_log2 = network_log2_probabilities(network, inputs, targets)
    result = {"characters": int(targets.size), "bits_per_character": float(-np.mean(network_log2))}
    if baseline is not None:
        compared = comparison(
            network_log2, ngram_log2_probabilities(baseline, inputs, targets), f"the Kneser–Ney {baseline.order}-gram model"
        )
        result.update(compared)
        result["headline"] = compared
    return result


def network_log2_probabilities(network: keras.Model, inputs: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """`log₂ P(target)` at every position of `(streams, length)` rows, each read from a zero state in one pass.

    Rows go through the network `_ROWS_AT_ONCE` at a time: every step's
    outputs and logits of a whole batch are in memory together.
    """
    chosen = []
    for start in range(0, len(inputs), _ROWS_AT_ONCE):
        rows = slice(start, start + _ROWS_AT_ONCE)
        log_probabilities = keras.ops.log_softmax(network(inputs[rows], training=False), axis=-1)
        chosen.append(np.take_along_axis(keras.ops.convert_to_numpy(log_probabilities), targets[rows, :, None], axis=-1)[..., 0])
    return np.concatenate(chosen) / math.log(2.0)


def ngram_log2_probabilities(model: KneserNeyNGrams, inputs: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """`log₂ P(target)` under an n-gram model, its context cut at each row's start as the network's is."""
    width = model.order - 1
    padded = np.pad(inputs, [(0, 0), (width, 0)])
    # Each position's last `width` characters; none for a model of single characters.
    contexts = np.stack(
        [padded[:, offset : offset + inputs.shape[1]] for offset in range(1, width + 1)] or [np.zeros_like(inputs)[..., :0]],
        axis=-1,
    )
    available = np.minimum(np.arange(1, inputs.shape[1] + 1), width)
    log2 = model.log2_probabilities(
        contexts.reshape(inputs.size, width), targets.reshape(-1), np.broadcast_to(available, inputs.shape).reshape(-1)
    )
    return log2.reshape(inputs.shape)


def fit_ngram_baseline(train_ids: np.ndarray, validation_ids: np.ndarray, vocabulary_size: int, orders: list[int]) -> tuple[KneserNeyNGrams, dict]:
    """Fits a Kneser–Ney model of each order on the training ids; keeps the one with the fewest bits per character on validation.

    Returns:
        The chosen model, and `{order: validation bits per character}`.
    """
    inputs, targets = evaluation_streams(validation_ids)
    scores, best = {}, None
    for order in orders:
        model = KneserNeyNGrams(order, vocabulary_size).fit(train_ids)
        scores[order] = float(-np.mean(ngram_log2_probabilities(model, inputs, targets)))
        if best is None or scores[order] < scores[best.order]:
            best = model  # only the best so far is kept: a model of 8-grams holds millions of counts
    return best, scores


def comparison(network_log2: np.ndarray, baseline_log2: np.ndarray, baseline: str, alpha: float = 0.05) -> dict:
    """Both models' bits per character on the same characters, and whether the difference is significant.

    The test is a paired t-test over the streams' mean bits per character:
    neighbouring characters are far from independent, streams nearly are.
    """
    bits, baseline_bits = float(-np.mean(network_log2)), float(-np.mean(baseline_log2))
    per_stream = np.mean(baseline_log2 - network_log2, axis=1)  # > 0 where the network spends fewer bits
    p_value = float(stats.ttest_1samp(per_stream, 0.0).pvalue) if len(per_stream) > 1 and np.std(per_stream) > 0 else 1.0
    verb = verdict_verb(bits < baseline_bits, p_value, alpha)
    saved = baseline_bits - bits
    figures = (
        f"{bits:.3f} against {baseline_bits:.3f} bits per character ({abs(saved):.3f} {'fewer' if saved >= 0 else 'more'}, "
        f"{abs(saved) / baseline_bits:.1%}; paired t-test over {len(per_stream)} streams, p = {p_value:.2g})"
    )
    return {
        "bits_per_character": bits,
        "baseline_bits_per_character": baseline_bits,
        "p_value": p_value,
        "verdict": f"The network {verb} {baseline}: {figures}" + (", not a significant difference." if verb == "ties" else "."),
    }
