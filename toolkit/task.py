"""Deprecated: `toolkit.task.Task` is `toolkit.TrainedRun` (module `toolkit.trained_run`) since toolkit 0.2; the alias goes in 0.3."""

from __future__ import annotations

import warnings


def __getattr__(name: str):
    if name != "Task":
        raise AttributeError(f"module 'toolkit.task' has no attribute {name!r}")
    warnings.warn(
        "toolkit.task.Task is now toolkit.TrainedRun (module toolkit.trained_run); the old name goes in toolkit 0.3.",
        DeprecationWarning, stacklevel=2,
    )
    from toolkit.trained_run import TrainedRun

    return TrainedRun
