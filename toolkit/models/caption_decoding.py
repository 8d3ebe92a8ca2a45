"""Greedy and beam-search decoding of a captioner, one word at a time, in TensorFlow ops.

Both run inside a `tf.function` (and so inside an exported SavedModel):
the loop is a `tf.while_loop` over at most `max_length` steps that stops
once every caption has emitted `<end>`.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from toolkit.models.token_step import TokenStep
from toolkit.preprocessing.captions import END_ID, PADDING_ID, START_ID


class CaptionDecoder:
    """One decoding step of a trained captioner, and the loops built on it.

    Args:
        network: A `ShowAndTell` network; its `state_encoder`, `embedding`,
            `decoder_layers` and `head` are used one step at a time.
    """

    def __init__(self, network: keras.Model):
        self.encoder = network.state_encoder
        self.token_step = TokenStep(network.embedding, network.decoder_layers, network.head)

    def start(self, images: tf.Tensor) -> list[tf.Tensor]:
        """The decoder's initial states, `[h₁, c₁, h₂, c₂, …]`, from a batch of images."""
        return list(self.encoder(images, training=False))

    def step(self, tokens: tf.Tensor, states: list[tf.Tensor]) -> tuple[tf.Tensor, list[tf.Tensor]]:
        """Feeds one token per caption; returns next-token log-probabilities `(batch, vocabulary)` and the new states."""
        probabilities, states = self.token_step(tokens, states)
        return tf.math.log(tf.maximum(probabilities, 1e-30)), states

    def greedy(self, images: tf.Tensor, max_length: int) -> tuple[tf.Tensor, tf.Tensor]:
        """Picks the most likely word at each step.

        Returns:
            `(ids, log_probability)`: int64 `(batch, max_length)` padded after
            `<end>`, and each caption's summed log-probability, `<end>` included.
        """
        states = self.start(images)
        batch = tf.shape(images)[0]
        tokens = tf.fill([batch], tf.constant(START_ID, tf.int64))
        finished = tf.zeros([batch], tf.bool)
        total = tf.zeros([batch])
        ids = tf.TensorArray(tf.int64, size=0, dynamic_size=True, element_shape=[None])

        def body(step, tokens, states, finished, total, ids):
            log_probabilities, states = self.step(tokens, states)
            chosen = tf.argmax(log_probabilities, axis=-1)
            chosen = tf.where(finished, tf.constant(PADDING_ID, tf.int64), chosen)
            gained = tf.gather(log_probabilities, chosen, batch_dims=1)
            total += tf.where(finished, 0.0, gained)
            return step + 1, chosen, states, finished | (chosen == END_ID), total, ids.write(step, chosen)

        _, _, _, _, total, ids = tf.while_loop(
            lambda step, tokens, states, finished, total, ids: (step < max_length) & ~tf.reduce_all(finished),
            body,
            (tf.constant(0), tokens, states, finished, total, ids),
        )
        return _padded(tf.transpose(ids.stack()), max_length), total

    def beam_search(
        self, images: tf.Tensor, max_length: int, beam_width: int, length_penalty: float = 0.0
    ) -> tuple[tf.Tensor, tf.Tensor]:
        """Keeps the `beam_width` most likely partial captions at each step.

        Hypotheses are ranked by summed log-probability while searching; at
        the end, each finished caption's score is its log-probability
        divided by `length ** length_penalty` (0: no normalisation, 1: the
        mean per word), so that longer captions are not penalised merely for
        having more words.

        Returns:
            `(ids, log_probability)` of the best caption per image, as `greedy`.
        """
        batch = tf.shape(images)[0]
        states = [_tile(state, beam_width) for state in self.start(images)]
        tokens = tf.fill([batch * beam_width], tf.constant(START_ID, tf.int64))
        # Only the first beam is live at the start, so that the first step does not pick one word k times.
        scores = tf.tile(tf.concat([[0.0], tf.fill([beam_width - 1], -1e9)], 0)[None], [batch, 1])
        finished = tf.zeros([batch, beam_width], tf.bool)
        lengths = tf.zeros([batch, beam_width])
        sequences = tf.zeros([batch, beam_width, 0], tf.int64)

        def body(step, tokens, states, scores, finished, lengths, sequences):
            log_probabilities, states = self.step(tokens, states)
            vocabulary = tf.shape(log_probabilities)[-1]
            log_probabilities = tf.reshape(log_probabilities, [batch, beam_width, vocabulary])
            # A finished caption can only be extended by padding, at no cost.
            padding_only = tf.where(tf.range(vocabulary) == PADDING_ID, 0.0, -1e9)
            log_probabilities = tf.where(finished[..., None], padding_only, log_probabilities)
            candidates = tf.reshape(scores[..., None] + log_probabilities, [batch, -1])
            scores, chosen = tf.math.top_k(candidates, k=beam_width)
            parents = chosen // vocabulary
            words = tf.cast(chosen % vocabulary, tf.int64)
            was_finished = tf.gather(finished, parents, batch_dims=1)
            lengths = tf.gather(lengths, parents, batch_dims=1) + tf.cast(~was_finished, tf.float32)
            finished = was_finished | (words == END_ID)
            sequences = tf.concat([tf.gather(sequences, parents, batch_dims=1), words[..., None]], axis=-1)
            flat_parents = tf.reshape(parents + tf.range(batch)[:, None] * beam_width, [-1])
            states = [tf.gather(state, flat_parents) for state in states]
            return step + 1, tf.reshape(words, [-1]), states, scores, finished, lengths, sequences

        _, _, _, scores, _, lengths, sequences = tf.while_loop(
            lambda step, tokens, states, scores, finished, lengths, sequences: (step < max_length)
            & ~tf.reduce_all(finished),
            body,
            (tf.constant(0), tokens, states, scores, finished, lengths, sequences),
            shape_invariants=(
                tf.TensorShape([]),
                tf.TensorShape([None]),
                [tf.TensorShape([None, None])] * len(states),
                tf.TensorShape([None, beam_width]),
                tf.TensorShape([None, beam_width]),
                tf.TensorShape([None, beam_width]),
                tf.TensorShape([None, beam_width, None]),
            ),
        )
        normalized = scores / tf.pow(tf.maximum(lengths, 1.0), length_penalty)
        best = tf.argmax(normalized, axis=-1, output_type=tf.int32)
        return _padded(tf.gather(sequences, best, batch_dims=1), max_length), tf.gather(scores, best, batch_dims=1)


def _tile(state: tf.Tensor, beam_width: int) -> tf.Tensor:
    """`(batch, units)` → `(batch * beam_width, units)`, each row repeated `beam_width` times."""
    return tf.repeat(state, beam_width, axis=0)


def _padded(ids: tf.Tensor, max_length: int) -> tf.Tensor:
    missing = max_length - tf.shape(ids)[1]
    return tf.pad(ids, [[0, 0], [0, missing]], constant_values=PADDING_ID)
