"""Recurrent layers written from their equations, learned or projected initial states, and pooling over time."""

from toolkit.layers.chrono_bias import ChronoBias
from toolkit.layers.initial_state import (
    LearnedInitialState,
    ProjectedInitialState,
    rnn_state_sizes,
)
from toolkit.layers.lstm import LSTM, LSTMCell
from toolkit.layers.pooling import MaxAndMeanPooling1D
from toolkit.layers.simple_rnn import SimpleRNNCell

__all__ = [
    "ChronoBias",
    "LSTM",
    "LSTMCell",
    "LearnedInitialState",
    "MaxAndMeanPooling1D",
    "ProjectedInitialState",
    "SimpleRNNCell",
    "rnn_state_sizes",
]
