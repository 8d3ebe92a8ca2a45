"""What a run is doing, said as it goes: one line when a long step starts, and one with its time when it ends.

The lines go to the `toolkit` logger. A library stays quiet unless asked
(Python's logging shows nothing of it by default); the `toolkit` command
prints them to standard error as `toolkit: ...`, so that a long run is never
silent between Keras' progress bars. In Python, `logging.basicConfig(level=logging.INFO)`
shows them.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterator

LOGGER = logging.getLogger("toolkit")


@contextlib.contextmanager
def step(what: str) -> Iterator[None]:
    """Says `what` is starting, then that it is done and how long it took (or that it failed)."""
    LOGGER.info("%s ...", what)
    started = time.perf_counter()
    try:
        yield
    except BaseException:
        LOGGER.info("%s: stopped after %.1f s", what, time.perf_counter() - started)
        raise
    LOGGER.info("%s: done in %.1f s", what, time.perf_counter() - started)
