"""Task models and the networks they are built from; importing this package registers them with Keras."""

from toolkit.models.captioner import Captioner, ShowAndTell
from toolkit.models.classifier import Classifier
from toolkit.models.forecaster import PriceForecaster
from toolkit.models.image_classifier import ImageClassifier
from toolkit.models.task import TaskModel
from toolkit.models.text_classifier import TextClassifier

__all__ = ["Captioner", "Classifier", "ImageClassifier", "PriceForecaster", "ShowAndTell", "TaskModel", "TextClassifier"]
