"""The adding problem of Hochreiter & Schmidhuber (1997, section 5.4), a test of long memory, in their coding."""

from __future__ import annotations

import numpy as np

from toolkit.errors import InputError

# A sequence counts as processed correctly when the absolute error of the answer at its end is below this.
CORRECT_WITHIN = 0.04
# Always answering the mean target, 0.5, scores Var(0.5 + (X₁ + X₂)/4) = 2 · (1/3) / 16 for X ~ U(-1, 1).
CONSTANT_GUESS_MSE = 2.0 / 3.0 / 16.0


def adding_problem(
    num_samples: int, length: int, seed: int | np.random.Generator = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Generates the adding problem exactly as Hochreiter & Schmidhuber (1997) coded it.

    Each step is a pair: a value drawn from U(-1, 1), and a marker. Exactly
    two pairs are marked with 1.0: one of the first ten (its value is `X₁`),
    then one of the first `T/2 − 1` pairs still unmarked (`X₂`). The first
    and the last pair, unless marked, carry the marker -1.0; all others 0.0.
    When the very first pair is marked, its value is set to 0 (1997: "we set
    X₁ to zero"; here also when `X₂` falls there). A sequence's length is drawn from `T … T + T/10`. The target, given at the
    end, is `0.5 + (X₁ + X₂) / 4`: the sum scaled into [0, 1].

    Sequences are padded with zeros at the front to the longest possible
    length, so that every one ends at the last step; `mask` is `False` on the
    padding, for a recurrent layer to skip it.

    Args:
        num_samples: Number of sequences.
        length: The minimal sequence length `T`, at least 20 (ten pairs for
            `X₁`, and room for `X₂` before the middle).
        seed: Seed, or a NumPy generator to draw from (a training stream).

    Returns:
        `(inputs, mask, targets)`: float32 `(num_samples, T + T // 10, 2)`,
        bool `(num_samples, T + T // 10)` and float32 `(num_samples, 1)`.
    """
    if length < 20:
        raise InputError(f"adding_problem: `length` must be at least 20, got {length}.")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    padded_length = length + length // 10
    lengths = rng.integers(length, padded_length, size=num_samples, endpoint=True)
    values = rng.uniform(-1.0, 1.0, size=(num_samples, padded_length))
    rows = np.arange(num_samples)
    first = rng.integers(0, 10, size=num_samples)
    # One of the first T/2 − 1 pairs other than `first`: draw from T/2 − 2 and step over it.
    second = rng.integers(0, length // 2 - 2, size=num_samples)
    second += second >= first
    values[rows[(first == 0) | (second == 0)], 0] = 0.0
    markers = np.zeros((num_samples, padded_length))
    markers[rows, 0] = -1.0
    markers[rows, lengths - 1] = -1.0
    markers[rows, first] = 1.0
    markers[rows, second] = 1.0
    targets = 0.5 + (values[rows, first] + values[rows, second]) / 4.0

    # Shift each sequence to end at the last step; what comes before its start is padding.
    positions = np.arange(padded_length)
    mask = positions[None, :] >= (padded_length - lengths)[:, None]
    source = (positions[None, :] - (padded_length - lengths)[:, None]) % padded_length
    inputs = np.stack([np.take_along_axis(values, source, 1), np.take_along_axis(markers, source, 1)], axis=-1)
    inputs[~mask] = 0.0
    return inputs.astype("float32"), mask, targets[:, None].astype("float32")


def correct(predictions, targets) -> np.ndarray:
    """Whether each answer is within `CORRECT_WITHIN` of its target: the 1997 criterion, per sequence."""
    return np.abs(np.asarray(predictions, "float64") - np.asarray(targets, "float64")).reshape(-1) < CORRECT_WITHIN
