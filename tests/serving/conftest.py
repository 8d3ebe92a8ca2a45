"""The runs every serving test serves (copies of the latest release's recorded runs), loaded once per session."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.serving.helpers import PIPELINES, RECORDED
from toolkit.serving.models import ServedModels, load_models


@pytest.fixture(scope="session")
def run_copies(tmp_path_factory) -> dict[str, Path]:
    """Each pipeline's recorded run, copied to a folder named after the pipeline (the fixtures are never written to)."""
    folder = tmp_path_factory.mktemp("served")
    return {pipeline: shutil.copytree(RECORDED / pipeline / "run", folder / pipeline) for pipeline in PIPELINES}


@pytest.fixture(scope="session")
def served_models(run_copies) -> ServedModels:
    """The five runs, each a model named after its pipeline, loaded once for the whole session."""
    return load_models(list(run_copies.values()))


@pytest.fixture(autouse=True)
def _fresh_keras_state():
    """Serving tests build no Keras model: clearing Keras' session, a full garbage collection over the SavedModels
    loaded for the session, would only cost each test half a second."""
    yield
