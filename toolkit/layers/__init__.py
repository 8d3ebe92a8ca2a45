"""Recurrent layers written from their equations, an attention LSTM cell, learned or projected initial states, and helpers."""

from toolkit.layers.attention_lstm import AttentionLSTMCell
from toolkit.layers.chrono_bias import ChronoBias
from toolkit.layers.grid_positions import GridPositionEmbedding
from toolkit.layers.initial_state import (
    LearnedInitialState,
    ProjectedInitialState,
    rnn_state_sizes,
)
from toolkit.layers.lstm import LSTM, LSTMCell
from toolkit.layers.luma_chroma import LumaChroma
from toolkit.layers.mirror_images import MeanOverMirrorImages, WithMirrorImages
from toolkit.layers.pooling import MaxAndMeanPooling1D
from toolkit.layers.simple_rnn import SimpleRNNCell
from toolkit.layers.word_dropout import WordDropout
from toolkit.layers.word_presence import WordPresenceLoss

__all__ = [
    "AttentionLSTMCell",
    "ChronoBias",
    "GridPositionEmbedding",
    "LSTM",
    "LSTMCell",
    "LearnedInitialState",
    "LumaChroma",
    "MaxAndMeanPooling1D",
    "MeanOverMirrorImages",
    "ProjectedInitialState",
    "SimpleRNNCell",
    "WithMirrorImages",
    "WordDropout",
    "WordPresenceLoss",
    "rnn_state_sizes",
]
