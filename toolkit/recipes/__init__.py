"""Recipes a task pipeline fills in: the `Pipeline` base, the classifier recipe and walk-forward evaluation.

A pipeline (in the top-level `pipelines` package, or a user's own module)
subclasses one of them and registers with `toolkit.register_pipeline`.
"""

from toolkit.recipes.classification import ClassifierPipeline
from toolkit.recipes.pipeline import Pipeline, WalkForwardEvaluation

__all__ = ["ClassifierPipeline", "Pipeline", "WalkForwardEvaluation"]
