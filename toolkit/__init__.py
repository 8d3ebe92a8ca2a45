"""toolkit: a Keras 3 / TensorFlow toolkit for applied sequence modeling.

`toolkit.run(name, config=None, overrides=None)` trains, evaluates and exports
a pipeline; `toolkit.load(run_dir)` restores a trained task. Importing
`toolkit` registers every pipeline and every custom Keras object, so that
`keras.saving.load_model` opens a run's `model.keras`.
"""

from toolkit import layers, models, pipelines, preprocessing
from toolkit.api import RunResult, load, run
from toolkit.registry import pipeline_names, register_pipeline

__version__ = "0.1.0"

__all__ = ["RunResult", "layers", "load", "models", "pipeline_names", "pipelines", "preprocessing", "register_pipeline", "run"]
