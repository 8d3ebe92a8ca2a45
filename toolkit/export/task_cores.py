"""Which numeric cores a task model exports as, by its kind; a kind without any is refused, named."""

from __future__ import annotations

from toolkit.errors import ExportRefusedError
from toolkit.export.classifier_cores import image_classifier_core, text_classifier_core
from toolkit.export.decoder_cores import captioner_cores, text_generator_core
from toolkit.export.forecaster_core import forecaster_core
from toolkit.export.numeric_core import NumericCore
from toolkit.models.captioner import Captioner
from toolkit.models.forecaster import PriceForecaster
from toolkit.models.image_classifier import ImageClassifier
from toolkit.models.task import TaskModel
from toolkit.models.text_classifier import TextClassifier
from toolkit.models.text_generator import TextGenerator

# Each kind of task, by the name `spec.json` and `portable.py` know it by.
TASK_KINDS = {
    TextClassifier: "text_classifier",
    ImageClassifier: "image_classifier",
    PriceForecaster: "price_forecaster",
    Captioner: "captioner",
    TextGenerator: "text_generator",
}


def task_kind(model: TaskModel) -> str:
    """The kind of `model`, such as `"text_classifier"`.

    Raises:
        ExportRefusedError: For a task model of another class, which has no numeric core to export.
    """
    for cls, kind in TASK_KINDS.items():
        if isinstance(model, cls):
            return kind
    raise ExportRefusedError(
        f"a {type(model).__name__} task has no portable export: toolkit knows the numeric core (what its model files "
        f"compute) of {', '.join(cls.__name__ for cls in TASK_KINDS)} alone. Serve its SavedModel (serving/) instead."
    )


def task_cores(model: TaskModel) -> list[NumericCore]:
    """The model files of `model`'s export: one `model`, or a decoder's `encoder` and `step` (or `step` alone)."""
    kind = task_kind(model)
    if kind == "text_classifier":
        return [text_classifier_core(model)]
    if kind == "image_classifier":
        return [image_classifier_core(model)]
    if kind == "price_forecaster":
        return [forecaster_core(model)]
    if kind == "captioner":
        return captioner_cores(model)
    return [text_generator_core(model)]
