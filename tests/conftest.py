"""Fixtures shared by the whole suite."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import keras
import pytest


@pytest.fixture(autouse=True)
def _fresh_keras_state():
    """Each test starts from the same seed and an empty Keras name scope."""
    keras.utils.set_random_seed(1234)
    keras.backend.clear_session()
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

