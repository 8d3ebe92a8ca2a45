"""Task models, the networks they are built from, and their losses and metrics; importing this package registers them with Keras."""

from toolkit.models.captioner import Captioner, ShowAndTell
from toolkit.models.classifier import Classifier
from toolkit.models.forecaster import PriceForecaster
from toolkit.models.image_classifier import ImageClassifier
from toolkit.models.label_smoothing import SmoothedSparseCategoricalCrossentropy
from toolkit.models.task import TaskModel
from toolkit.models.text_classifier import TextClassifier
from toolkit.models.text_generator import CharLanguageModel, TextGenerator, bits_per_character

__all__ = [
    "Captioner",
    "CharLanguageModel",
    "Classifier",
    "ImageClassifier",
    "PriceForecaster",
    "ShowAndTell",
    "SmoothedSparseCategoricalCrossentropy",
    "TaskModel",
    "TextClassifier",
    "TextGenerator",
    "bits_per_character",
]
