"""The deprecated alias `toolkit.task.Task` (and `RunResult.task`): each warns and gives what replaced it."""

from __future__ import annotations

import pytest

import toolkit
from toolkit import task
from toolkit.api import RunResult


def test_task_warns_that_it_is_now_trained_run_and_is_that_class():
    with pytest.warns(DeprecationWarning, match=r"toolkit.task.Task is now toolkit.TrainedRun .*goes in toolkit 0.3"):
        alias = task.Task
    assert alias is toolkit.TrainedRun


def test_importing_the_name_warns_too():
    with pytest.warns(DeprecationWarning, match="toolkit.task.Task is now toolkit.TrainedRun"):
        from toolkit.task import Task
    assert Task is toolkit.TrainedRun


def test_any_other_name_is_an_attribute_error_naming_it():
    with pytest.raises(AttributeError, match="module 'toolkit.task' has no attribute 'Pipeline'"):
        task.Pipeline  # noqa: B018


def test_run_result_task_warns_and_is_the_trained_run():
    trained = object()
    result = RunResult(trained_run=trained, metrics={}, history={}, run_dir=None, seconds=0.0)
    with pytest.warns(DeprecationWarning, match=r"RunResult.task is now RunResult.trained_run"):
        assert result.task is trained
