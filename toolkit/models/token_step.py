"""One step of a token-by-token recurrent network (embedding → stacked LSTM cells → head), for decoding loops in the graph."""

from __future__ import annotations

import keras
import tensorflow as tf


class TokenStep:
    """Feeds one token per row through a trained network's embedding, recurrent cells and head.

    What a captioner's decoder and a language model's sampler both step
    through, one token at a time, inside a `tf.while_loop`.

    Args:
        embedding: The network's `Embedding`.
        recurrent_layers: Its LSTM layers, bottom first; their cells are used.
        head: The layer from the top cell's output to the head's output
            (probabilities or logits).
    """

    def __init__(self, embedding: keras.layers.Embedding, recurrent_layers: list, head: keras.layers.Layer):
        self.embedding = embedding
        self.cells = [layer.cell for layer in recurrent_layers]
        self.head = head

    def zero_states(self, batch_size: tf.Tensor) -> list[tf.Tensor]:
        """`[h₁, c₁, h₂, c₂, …]` of zeros for `batch_size` rows."""
        return [tf.zeros([batch_size, cell.units]) for cell in self.cells for _ in range(2)]

    def __call__(self, tokens: tf.Tensor, states: list[tf.Tensor]) -> tuple[tf.Tensor, list[tf.Tensor]]:
        """Feeds `tokens` `(batch,)`; returns the head's output `(batch, vocabulary)` and the new states."""
        # A lookup of the embedding table rather than a call, which would attach a padding mask the cells do not take.
        x = tf.gather(self.embedding.embeddings, tokens)
        new_states = []
        for index, cell in enumerate(self.cells):
            x, (h, c) = cell(x, states[2 * index : 2 * index + 2], training=False)
            new_states += [h, c]
        return self.head(x), new_states
