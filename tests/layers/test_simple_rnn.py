"""The vanilla RNN cell against Keras' SimpleRNN with the same weights, and its arguments."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from tests.helpers import random_sequences
from tests.layers.test_lstm_parity import TOLERANCE, build_pair, outputs_and_gradients
from toolkit.layers import SimpleRNNCell


@pytest.mark.parametrize("return_sequences", [False, True])
def test_simple_rnn_cell_matches_keras_simple_rnn(return_sequences):
    def make(impl):
        if impl == "keras":
            return keras.layers.SimpleRNN(4, return_sequences=return_sequences)
        return keras.layers.RNN(SimpleRNNCell(4), return_sequences=return_sequences)

    inputs = random_sequences(3, 6, 5)
    inputs[2, 4:] = 0.0
    reference, ours = build_pair(make, features=5, use_mask=True)
    expected_outputs, expected_grads = outputs_and_gradients(reference, inputs)
    actual_outputs, actual_grads = outputs_and_gradients(ours, inputs)
    np.testing.assert_allclose(actual_outputs[0], expected_outputs[0], atol=TOLERANCE, rtol=TOLERANCE)
    for actual, expected in zip(actual_grads, expected_grads):
        np.testing.assert_allclose(actual, expected, atol=TOLERANCE, rtol=TOLERANCE)


def test_invalid_arguments_name_themselves():
    with pytest.raises(ValueError, match="dropout"):
        SimpleRNNCell(3, dropout=1.5)
    with pytest.raises(ValueError, match="units"):
        SimpleRNNCell(0)
