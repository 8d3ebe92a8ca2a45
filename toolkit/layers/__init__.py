"""Recurrent layers written from their equations, learned or projected initial states, pooling over time, and mirror images."""

from toolkit.layers.chrono_bias import ChronoBias
from toolkit.layers.initial_state import (
    LearnedInitialState,
    ProjectedInitialState,
    rnn_state_sizes,
)
from toolkit.layers.lstm import LSTM, LSTMCell
from toolkit.layers.mirror_images import MeanOverMirrorImages, WithMirrorImages
from toolkit.layers.pooling import MaxAndMeanPooling1D
from toolkit.layers.simple_rnn import SimpleRNNCell

__all__ = [
    "ChronoBias",
    "LSTM",
    "LSTMCell",
    "LearnedInitialState",
    "MaxAndMeanPooling1D",
    "MeanOverMirrorImages",
    "ProjectedInitialState",
    "SimpleRNNCell",
    "WithMirrorImages",
    "rnn_state_sizes",
]
