"""Pipelines are found by name, through their entry points; an unknown name lists the known ones."""

from __future__ import annotations

import importlib.metadata

import pytest

from toolkit.models.task import TaskModel
from toolkit.recipes.pipeline import Pipeline
from toolkit.registry import ENTRY_POINT_GROUP, UnknownPipelineError, get_pipeline, pipeline_names, register_pipeline

PIPELINES = ["captioning", "image_classification", "sentiment", "stock", "text_generation"]


def test_every_pipeline_is_known_by_name():
    assert pipeline_names() == PIPELINES


@pytest.mark.parametrize("name", PIPELINES)
def test_each_pipeline_is_declared_as_an_entry_point_and_found_by_name(name):
    (entry_point,) = [entry for entry in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP) if entry.name == name]
    pipeline = get_pipeline(name)
    assert isinstance(pipeline, Pipeline) and pipeline.name == name
    assert entry_point.load() is type(pipeline)
    assert issubclass(pipeline.task_class, TaskModel) and pipeline.config_class()


def test_unknown_name_lists_the_known_pipelines():
    with pytest.raises(KeyError, match="Unknown pipeline 'sentimnet'. Known pipelines: " + ", ".join(PIPELINES)):
        get_pipeline("sentimnet")


def test_a_second_pipeline_of_the_same_name_is_refused():
    existing = type(get_pipeline("sentiment"))
    impostor = type("Impostor", (), {"name": "sentiment", "__module__": "my_package.pipelines"})
    with pytest.raises(ValueError, match="A pipeline named 'sentiment' is already registered by pipelines.sentiment"):
        register_pipeline(impostor)
    assert register_pipeline(existing) is existing and type(get_pipeline("sentiment")) is existing


def test_an_entry_point_whose_pipeline_has_another_name_is_refused(monkeypatch):
    from toolkit import registry

    entry_point = importlib.metadata.EntryPoint("renamed", "pipelines.stock:StockPipeline", ENTRY_POINT_GROUP)
    monkeypatch.setattr(registry, "_entry_points", lambda: {"renamed": entry_point})
    with pytest.raises(UnknownPipelineError, match="loads a pipeline named 'stock'; an entry point's name must be"):
        get_pipeline("renamed")
