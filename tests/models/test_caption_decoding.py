"""Greedy and beam-search decoding of a captioner, checked against the teacher-forced network they step through."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from toolkit.config import ConfigError
from toolkit.models.caption_decoding import CaptionDecoder, check_context_weight, check_presence_weight
from toolkit.models.captioner import CaptionerConfig, ShowAndTell
from toolkit.models.image_encoder import ImageEncoderConfig
from toolkit.preprocessing.captions import END_ID, NOT_WORD_IDS, PADDING_ID, START_ID

VOCABULARY, MAX_LENGTH = 10, 6


def network(decoder: str = "attention", word_presence_loss: float = 0.0, depth: int = 1, seed: int = 4) -> ShowAndTell:
    """A small untrained captioner whose weights are drawn wide enough that its captions vary by image and step."""
    config = CaptionerConfig(
        decoder=decoder,
        encoder=ImageEncoderConfig(filters=[4, 4], batch_norm=False, output="grid" if decoder == "attention" else "flatten",
                                   colour="mixed"),
        units=8, embedding_dim=4, attention_units=4, depth=depth, word_dropout=0.0, dropout=0.0, feature_dropout=0.0,
        word_presence_loss=word_presence_loss,
    )
    model = ShowAndTell((16, 16, 3), VOCABULARY, config)
    rng = np.random.default_rng(seed)
    model.set_weights([rng.normal(0, 0.8, weight.shape).astype("float32") for weight in model.get_weights()])
    return model


IMAGES = tf.constant(np.random.default_rng(1).integers(0, 256, (3, 16, 16, 3), dtype=np.uint8))


def teacher_forced_log_probabilities(model: ShowAndTell, ids: np.ndarray) -> np.ndarray:
    """log P(next token) at each step of `ids`, fed back after <start>."""
    inputs = np.concatenate([np.full((len(ids), 1), START_ID), ids[:, :-1]], axis=1)
    return np.log(model([IMAGES, tf.constant(inputs, tf.int64)], training=False).numpy())


def test_greedy_picks_the_argmax_of_the_teacher_forced_network_on_its_own_words_and_sums_their_log_probabilities():
    model = network()
    decoded = CaptionDecoder(model).greedy(IMAGES, MAX_LENGTH)
    ids = decoded.ids.numpy()
    assert ids.shape == (3, MAX_LENGTH)
    log_probabilities = teacher_forced_log_probabilities(model, ids)
    for row in range(3):
        length = list(ids[row]).index(END_ID) + 1 if END_ID in ids[row] else MAX_LENGTH
        assert (ids[row, :length] == log_probabilities[row, :length].argmax(axis=-1)).all()
        assert (ids[row, length:] == PADDING_ID).all(), "padding after <end>"
        chosen = log_probabilities[row, np.arange(length), ids[row, :length]]
        assert decoded.log_probability.numpy()[row] == pytest.approx(chosen.sum(), rel=1e-4)
    assert len({tuple(row) for row in ids}) > 1, "the images get different captions"


def test_a_caption_ends_at_end_and_the_loop_stops():
    model = network()
    head = model.head
    kernel, bias = head.get_weights()
    bias[END_ID] = 100.0
    head.set_weights([kernel, bias])
    decoded = CaptionDecoder(model).greedy(IMAGES, MAX_LENGTH)
    assert decoded.ids.numpy().tolist() == [[END_ID] + [PADDING_ID] * (MAX_LENGTH - 1)] * 3
    np.testing.assert_allclose(decoded.log_probability, 0.0, atol=1e-3)
    assert not decoded.attention.numpy()[:, 1:].any(), "no attention after <end>"


def test_attention_weights_are_a_distribution_over_the_grid_for_each_word():
    decoder = CaptionDecoder(network())
    assert decoder.positions == 16  # a 4x4 grid from 16x16 images through two blocks
    decoded = decoder.greedy(IMAGES, MAX_LENGTH)
    attention = decoded.attention.numpy()
    assert attention.shape == (3, MAX_LENGTH, 16)
    ids = decoded.ids.numpy()
    words = ids != PADDING_ID
    np.testing.assert_allclose(attention[words].sum(axis=-1), 1.0, rtol=1e-5)
    assert not attention[~words].any()


def test_a_beam_of_one_is_greedy_and_a_wider_beam_scores_its_caption_as_the_network_does():
    model = network(seed=2)
    decoder = CaptionDecoder(model)
    greedy = decoder.greedy(IMAGES, MAX_LENGTH)
    single = decoder.beam_search(IMAGES, MAX_LENGTH, beam_width=1, length_penalty=0.0)
    np.testing.assert_array_equal(single.ids, greedy.ids)
    np.testing.assert_allclose(single.log_probability, greedy.log_probability, rtol=1e-5)
    np.testing.assert_allclose(single.attention, greedy.attention, rtol=1e-5, atol=1e-7)
    wide = decoder.beam_search(IMAGES, MAX_LENGTH, beam_width=4, length_penalty=0.0)
    ids = wide.ids.numpy()
    log_probabilities = teacher_forced_log_probabilities(model, ids)
    for row in range(3):
        length = list(ids[row]).index(END_ID) + 1 if END_ID in ids[row] else MAX_LENGTH
        chosen = log_probabilities[row, np.arange(length), ids[row, :length]]
        assert wide.log_probability.numpy()[row] == pytest.approx(chosen.sum(), rel=1e-4)


def test_a_decoder_without_attention_has_no_grid():
    decoder = CaptionDecoder(network(decoder="init_state"))
    assert decoder.attention_cell is None and decoder.positions == 0
    decoded = decoder.beam_search(IMAGES, MAX_LENGTH, beam_width=2)
    assert decoded.attention.shape == (3, MAX_LENGTH, 0) and decoded.ids.shape == (3, MAX_LENGTH)


def test_the_presence_bonus_is_weighted_log_sigmoid_of_each_words_logit_and_none_for_special_ids():
    model = network(word_presence_loss=1.0)
    decoder = CaptionDecoder(model, presence_weight=0.5)
    *states, bonus = decoder.start(IMAGES)
    assert len(states) == 4
    logits = model.word_presence(IMAGES).numpy()
    expected = 0.5 * -np.log1p(np.exp(-logits))
    expected[:, list(NOT_WORD_IDS)] = 0.0
    np.testing.assert_allclose(bonus.numpy(), expected, rtol=1e-5, atol=1e-6)
    scores, _ = decoder.step(tf.fill([3], tf.constant(START_ID, tf.int64)), states + [bonus])
    plain, _ = CaptionDecoder(model).step(tf.fill([3], tf.constant(START_ID, tf.int64)), states)
    np.testing.assert_allclose(scores - plain, bonus, rtol=1e-4, atol=1e-5)


def test_weights_the_network_cannot_use_are_refused_naming_the_keys():
    with pytest.raises(ConfigError, match=r"'decoding.presence_weight' is 0.5, but the network has no word-presence head"):
        check_presence_weight(network(), 0.5)
    check_presence_weight(network(), 0.0)
    with pytest.raises(ConfigError, match=r"'decoding.context_weight' is 2.0, but .*\(it has no attention and 1 decoder"):
        check_context_weight(network(decoder="init_state"), 2.0)
    with pytest.raises(ConfigError, match=r"\(it has attention and 2 decoder layer\(s\)\)"):
        check_context_weight(network(depth=2), 2.0)
    check_context_weight(network(), 2.0)


def test_a_context_weight_of_one_decodes_the_network_as_trained_and_another_changes_the_words_scores():
    model = network()
    tokens = tf.fill([3], tf.constant(START_ID, tf.int64))
    states = CaptionDecoder(model).start(IMAGES)
    as_trained, _ = CaptionDecoder(model).step(tokens, states)
    weighted, _ = CaptionDecoder(model, context_weight=1.0).step(tokens, states)
    np.testing.assert_allclose(weighted, as_trained, rtol=1e-6)
    boosted, _ = CaptionDecoder(model, context_weight=3.0).step(tokens, states)
    assert not np.allclose(boosted, as_trained)
