"""Which model files each kind of task exports, and the refusal of a task toolkit has no numeric core for."""

from __future__ import annotations

import keras
import pytest
import tensorflow as tf

from toolkit.errors import ExportRefusedError
from toolkit.export.task_cores import task_cores, task_kind
from toolkit.models.task import TaskModel


@pytest.mark.parametrize(
    ("name", "kind", "files"),
    [
        ("sentiment", "text_classifier", ["model"]),
        ("stock", "price_forecaster", ["model"]),
        ("image_classification", "image_classifier", ["model"]),
        ("captioning", "captioner", ["encoder", "step"]),
        ("text_generation", "text_generator", ["step"]),
    ],
)
def test_each_pipelines_task_exports_its_numeric_cores(name, kind, files, recorded_models):
    model = recorded_models[name]
    assert task_kind(model) == kind
    assert [core.name for core in task_cores(model)] == files


class Rescaler(TaskModel):
    def raw_input_spec(self):
        return tf.TensorSpec([None, 2], tf.float32, name="values")


def test_a_task_of_another_class_is_refused_naming_it_and_what_is_known():
    model = Rescaler(keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)]))
    with pytest.raises(ExportRefusedError) as refused:
        task_cores(model)
    assert str(refused.value) == (
        "a Rescaler task has no portable export: toolkit knows the numeric core (what its model files compute) of "
        "TextClassifier, ImageClassifier, PriceForecaster, Captioner, TextGenerator alone. Serve its SavedModel "
        "(serving/) instead."
    )
