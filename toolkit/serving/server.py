"""Serving runs over HTTP with uvicorn: `toolkit.serve(...)` and `toolkit serve`, stopping cleanly.

On Ctrl-C or SIGTERM the server stops taking requests (new ones get 503,
and `/healthz` turns 503 for load balancers), answers the requests it has,
then exits. A second Ctrl-C exits at once.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import uvicorn

from toolkit.errors import InputError
from toolkit.serving.app import ServingOptions, ServingState, create_app
from toolkit.serving.models import ServedModels, load_models

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8501
# The longest a stopping server waits for the requests it has before it exits anyway.
DRAIN_SECONDS = 30.0


def serve(
    runs: Sequence[str | Path] = (),
    models: dict[str, Sequence[str | Path]] | None = None,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    announce: Callable[[str], None] = lambda line: print(line, flush=True),
    **options,
) -> None:
    """Serves runs over TensorFlow Serving's REST API until Ctrl-C or SIGTERM; blocks, as `uvicorn.run` does.

    Args:
        runs: Run directories, each served as version 1 of a model named after its folder.
        models: Model names, each with its runs, served as versions 1, 2, ... (the highest by default).
        host: The address to listen on; only this machine by default.
        port: The port; 0 for any free one (the URLs printed say which).
        announce: Told each line saying what is served where, once the server listens.
        **options: `ServingOptions`' fields: `max_request_mb`, `max_generate_length`, `max_batch`, `batch_timeout_ms`.

    Raises:
        InputError: For a run that cannot be served, an option out of range, or an address it cannot listen on.
    """
    # Options out of range and a port taken are named before minutes of loading.
    settings = ServingOptions(**options)
    listening = bound_socket(host, port)
    served = load_models(runs, models)
    app = create_app(served, settings)
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off", timeout_graceful_shutdown=5)
    server = DrainingServer(config, app.state.serving, lambda: _announce(served, host, listening, announce))
    server.run(sockets=[listening])


class DrainingServer(uvicorn.Server):
    """A uvicorn server that, told to stop, first answers what it has and refuses what comes (see `ServingState`).

    Args:
        config: uvicorn's settings.
        state: The app's `ServingState`.
        started: Called once the server accepts connections.
    """

    def __init__(self, config: uvicorn.Config, state: ServingState, started: Callable[[], None] = lambda: None):
        super().__init__(config)
        self.state = state
        self.started_callback = started
        self.drain_started: float | None = None

    async def startup(self, sockets=None) -> None:
        await super().startup(sockets)
        if self.started:
            self.started_callback()

    def handle_exit(self, sig, frame) -> None:
        # Not uvicorn's: it would raise the signal again once stopped, and a clean stop would end as killed.
        if self.state.draining:
            self.force_exit = self.should_exit = True
            return
        self.state.draining = True
        self.drain_started = time.monotonic()

    async def on_tick(self, counter: int) -> bool:
        if self.state.draining and not self.should_exit:
            drained = self.state.in_flight == 0 or time.monotonic() - self.drain_started > DRAIN_SECONDS
            self.should_exit = drained
        return await super().on_tick(counter)


def bound_socket(host: str, port: int) -> socket.socket:
    """A socket bound to `host:port`, so that a port taken is named at once; the server listens on it once started.

    Raises:
        InputError: If the address cannot be used (a port out of range or taken, a host not of this machine).
    """
    if not 0 <= port <= 65535:
        raise InputError(f"--port {port}: expected a port from 0 (any free one) to 65535.")
    try:
        family, kind, protocol, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        bound = socket.socket(family, kind, protocol)
        bound.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        bound.bind(address)
    except OSError as error:
        raise InputError(f"--host {host} --port {port}: cannot listen there ({error.strerror or error}).") from None
    return bound


def _announce(models: ServedModels, host: str, listening: socket.socket, announce: Callable[[str], None]) -> None:
    port = listening.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    root = f"http://{shown}:{port}"
    for name, model in models.items():
        versions = ", ".join(f"{number} ({version.run_dir})" for number, version in sorted(model.versions.items()))
        announce(f"{name}: {root}/v1/models/{name}  version{'s' if len(model.versions) > 1 else ''} {versions}")
    announce(f"The page: {root}/  Health: {root}/healthz  Metrics: {root}/metrics")
    announce("Ctrl-C or SIGTERM stops the server once the requests it has are answered.")
