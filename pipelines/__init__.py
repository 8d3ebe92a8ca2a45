"""The built-in task pipelines; importing this package registers each of them by name."""

from toolkit.pipelines import captioning, image_classification, sentiment, stock, text_generation
from toolkit.pipelines.base import Pipeline, WalkForwardEvaluation

__all__ = ["Pipeline", "WalkForwardEvaluation", "captioning", "image_classification", "sentiment", "stock", "text_generation"]
