"""The adding problem of Hochreiter & Schmidhuber (1997), a test of long memory."""

from __future__ import annotations

import numpy as np

from toolkit.errors import InputError

# Always answering the mean target, 1.0, scores Var(u₁ + u₂) = 2/12 for u ~ U(0, 1).
CONSTANT_GUESS_MSE = 2.0 / 12.0


def adding_problem(num_samples: int, length: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Generates the adding problem.

    Each sequence has two channels: values drawn from U(0, 1), and markers that
    are 1 at exactly two steps, one in each half of the sequence, and 0
    elsewhere. The target is the sum of the two marked values, so a model must
    remember a value from the first half until the end.

    Args:
        num_samples: Number of sequences.
        length: Number of time steps `T`, at least 2.
        seed: Seed of the generator; the same seed gives the same data.

    Returns:
        `(inputs, targets)`: float32 arrays of shapes `(num_samples, length, 2)`
        and `(num_samples, 1)`.
    """
    if length < 2:
        raise InputError(f"adding_problem: `length` must be at least 2, got {length}.")
    rng = np.random.default_rng(seed)
    values = rng.uniform(0.0, 1.0, size=(num_samples, length))
    half = length // 2
    first = rng.integers(0, half, size=num_samples)
    second = rng.integers(half, length, size=num_samples)
    markers = np.zeros((num_samples, length))
    rows = np.arange(num_samples)
    markers[rows, first] = 1.0
    markers[rows, second] = 1.0
    inputs = np.stack([values, markers], axis=-1).astype("float32")
    targets = (values[rows, first] + values[rows, second])[:, None].astype("float32")
    return inputs, targets
