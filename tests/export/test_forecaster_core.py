"""The forecaster's numeric core: raw windows in, the served prices and log changes out, its checks left to NumPy."""

from __future__ import annotations

import numpy as np

from tests.fixtures.releases import LATEST
from toolkit.export.forecaster_core import forecaster_core


def test_the_core_answers_raw_windows_as_the_task_serves_them(recorded_models):
    model = recorded_models["stock"]
    windows = np.load(LATEST / "stock" / "inputs.npy")
    core = forecaster_core(model)
    outputs, served = core.expected({"windows": windows}), model.serve(windows)
    np.testing.assert_allclose(outputs["prices"], served["prices"], rtol=1e-6)
    np.testing.assert_allclose(outputs["log_changes"], served["log_changes"], atol=1e-7)
    assert core.loops_over_time


def test_the_core_holds_no_assertion_that_portable_runtimes_would_lack(recorded_models):
    graph = forecaster_core(recorded_models["stock"]).concrete_function().graph.as_graph_def()
    ops = {node.op for node in graph.node} | {node.op for f in graph.library.function for node in f.node_def}
    assert "Assert" not in ops


def test_the_example_windows_are_ones_the_task_would_serve(recorded_models):
    model = recorded_models["stock"]
    windows = forecaster_core(model).example(5)["windows"]
    assert windows.shape == (5, 11, 5) and windows.dtype == np.float32
    assert np.isfinite(model.serve(windows)["prices"].numpy()).all()  # its in-graph checks pass
