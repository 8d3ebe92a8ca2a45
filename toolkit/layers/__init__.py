"""Recurrent layers written from their equations, and learned or projected initial states."""

from toolkit.layers.initial_state import (
    LearnedInitialState,
    ProjectedInitialState,
    rnn_state_sizes,
)
from toolkit.layers.lstm import LSTM, LSTMCell
from toolkit.layers.simple_rnn import SimpleRNNCell

__all__ = [
    "LSTM",
    "LSTMCell",
    "LearnedInitialState",
    "ProjectedInitialState",
    "SimpleRNNCell",
    "rnn_state_sizes",
]
