"""The one door to Keras' private parts: each part this Keras must have, a clear message when one is gone, and no other door."""

from __future__ import annotations

import ast
import importlib
import pkgutil
import re
from pathlib import Path

import keras
import pytest

import toolkit
from toolkit import keras_private

ROOT = Path(toolkit.__file__).parent
PRIVATE_MODULES = ("keras.src", "tensorflow.python", "tensorflow.lite.python")


@pytest.mark.parametrize("name", sorted(keras_private.PARTS))
def test_this_keras_has_every_private_part_toolkit_uses(name):
    assert keras_private.PARTS[name].resolve() is not None


def test_this_tensorflow_has_the_private_function_onnx_export_freezes_with():
    assert callable(keras_private.FROZEN_FUNCTION.resolve())


def test_this_tensorflow_has_the_error_the_litert_converter_refuses_with():
    assert issubclass(keras_private.CONVERTER_ERROR.resolve(), Exception)


def test_the_rnn_layer_keeps_the_batch_size_of_its_states_where_truncated_bptt_sets_it():
    layer = keras.layers.RNN(keras.layers.SimpleRNNCell(2))
    assert hasattr(layer, "_expected_batch_size")
    keras_private.make_stateful(layer, 3)
    assert layer.stateful and [tuple(state.shape) for state in layer.states] == [(3, 2)]
    keras_private.make_stateless(layer)
    assert not layer.stateful and layer.states is None and layer._expected_batch_size is None


def test_a_part_this_keras_lacks_is_named_with_the_reason(monkeypatch):
    import keras.src.backend

    monkeypatch.delattr(keras.src.backend, "cudnn_ok")
    with pytest.raises(ImportError, match=r"keras\.src\.backend\.cudnn_ok \(whether an LSTM can run on the fused cuDNN kernel\)"):
        keras_private.PARTS["cudnn_ok"].resolve()
    monkeypatch.delattr(keras.layers.RNN, "_create_state_variables")
    with pytest.raises(ImportError, match=rf"RNN\._create_state_variables .*which Keras {re.escape(keras.__version__)} lacks"):
        keras_private.make_stateful(keras.layers.RNN(keras.layers.SimpleRNNCell(2)), 3)


def test_no_other_module_imports_or_replaces_a_private_part_of_keras():
    private = re.compile(r"_create_state_variables|_expected_batch_size|_maybe_symbolic_build|reduce_per_replica|_initial_epoch")
    offenders = []
    for module in pkgutil.walk_packages(toolkit.__path__, "toolkit."):
        if module.name == "toolkit.keras_private":
            continue
        source = Path(importlib.util.find_spec(module.name).origin).read_text()
        for node in ast.walk(ast.parse(source)):
            named = node.module if isinstance(node, ast.ImportFrom) else None
            names = [alias.name for alias in node.names] if isinstance(node, ast.Import) else []
            if any(name and name.startswith(PRIVATE_MODULES) for name in [named, *names]):
                offenders.append(f"{module.name} imports {named or names}")
            if isinstance(node, ast.Attribute) and private.fullmatch(node.attr):
                offenders.append(f"{module.name} uses .{node.attr}")
    assert offenders == []
