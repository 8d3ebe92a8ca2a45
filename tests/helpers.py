"""Small helpers for tests."""

from __future__ import annotations

import numpy as np


def random_sequences(batch: int, timesteps: int, features: int, seed: int = 0) -> np.ndarray:
    """Standard-normal float32 sequences, the same for a given seed."""
    return np.random.default_rng(seed).standard_normal((batch, timesteps, features)).astype("float32")
