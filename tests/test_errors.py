"""The error classes of a user's mistake: what each is caught as, and how its message reads."""

from __future__ import annotations

import warnings

import pytest

from toolkit.errors import InputError, InputTypeError, Notice, TrainingDivergedError, UnknownPipelineError
from toolkit.registry import get_pipeline


def test_an_unknown_pipeline_is_caught_as_a_key_error_and_as_a_users_mistake_with_its_message_unquoted():
    for caught_as in (KeyError, InputError, ValueError):
        with pytest.raises(caught_as) as raised:
            get_pipeline("no_such_pipeline")
        assert str(raised.value).startswith("Unknown pipeline 'no_such_pipeline'. Known pipelines: ")
        assert "stock" in str(raised.value) and "sentiment" in str(raised.value)
    # A plain KeyError would quote its message: str(KeyError("a b")) is "'a b'".
    assert str(KeyError("a b")) == "'a b'"
    assert str(UnknownPipelineError("a b")) == "a b"


def test_each_error_is_caught_as_what_it_documents_and_not_as_the_other_kind():
    assert issubclass(InputError, ValueError) and not issubclass(InputError, TypeError)
    assert issubclass(InputTypeError, TypeError) and not issubclass(InputTypeError, InputError)
    assert issubclass(TrainingDivergedError, InputError)
    with pytest.raises(InputError, match="lower the learning rate"):
        raise TrainingDivergedError("The loss became nan; lower the learning rate.")


def test_a_notice_is_a_user_warning_that_filters_and_pytest_see():
    assert issubclass(Notice, UserWarning)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warnings.warn("an empty config file", Notice)
    assert [(w.category, str(w.message)) for w in caught] == [(Notice, "an empty config file")]
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # a filter on UserWarning turns a Notice into an error too
        with pytest.raises(Notice, match="an empty config file"):
            warnings.warn("an empty config file", Notice)
