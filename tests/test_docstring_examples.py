"""The runnable examples in the docstrings of layers and preprocessing run and print what they say."""

from __future__ import annotations

import doctest

import pytest

from toolkit.layers import (
    attention_lstm,
    chrono_bias,
    grid_positions,
    initial_state,
    lstm,
    luma_chroma,
    mirror_images,
    simple_rnn,
    word_dropout,
    word_presence,
)
from toolkit.models import classifier, label_smoothing, ngram, text_classifier
from toolkit.preprocessing import captions, prices, text

MODULES = [
    lstm, simple_rnn, initial_state, chrono_bias, mirror_images, text, prices, captions, text_classifier, ngram,
    classifier, label_smoothing, attention_lstm, grid_positions, word_dropout, word_presence,
    luma_chroma,
]


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.__name__)
def test_docstring_examples(module):
    results = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert results.attempted > 0
    assert results.failed == 0
