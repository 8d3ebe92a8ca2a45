"""Pipelines are found by name; an unknown name lists the known ones."""

from __future__ import annotations

import pytest

from toolkit.registry import get_pipeline, pipeline_names, register_pipeline


def test_sentiment_is_registered():
    assert "sentiment" in pipeline_names()
    assert get_pipeline("sentiment").name == "sentiment"


def test_unknown_name_lists_the_known_pipelines():
    with pytest.raises(KeyError, match="Unknown pipeline 'sentimnet'. Known pipelines: .*sentiment"):
        get_pipeline("sentimnet")


def test_a_second_pipeline_of_the_same_name_is_refused():
    existing = type(get_pipeline("sentiment"))
    impostor = type("Impostor", (), {"name": "sentiment", "__module__": "my_package.pipelines"})
    with pytest.raises(ValueError, match="A pipeline named 'sentiment' is already registered by pipelines.sentiment"):
        register_pipeline(impostor)
    assert register_pipeline(existing) is existing and type(get_pipeline("sentiment")) is existing
