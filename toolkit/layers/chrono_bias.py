"""Chrono initialisation of an LSTM's gate biases (Tallec & Ollivier, 2018): memories of every time scale up to T."""

from __future__ import annotations

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="toolkit")
class ChronoBias(keras.initializers.Initializer):
    """Initial LSTM biases that give each cell a memory time scale drawn from 1 … `max_timescale`.

    A cell whose forget gate sits at `σ(b_f)` forgets at a rate of about
    `1 − σ(b_f)` per step, so it remembers for about `1 + e^{b_f}` steps. Chrono
    initialisation draws `u ~ U(1, max_timescale − 1)` per cell and sets the
    forget gate's bias to `log u` and the input gate's to `−log u`; the
    candidate's and the output gate's biases are 0. With the usual forget
    bias of 1 every cell starts remembering about 3.7 steps, and gradients
    from the end of a 1,000-step sequence vanish before reaching its start.

    For the `bias` of `LSTMCell` or `LSTM`, in Keras' gate order
    `[i, f, g, o]`, with `unit_forget_bias=False`.

    Args:
        max_timescale: The longest dependency expected, in steps; at least 2.
        seed: Random seed.

    Example:

    >>> import numpy as np
    >>> from toolkit.layers import LSTM, ChronoBias
    >>> layer = LSTM(8, bias_initializer=ChronoBias(1000), unit_forget_bias=False)
    >>> _ = layer(np.zeros((1, 5, 3), "float32"))
    >>> forget = layer.cell.bias.numpy()[8:16]
    >>> bool(np.all((forget >= 0) & (forget <= np.log(999))))
    True
    """

    def __init__(self, max_timescale: float, seed: int | None = None):
        if not max_timescale >= 2:
            raise ValueError(f"ChronoBias: `max_timescale` must be at least 2, got {max_timescale!r}.")
        self.max_timescale = float(max_timescale)
        self.seed = seed

    def __call__(self, shape, dtype=None):
        if len(shape) != 1 or shape[0] % 4:
            raise ValueError(f"ChronoBias: expected an LSTM bias of shape (4 * units,), got {tuple(shape)}.")
        units = shape[0] // 4
        forget = ops.log(keras.random.uniform((units,), 1.0, self.max_timescale - 1.0, dtype=dtype, seed=self.seed))
        zeros = ops.zeros((2 * units,), dtype=dtype)
        return ops.concatenate([-forget, forget, zeros])

    def get_config(self) -> dict:
        return {"max_timescale": self.max_timescale, "seed": self.seed}
