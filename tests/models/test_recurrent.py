"""The configurable LSTM stack: its layers' names and wrappers, what each returns, masks kept, and the config's bounds."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from toolkit import config as config_lib
from toolkit.config import ConfigError
from toolkit.layers import LSTM, LearnedInitialState
from toolkit.models.recurrent import RecurrentConfig, recurrent_stack


def stack(config: RecurrentConfig, return_sequences: bool = False) -> keras.Model:
    ids = keras.Input((None,), dtype="int64")
    x = keras.layers.Embedding(10, 3, mask_zero=True)(ids)
    return keras.Model(ids, recurrent_stack(x, config, return_sequences))


def test_layers_are_named_by_depth_and_only_the_last_returns_its_final_state():
    model = stack(RecurrentConfig(units=4, depth=3, bidirectional=False))
    layers = [layer for layer in model.layers if isinstance(layer, LSTM)]
    assert [layer.name for layer in layers] == ["lstm_1", "lstm_2", "lstm_3"]
    assert [layer.return_sequences for layer in layers] == [True, True, False]
    assert model.output.shape == (None, 4)
    assert stack(RecurrentConfig(units=4, depth=2, bidirectional=False), return_sequences=True).output.shape == (None, None, 4)


def test_bidirectional_layers_concatenate_both_directions_and_keep_the_name():
    model = stack(RecurrentConfig(units=4, depth=1, bidirectional=True))
    layer = model.get_layer("lstm_1")
    assert isinstance(layer, keras.layers.Bidirectional) and layer.forward_layer.units == 4
    assert model.output.shape == (None, 8)


def test_learned_initial_states_wrap_each_layer_under_its_name():
    model = stack(RecurrentConfig(units=4, depth=2, bidirectional=True, learned_initial_state=True))
    outer = model.get_layer("lstm_2")
    assert isinstance(outer, LearnedInitialState) and outer.layer.name == "lstm_2_bidirectional"
    assert len(outer.initial_states) == 4  # h and c of each direction
    alone = stack(RecurrentConfig(units=4, depth=1, bidirectional=False, learned_initial_state=True))
    assert alone.get_layer("lstm_1").layer.name == "lstm_1_cell_loop"


def test_dropout_settings_reach_every_lstm():
    model = stack(RecurrentConfig(units=4, depth=2, bidirectional=False, dropout=0.25, recurrent_dropout=0.5))
    for name in ("lstm_1", "lstm_2"):
        cell = model.get_layer(name).cell
        assert (cell.dropout, cell.recurrent_dropout) == (0.25, 0.5)


def test_padding_is_masked_through_the_stack():
    model = stack(RecurrentConfig(units=4, depth=2, bidirectional=True))
    padded = model(np.array([[3, 4, 5, 0, 0]])).numpy()
    np.testing.assert_allclose(padded, model(np.array([[3, 4, 5]])).numpy(), rtol=1e-5, atol=1e-6)


def test_the_config_defaults_and_bounds():
    assert config_lib.to_dict(RecurrentConfig()) == {
        "units": 64, "depth": 1, "bidirectional": True, "learned_initial_state": False, "dropout": 0.0,
        "recurrent_dropout": 0.0,
    }
    with pytest.raises(ConfigError, match="depth"):
        config_lib.from_dict(RecurrentConfig, {"depth": 9})
    with pytest.raises(ConfigError, match="units"):
        config_lib.from_dict(RecurrentConfig, {"units": 0})
