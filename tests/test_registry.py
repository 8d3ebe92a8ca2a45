"""Pipelines are found by name; an unknown name lists the known ones."""

from __future__ import annotations

import pytest

from toolkit.registry import get_pipeline, pipeline_names


def test_sentiment_is_registered():
    assert "sentiment" in pipeline_names()
    assert get_pipeline("sentiment").name == "sentiment"


def test_unknown_name_lists_the_known_pipelines():
    with pytest.raises(KeyError, match="Unknown pipeline 'sentimnet'. Known pipelines: .*sentiment"):
        get_pipeline("sentimnet")
