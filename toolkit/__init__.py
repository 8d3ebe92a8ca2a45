"""toolkit: a Keras 3 / TensorFlow toolkit for applied sequence modeling.

`toolkit.run(name, config=None, overrides=None)` trains, evaluates and exports
a pipeline; `toolkit.load(run_dir)` restores a trained run; `toolkit.tune(name,
config)` searches a pipeline's hyperparameters (`toolkit.tuning`); `toolkit.serve(runs)`
serves runs over TensorFlow Serving's REST API (`toolkit.serving`). Importing
`toolkit` registers every custom Keras object, so that
`keras.saving.load_model` opens a run's `model.keras`; the pipelines
themselves, and the libraries that only training and evaluation need, are
imported when first used.
"""

from __future__ import annotations

import importlib
import importlib.metadata

from toolkit import layers, models, preprocessing
from toolkit.registry import pipeline_names, register_pipeline

try:
    __version__ = importlib.metadata.version("toolkit")
except importlib.metadata.PackageNotFoundError:  # a checkout that was never installed
    __version__ = "0+unknown"

# Public names imported on first use: training, evaluation and serving pull in far more than loading a model needs.
_LAZY = {
    "RunResult": "toolkit.api",
    "load": "toolkit.api",
    "run": "toolkit.api",
    "TrainedRun": "toolkit.trained_run",
    # A hyperparameter search: Optuna is imported only when it is asked for.
    "tune": "toolkit.tuning.search",
    "TuneResult": "toolkit.tuning.search",
    # Serving: the web stack (Starlette, uvicorn) is imported only when it is asked for.
    "serve": "toolkit.serving",
    "serving_app": "toolkit.serving",
}

__all__ = [
    "RunResult", "TrainedRun", "TuneResult", "layers", "load", "models", "pipeline_names", "preprocessing",
    "register_pipeline", "run", "serve", "serving_app", "tune",
]


def __getattr__(name: str) -> object:
    """Imports a public name of `_LAZY` on first use (PEP 562), then keeps it in the module."""
    if name not in _LAZY:
        raise AttributeError(f"module 'toolkit' has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})
