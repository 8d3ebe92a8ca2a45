"""toolkit: a Keras 3 / TensorFlow toolkit for applied sequence modeling.

`toolkit.run(name, config=None, overrides=None)` trains, evaluates and exports a
pipeline; `toolkit.load(run_dir)` restores a trained task.
"""

from toolkit import layers
from toolkit.api import RunResult, load, run
from toolkit.registry import pipeline_names

__version__ = "0.1.0"

__all__ = ["RunResult", "layers", "load", "pipeline_names", "run"]
