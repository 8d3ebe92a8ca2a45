"""What the recurrent cells share: rate checks, the serialized weight options, and one dropout mask per sequence."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from keras import constraints, initializers, regularizers

from toolkit.layers import LSTMCell, SimpleRNNCell
from toolkit.layers.cell_options import DropoutRNNCell, check_rate, serialize_weight_options


def test_a_rate_in_the_closed_unit_interval_is_taken_as_a_float():
    assert check_rate("dropout", 0) == 0.0 and isinstance(check_rate("dropout", 1), float)
    assert check_rate("dropout", 0.25) == 0.25


def test_a_rate_outside_it_is_refused_naming_the_argument():
    for rate in (-0.01, 1.01, float("nan")):
        with pytest.raises(ValueError, match=rf"`recurrent_dropout` must be in \[0, 1\], got {rate!r}\."):
            check_rate("recurrent_dropout", rate)


def test_the_weight_options_of_a_cell_are_serialized_as_keras_serializes_each():
    cell = SimpleRNNCell(
        3, kernel_initializer="ones", recurrent_regularizer=regularizers.L2(0.5), bias_constraint="non_neg"
    )
    options = serialize_weight_options(cell)
    assert sorted(options) == sorted(
        f"{weight}_{option}" for weight in ("kernel", "recurrent", "bias") for option in ("initializer", "regularizer", "constraint")
    )
    assert options["kernel_initializer"] == initializers.serialize(initializers.Ones())
    assert regularizers.deserialize(options["recurrent_regularizer"]).get_config() == {"l2": 0.5}
    assert isinstance(constraints.deserialize(options["bias_constraint"]), constraints.NonNeg)
    assert options["kernel_regularizer"] is None and options["recurrent_constraint"] is None
    rebuilt = SimpleRNNCell.from_config(cell.get_config())
    assert serialize_weight_options(rebuilt) == options


def test_the_cells_draw_one_dropout_mask_per_sequence_as_keras_cells_do():
    assert issubclass(SimpleRNNCell, DropoutRNNCell) and issubclass(LSTMCell, DropoutRNNCell)
    # No recurrence and a linear step: each output is the masked input times the kernel, so
    # equal inputs at every step give equal outputs only if every step has the same mask.
    cell = SimpleRNNCell(16, activation="linear", use_bias=False, recurrent_initializer="zeros", dropout=0.5, seed=1)
    layer = keras.layers.RNN(cell, return_sequences=True)
    inputs = np.ones((2, 5, 16), "float32")
    first = layer(inputs, training=True).numpy()
    np.testing.assert_allclose(first, np.broadcast_to(first[:, :1], first.shape), rtol=1e-6)
    assert not np.allclose(first, layer(inputs, training=False)), "dropout was active"
    assert not np.allclose(layer(inputs, training=True), first), "a new mask for the next batch"
