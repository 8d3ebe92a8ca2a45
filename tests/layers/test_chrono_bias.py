"""Chrono initialisation: forget biases log u with u in [1, T − 1], input biases their negatives, the rest zero."""

from __future__ import annotations

import numpy as np
import pytest

from toolkit.layers import LSTM, ChronoBias


def test_gate_biases_span_the_time_scales():
    layer = LSTM(200, bias_initializer=ChronoBias(1000, seed=0), unit_forget_bias=False)
    layer(np.zeros((1, 3, 2), "float32"))
    bias_i, bias_f, bias_g, bias_o = np.split(layer.cell.bias.numpy(), 4)
    assert np.all((bias_f >= 0) & (bias_f <= np.log(999) + 1e-6))
    assert bias_f.max() > np.log(500)  # long memories among them
    np.testing.assert_allclose(bias_i, -bias_f)
    assert not bias_g.any() and not bias_o.any()


def test_refused_beside_the_unit_forget_bias():
    with pytest.raises(ValueError, match="pass unit_forget_bias=False with it"):
        LSTM(4, bias_initializer=ChronoBias(100))
