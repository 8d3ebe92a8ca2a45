"""One step of a token-by-token recurrent network (embedding → stacked LSTM cells → head), for decoding loops in the graph."""

from __future__ import annotations

from collections.abc import Callable

import keras
import tensorflow as tf
from keras import tree


class TokenStep:
    """Feeds one token per row through a trained network's embedding, recurrent cells and head.

    What a captioner's decoder and a language model's sampler both step
    through, one token at a time, inside a `tf.while_loop`.

    Args:
        embedding: The network's `Embedding`.
        recurrent_layers: Its LSTM layers, bottom first; their cells are used.
        head: The layer (or function) from the top cell's output to the
            head's output (probabilities or logits).
    """

    def __init__(
        self, embedding: keras.layers.Embedding, recurrent_layers: list, head: Callable[[tf.Tensor], tf.Tensor]
    ):
        self.embedding = embedding
        self.cells = [layer.cell for layer in recurrent_layers]
        # Each cell's state sizes, flat: [units, units] for an LSTM cell, more for an attention cell.
        self.state_sizes = [[int(size) for size in tree.flatten(cell.state_size)] for cell in self.cells]
        self.head = head

    def zero_states(self, batch_size: tf.Tensor) -> list[tf.Tensor]:
        """`[h₁, c₁, h₂, c₂, …]` of zeros for `batch_size` rows."""
        return [tf.zeros([batch_size, size]) for sizes in self.state_sizes for size in sizes]

    def cell_states(self, states: list[tf.Tensor]) -> list[list[tf.Tensor]]:
        """The flat list of states split per cell, bottom first (an LSTM cell has `[h, c]`; an attention cell more)."""
        per_cell, start = [], 0
        for sizes in self.state_sizes:
            per_cell.append(states[start : start + len(sizes)])
            start += len(sizes)
        return per_cell

    def __call__(self, tokens: tf.Tensor, states: list[tf.Tensor]) -> tuple[tf.Tensor, list[tf.Tensor]]:
        """Feeds `tokens` `(batch,)`; returns the head's output `(batch, vocabulary)` and the new states."""
        # A lookup of the embedding table rather than a call, which would attach a padding mask the cells do not take.
        x = tf.gather(self.embedding.embeddings, tokens)
        new_states = []
        for cell, cell_states in zip(self.cells, self.cell_states(states), strict=True):
            x, cell_states = cell(x, cell_states, training=False)
            new_states += list(cell_states)
        return self.head(x), new_states
