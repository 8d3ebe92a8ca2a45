"""A configurable stack of our LSTM layers, shared by the sequence pipelines."""

from __future__ import annotations

from dataclasses import dataclass

import keras

from toolkit.config import option
from toolkit.layers import LSTM, LearnedInitialState


@dataclass
class RecurrentConfig:
    """A stack of LSTM layers."""

    units: int = option(64, "Units per LSTM layer (per direction when bidirectional).", min=1)
    depth: int = option(1, "Number of stacked LSTM layers.", min=1, max=8)
    bidirectional: bool = option(True, "Read the sequence both ways and concatenate.")
    learned_initial_state: bool = option(False, "Train h₀ and c₀ instead of starting from zeros.")
    dropout: float = option(0.0, "Input dropout inside each LSTM.", min=0.0, max=1.0)
    recurrent_dropout: float = option(0.0, "Dropout on h₋₁ inside each LSTM.", min=0.0, max=1.0)


def recurrent_stack(x, config: RecurrentConfig, return_sequences: bool = False, name: str = "lstm"):
    """Applies `config.depth` LSTM layers to the sequence `x`, keeping masks.

    Every layer but the last returns sequences; the last returns sequences
    only if `return_sequences`. Layers are named `lstm_1`, `lstm_2`, ...
    """
    for index in range(1, config.depth + 1):
        layer_name = f"{name}_{index}"
        wrapped = config.bidirectional or config.learned_initial_state
        layer = LSTM(
            config.units,
            dropout=config.dropout,
            recurrent_dropout=config.recurrent_dropout,
            return_sequences=return_sequences or index < config.depth,
            name=f"{layer_name}_cell_loop" if wrapped else layer_name,
        )
        if config.bidirectional:
            name_here = f"{layer_name}_bidirectional" if config.learned_initial_state else layer_name
            layer = keras.layers.Bidirectional(layer, name=name_here)
        if config.learned_initial_state:
            layer = LearnedInitialState(layer, name=layer_name)
        x = layer(x)
    return x
