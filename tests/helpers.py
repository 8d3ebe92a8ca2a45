"""Small helpers for tests."""

from __future__ import annotations

import numpy as np

# Pure red and this blue have the same luma (0.2989) and chroma (1): they differ in hue only.
RED, SAME_LUMA_BLUE = (1.0, 0.0, 0.0), (0.0, (0.2989 - 0.114) / 0.587, 1.0)


def random_sequences(batch: int, timesteps: int, features: int, seed: int = 0) -> np.ndarray:
    """Standard-normal float32 sequences, the same for a given seed."""
    return np.random.default_rng(seed).standard_normal((batch, timesteps, features)).astype("float32")
