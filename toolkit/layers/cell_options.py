"""What the recurrent cells share: the dropout mixin and option checking and serializing."""

from __future__ import annotations

import keras
from keras import constraints, initializers, regularizers

# `keras.layers.RNN` resets cached dropout masks only on cells that inherit this
# mixin, so our cells inherit it to get one mask per sequence, like Keras' cells.
from toolkit.keras_private import DropoutRNNCell

__all__ = ["DropoutRNNCell", "check_rate", "serialize_weight_options"]

_WEIGHTS = ("kernel", "recurrent", "bias")


def check_rate(name: str, rate: float) -> float:
    """Returns `rate` as a float, or raises if it is outside `[0, 1]`."""
    if not 0.0 <= rate <= 1.0:
        raise ValueError(f"`{name}` must be in [0, 1], got {rate!r}.")
    return float(rate)


def serialize_weight_options(cell: keras.layers.Layer) -> dict:
    """Serializes a cell's initializers, regularizers and constraints for `get_config()`."""
    config = {}
    for weight in _WEIGHTS:
        config[f"{weight}_initializer"] = initializers.serialize(getattr(cell, f"{weight}_initializer"))
        config[f"{weight}_regularizer"] = regularizers.serialize(getattr(cell, f"{weight}_regularizer"))
        config[f"{weight}_constraint"] = constraints.serialize(getattr(cell, f"{weight}_constraint"))
    return config
