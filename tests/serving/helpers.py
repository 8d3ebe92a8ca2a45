"""What the serving tests share: the recorded runs they serve, and a real server on 127.0.0.1 in a thread."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator

import numpy as np
import uvicorn

from tests.fixtures import releases
from toolkit.serving.app import ServingOptions, ServingState, create_app
from toolkit.serving.models import ServedModels
from toolkit.serving.server import DrainingServer, bound_socket

PIPELINES = ("sentiment", "stock", "image_classification", "captioning", "text_generation")
RECORDED = releases.RUNS / "0.1.0+535eb6c"


def recorded_inputs(pipeline: str) -> np.ndarray:
    """What the recorded run was asked (`inputs.npy`)."""
    return np.load(RECORDED / pipeline / "inputs.npy", allow_pickle=True)


def recorded_answers(pipeline: str) -> dict[str, np.ndarray]:
    """What the recorded run answered (`answers.npz`)."""
    return dict(np.load(RECORDED / pipeline / "answers.npz"))


@contextlib.contextmanager
def running(app, state: ServingState | None = None) -> Iterator[str]:
    """`app` served by uvicorn on 127.0.0.1 at a free port, in a thread; yields its base URL, then stops it.

    `state` is the served app's `ServingState`: by default `app.state.serving` (an app of `create_app`).
    """
    listening = bound_socket("127.0.0.1", 0)
    server = DrainingServer(
        uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off"), state or app.state.serving
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listening]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{listening.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def serving(models: ServedModels, **options) -> contextlib.AbstractContextManager[str]:
    """A real server of `models` with `ServingOptions(**options)`; see `running`."""
    return running(create_app(models, ServingOptions(**options)))
