"""Fixtures shared by the whole suite, and which of its tests share a `pytest -n` worker."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest


# Folders whose conftest.py builds session fixtures (exported, served and searched runs): with `--dist loadscope`
# each is one unit of work, so that one worker builds each fixture once.
FOLDERS_SHARING_FIXTURES = ("tests/export/", "tests/serving/", "tests/tuning/")


def unit_of_work(nodeid: str) -> str:
    """The file a test is in, or the folder of `FOLDERS_SHARING_FIXTURES` that holds it."""
    path = nodeid.split("::", 1)[0]
    return next((folder for folder in FOLDERS_SHARING_FIXTURES if path.startswith(folder)), path)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """`--dist loadscope` sends each unit of work (see `unit_of_work`) whole to one worker."""
    if config.getvalue("dist") != "loadscope":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class ByUnitOfWork(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return unit_of_work(nodeid)

    return ByUnitOfWork(config, log)


@pytest.fixture(autouse=True)
def _fresh_keras_state():
    """Each test starts from the same seed and an empty Keras name scope."""
    keras.utils.set_random_seed(1234)
    # Without the garbage collection clear_session runs by default: it cost a fifth of a second a test.
    keras.backend.clear_session(free_memory=False)
    yield


@pytest.fixture
def run_python():
    """Runs Python code in a fresh process and returns what it printed as JSON.

    The code must print one JSON document on its last line of stdout. Unless
    `allow_toolkit=True`, the process fails the test if it imported `toolkit`.
    """

    def run(code: str, timeout: float = 300, allow_toolkit: bool = False) -> object:
        guard = (
            ""
            if allow_toolkit
            else "\nimport sys as _sys\nassert not any(m == 'toolkit' or m.startswith('toolkit.') for m in _sys.modules), 'toolkit was imported'\n"
        )
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
        completed = subprocess.run(
            [sys.executable, "-c", textwrap.dedent(code) + guard],
            check=False,
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
            cwd="/",
        )
        assert completed.returncode == 0, completed.stderr[-4000:]
        return json.loads(completed.stdout.strip().splitlines()[-1])

    return run


@pytest.fixture
def run_without_toolkit(run_python):
    """Runs Python code in a fresh process that must not import `toolkit`; see `run_python`."""
    return run_python


@pytest.fixture
def loaded_by_keras(run_python, tmp_path):
    """Loads a run's `model.keras` with `keras.saving.load_model` in a fresh process that imports only `toolkit`.

    Returns a function of `(run_dir, raw_inputs)` that serves `raw_inputs` through
    the loaded model's `serve` and through the run's SavedModel, asserts that
    both give the same named outputs, and returns the model's class name and outputs.
    """

    def serve(run_dir, raw_inputs) -> dict:
        inputs_path = tmp_path / "raw_inputs.npy"
        np.save(inputs_path, np.asarray(raw_inputs), allow_pickle=True)
        result = run_python(
            f"""
            import json
            import numpy as np
            import tensorflow as tf
            import keras
            import toolkit

            def listed(tensor):
                values = tensor.numpy()
                return [v.decode() for v in values] if values.dtype == object else values.tolist()

            model = keras.saving.load_model({str(run_dir / "model.keras")!r})
            spec = model.raw_input_spec()
            raw = tf.constant(np.load({str(inputs_path)!r}, allow_pickle=True).tolist(), spec.dtype)
            serving = tf.saved_model.load({str(run_dir / "serving")!r}).signatures["serving_default"]
            print(json.dumps({{
                "class": type(model).__name__,
                "keras": {{name: listed(value) for name, value in model.serve(raw).items()}},
                "saved_model": {{name: listed(value) for name, value in serving(**{{spec.name: raw}}).items()}},
            }}))
            """,
            allow_toolkit=True,
        )
        assert sorted(result["keras"]) == sorted(result["saved_model"])
        for name, values in result["saved_model"].items():
            if values and isinstance(np.ravel(values)[0], str):
                assert result["keras"][name] == values, name
            else:
                np.testing.assert_allclose(result["keras"][name], values, atol=1e-5, err_msg=name)
        return {"class": result["class"], **result["keras"]}

    return serve
