"""Greedy and beam-search decoding of a captioner, one word at a time, in TensorFlow ops.

Both run inside a `tf.function` (and so inside an exported SavedModel):
the loop is a `tf.while_loop` over at most `max_length` steps that stops
once every caption has emitted `<end>`.
"""

from __future__ import annotations

from typing import NamedTuple

import keras
import tensorflow as tf

from toolkit.config import ConfigError
from toolkit.layers import AttentionLSTMCell
from toolkit.models.token_step import TokenStep
from toolkit.preprocessing.captions import END_ID, NOT_WORD_IDS, PADDING_ID, START_ID


class Decoded(NamedTuple):
    """Captions found by a search.

    Attributes:
        ids: int64 `(batch, max_length)`, padded after `<end>`.
        log_probability: Each caption's summed log-probability, `<end>` included;
            with a `presence_weight`, the summed scores, bonus included.
        attention: `(batch, max_length, positions)`: the attention weights
            over the encoder's grid with which each word was chosen (zeros
            after `<end>`); `positions` is 0 for a decoder without attention.
    """

    ids: tf.Tensor
    log_probability: tf.Tensor
    attention: tf.Tensor


class CaptionDecoder:
    """One decoding step of a trained captioner, and the loops built on it.

    Two weights let what the image shows outvote which words usually
    follow which:

    - With `presence_weight` λ > 0, each word's log-probability gains
      λ · log P(the word is in the caption | image), from the network's
      word-presence head (a shallow fusion).
    - With `context_weight` w ≠ 1, the head reads `[h, w · context]`: the
      attended context's own term in every word's logit is scaled by w,
      against the LSTM output's (for an attention decoder of depth 1,
      whose head reads both).

    Args:
        network: A `ShowAndTell` network; its `state_encoder`, `embedding`,
            `decoder_layers` and `head` are used one step at a time.
        presence_weight: λ; needs a network trained with `word_presence_loss`.
        context_weight: w; 1 decodes the network as it was trained.
    """

    def __init__(self, network: keras.Model, presence_weight: float = 0.0, context_weight: float = 1.0):
        check_presence_weight(network, presence_weight)
        check_context_weight(network, context_weight)
        self.presence = network.word_presence if presence_weight else None
        self.presence_weight = float(presence_weight)
        self.encoder = network.state_encoder
        units = network.architecture.units

        def weighted_head(outputs: tf.Tensor) -> tf.Tensor:  # the attention cell's outputs are [h, context]
            return network.head(tf.concat([outputs[:, :units], context_weight * outputs[:, units:]], axis=-1))

        head = network.head if context_weight == 1.0 else weighted_head
        self.token_step = TokenStep(network.embedding, network.decoder_layers, head)
        first_cell = self.token_step.cells[0]
        self.attention_cell = first_cell if isinstance(first_cell, AttentionLSTMCell) else None
        self.positions = self.attention_cell.positions if self.attention_cell else 0

    def start(self, images: tf.Tensor) -> list[tf.Tensor]:
        """The decoding states from a batch of images.

        The cells' states (`[h₁, c₁, h₂, c₂, …]`, with the attention cell's
        memory), then, with a `presence_weight`, the per-word bonus
        `(batch, vocabulary)`, which every step adds and passes on.
        """
        states = list(self.encoder(images, training=False))
        if self.presence is None:
            return states
        logits = self.presence(images, training=False)
        words = tf.reduce_all(tf.range(tf.shape(logits)[-1])[:, None] != tf.constant(NOT_WORD_IDS)[None, :], axis=1)
        return states + [self.presence_weight * tf.where(words, tf.math.log_sigmoid(logits), 0.0)]

    def attention(self, states: list[tf.Tensor]) -> tf.Tensor:
        """The weights `(batch, positions)` over the grid that the next step attends with; `(batch, 0)` without attention."""
        if self.attention_cell is None:
            return tf.zeros([tf.shape(states[0])[0], 0])
        return self.attention_cell.attention_weights(self.token_step.cell_states(states)[0])

    def step(self, tokens: tf.Tensor, states: list[tf.Tensor]) -> tuple[tf.Tensor, list[tf.Tensor]]:
        """Feeds one token per caption; returns next-token scores `(batch, vocabulary)` and the new states.

        The scores are log-probabilities, plus the word-presence bonus with a `presence_weight`.
        """
        if self.presence is None:
            probabilities, states = self.token_step(tokens, states)
            return tf.math.log(tf.maximum(probabilities, 1e-30)), states
        *cell_states, bonus = states
        probabilities, cell_states = self.token_step(tokens, cell_states)
        return tf.math.log(tf.maximum(probabilities, 1e-30)) + bonus, cell_states + [bonus]

    def greedy(self, images: tf.Tensor, max_length: int) -> Decoded:
        """Picks the most likely word at each step."""
        states = self.start(images)
        batch = tf.shape(images)[0]
        tokens = tf.fill([batch], tf.constant(START_ID, tf.int64))
        finished = tf.zeros([batch], tf.bool)
        total = tf.zeros([batch])
        ids = tf.TensorArray(tf.int64, size=0, dynamic_size=True, element_shape=[None])
        weights = tf.TensorArray(tf.float32, size=0, dynamic_size=True, element_shape=[None, self.positions])

        def body(step, tokens, states, finished, total, ids, weights):
            attention = tf.where(finished[:, None], 0.0, self.attention(states))
            log_probabilities, states = self.step(tokens, states)
            chosen = tf.argmax(log_probabilities, axis=-1)
            chosen = tf.where(finished, tf.constant(PADDING_ID, tf.int64), chosen)
            gained = tf.gather(log_probabilities, chosen, batch_dims=1)
            total += tf.where(finished, 0.0, gained)
            return (step + 1, chosen, states, finished | (chosen == END_ID), total, ids.write(step, chosen),
                    weights.write(step, attention))

        _, _, _, _, total, ids, weights = tf.while_loop(
            lambda step, tokens, states, finished, total, ids, weights: (step < max_length) & ~tf.reduce_all(finished),
            body,
            (tf.constant(0), tokens, states, finished, total, ids, weights),
        )
        attention = tf.transpose(weights.stack(), [1, 0, 2])
        return Decoded(_padded(tf.transpose(ids.stack()), max_length), total, _padded_attention(attention, max_length))

    def beam_search(self, images: tf.Tensor, max_length: int, beam_width: int, length_penalty: float = 0.0) -> Decoded:
        """Keeps the `beam_width` most likely partial captions at each step.

        Hypotheses are ranked by summed log-probability while searching; at
        the end, each finished caption's score is its log-probability
        divided by `length ** length_penalty` (0: no normalisation, 1: the
        mean per word), so that longer captions are not penalised merely for
        having more words.

        Returns:
            The best caption per image, as `greedy`.
        """
        batch = tf.shape(images)[0]
        states = [_tile(state, beam_width) for state in self.start(images)]
        tokens = tf.fill([batch * beam_width], tf.constant(START_ID, tf.int64))
        # Only the first beam is live at the start, so that the first step does not pick one word k times.
        scores = tf.tile(tf.concat([[0.0], tf.fill([beam_width - 1], -1e9)], 0)[None], [batch, 1])
        finished = tf.zeros([batch, beam_width], tf.bool)
        lengths = tf.zeros([batch, beam_width])
        sequences = tf.zeros([batch, beam_width, 0], tf.int64)
        weights = tf.zeros([batch, beam_width, 0, self.positions])

        def body(step, tokens, states, scores, finished, lengths, sequences, weights):
            attention = tf.reshape(self.attention(states), [batch, beam_width, self.positions])
            attention = tf.where(finished[..., None], 0.0, attention)
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
            weights = tf.concat(
                [tf.gather(weights, parents, batch_dims=1), tf.gather(attention, parents, batch_dims=1)[:, :, None]], axis=2
            )
            flat_parents = tf.reshape(parents + tf.range(batch)[:, None] * beam_width, [-1])
            states = [tf.gather(state, flat_parents) for state in states]
            return step + 1, tf.reshape(words, [-1]), states, scores, finished, lengths, sequences, weights

        _, _, _, scores, _, lengths, sequences, weights = tf.while_loop(
            lambda step, tokens, states, scores, finished, lengths, sequences, weights: (step < max_length)
            & ~tf.reduce_all(finished),
            body,
            (tf.constant(0), tokens, states, scores, finished, lengths, sequences, weights),
            shape_invariants=(
                tf.TensorShape([]),
                tf.TensorShape([None]),
                [tf.TensorShape([None, None])] * len(states),
                tf.TensorShape([None, beam_width]),
                tf.TensorShape([None, beam_width]),
                tf.TensorShape([None, beam_width]),
                tf.TensorShape([None, beam_width, None]),
                tf.TensorShape([None, beam_width, None, self.positions]),
            ),
        )
        normalized = scores / tf.pow(tf.maximum(lengths, 1.0), length_penalty)
        best = tf.argmax(normalized, axis=-1, output_type=tf.int32)
        return Decoded(
            _padded(tf.gather(sequences, best, batch_dims=1), max_length),
            tf.gather(scores, best, batch_dims=1),
            _padded_attention(tf.gather(weights, best, batch_dims=1), max_length),
        )


def check_presence_weight(network: keras.Model, presence_weight: float) -> None:
    """Refuses a presence bonus for a network without a word-presence head, naming both keys."""
    if presence_weight and network.word_presence is None:
        raise ConfigError(
            f"'decoding.presence_weight' is {presence_weight}, but the network has no word-presence head; "
            "train it with 'model.word_presence_loss' above 0, or set 'decoding.presence_weight' to 0."
        )


def check_context_weight(network: keras.Model, context_weight: float) -> None:
    """Refuses a context weight for a network whose head does not read an attended context beside `h`."""
    if context_weight != 1.0 and (network.attention_grid is None or len(network.decoder_layers) != 1):
        raise ConfigError(
            f"'decoding.context_weight' is {context_weight}, but the network's head reads no attended context (it has "
            f"{'no attention' if network.attention_grid is None else 'attention'} and {len(network.decoder_layers)} "
            "decoder layer(s)): that needs 'model.decoder' attention and 'model.depth' 1. Set 'decoding.context_weight' "
            "to 1."
        )


def _tile(state: tf.Tensor, beam_width: int) -> tf.Tensor:
    """`(batch, units)` → `(batch * beam_width, units)`, each row repeated `beam_width` times."""
    return tf.repeat(state, beam_width, axis=0)


def _padded(ids: tf.Tensor, max_length: int) -> tf.Tensor:
    missing = max_length - tf.shape(ids)[1]
    return tf.pad(ids, [[0, 0], [0, missing]], constant_values=PADDING_ID)


def _padded_attention(weights: tf.Tensor, max_length: int) -> tf.Tensor:
    """`(batch, steps, positions)` → `(batch, max_length, positions)`, zeros after the last step."""
    return tf.pad(weights, [[0, 0], [0, max_length - tf.shape(weights)[1]], [0, 0]])
