"""An LSTM cell that reads a soft-attention context of a memory at every step (Bahdanau et al., 2015; Xu et al., 2015)."""

from __future__ import annotations

import keras
from keras import ops

from toolkit.layers.lstm import LSTMCell


@keras.saving.register_keras_serializable(package="toolkit")
class AttentionLSTMCell(keras.layers.Layer):
    """An `LSTMCell` whose input at each step is the step's input and an attended context of a memory.

    The memory is a set of `positions` vectors of size `features`, such as
    an image encoder's grid (Show, Attend and Tell). At each step the
    previous output `h₋₁` scores every position additively (Bahdanau):
    `e = vᵀ tanh(k + W h₋₁)`, where `k` are the memory's keys, projected
    once per sequence by the caller. `α = softmax(e)` over the positions,
    and the context `z = Σ α m` enters the LSTM step beside the input:
    `h, c = LSTM([x, z], h₋₁, c₋₁)`. The step's output is `[h, z]`, so
    that a head can read both (the "deep output" of Show, Attend and Tell).

    The memory and its keys travel as constant states (flattened), since
    Keras' `RNN` takes no constants; they leave every step unchanged.

    Args:
        units: The LSTM's units.
        positions: How many memory vectors there are (a grid's height × width).
        features: The size of each memory vector.
        attention_units: The size of the keys and of the projected query.
        **kwargs: Base layer keyword arguments, such as `name`.

    Call arguments:
        inputs: `(batch, input_size)`: one step's input, such as a word's embedding.
        states: `[h, c, memory, keys]`: `(batch, units)` twice, then
            `(batch, positions * features)` and `(batch, positions * attention_units)`.
        training: Passed to the LSTM cell.

    Returns:
        `(output, new_states)`: `[h, z]` of size `units + features`, and
        `[h, c, memory, keys]`.

    Example:

    >>> import numpy as np
    >>> import keras
    >>> from toolkit.layers import AttentionLSTMCell
    >>> cell = AttentionLSTMCell(8, positions=4, features=3, attention_units=5)
    >>> memory = np.random.random((2, 4 * 3)).astype("float32")
    >>> keys = np.random.random((2, 4 * 5)).astype("float32")
    >>> h = c = np.zeros((2, 8), "float32")
    >>> outputs = keras.layers.RNN(cell, return_sequences=True)(
    ...     np.zeros((2, 6, 7), "float32"), initial_state=[h, c, memory, keys])
    >>> tuple(outputs.shape)
    (2, 6, 11)
    >>> round(float(cell.attention_weights([h, c, memory, keys]).numpy().sum(axis=-1)[0]), 5)
    1.0
    """

    def __init__(self, units: int, positions: int, features: int, attention_units: int = 64, **kwargs):
        super().__init__(**kwargs)
        for name, value in (("units", units), ("positions", positions), ("features", features),
                            ("attention_units", attention_units)):
            if not isinstance(value, int) or value <= 0:
                raise ValueError(f"AttentionLSTMCell: `{name}` must be a positive integer, got {value!r}.")
        self.units = units
        self.positions = positions
        self.features = features
        self.attention_units = attention_units
        self.lstm_cell = LSTMCell(units, name="lstm_cell")
        self.query = keras.layers.Dense(attention_units, use_bias=False, name="query")
        self.score = keras.layers.Dense(1, use_bias=False, name="score")
        self.state_size = [units, units, positions * features, positions * attention_units]
        self.output_size = units + features

    def build(self, input_shape):
        self.lstm_cell.build((None, input_shape[-1] + self.features))
        self.query.build((None, self.units))
        self.score.build((None, self.attention_units))

    def attend(self, h, memory, keys) -> tuple:
        """`(context, weights)`: the context `(batch, features)` and the weights `(batch, positions)` for query `h`."""
        memory = ops.reshape(memory, (-1, self.positions, self.features))
        keys = ops.reshape(keys, (-1, self.positions, self.attention_units))
        scores = ops.squeeze(self.score(ops.tanh(keys + ops.expand_dims(self.query(h), 1))), axis=-1)
        weights = ops.softmax(scores, axis=-1)
        return ops.einsum("bp,bpf->bf", weights, memory), weights

    def attention_weights(self, states: list):
        """The weights over the memory that the next step will use, `(batch, positions)`, from the cell's states."""
        h, _, memory, keys = states
        return self.attend(h, memory, keys)[1]

    def call(self, inputs, states, training=False):
        h, c, memory, keys = states
        context, _ = self.attend(h, memory, keys)
        h, (_, c) = self.lstm_cell(ops.concatenate([inputs, context], axis=-1), [h, c], training=training)
        return ops.concatenate([h, context], axis=-1), [h, c, memory, keys]

    def get_config(self):
        return {
            **super().get_config(),
            "units": self.units,
            "positions": self.positions,
            "features": self.features,
            "attention_units": self.attention_units,
        }
