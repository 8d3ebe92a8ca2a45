"""Progress lines: a long step says when it starts and when it is done (with its time), or that it stopped, on the toolkit logger."""

from __future__ import annotations

import logging
import re

import pytest

from toolkit import progress


def messages(caplog) -> list[str]:
    return [record.getMessage() for record in caplog.records if record.name == "toolkit"]


def test_a_step_says_it_starts_and_is_done_with_its_time(caplog):
    caplog.set_level(logging.INFO, logger="toolkit")
    with progress.step("stock: training"):
        pass
    started, done = messages(caplog)
    assert started == "stock: training ..."
    assert re.fullmatch(r"stock: training: done in \d+\.\d s", done)
    assert all(record.levelno == logging.INFO for record in caplog.records)


@pytest.mark.parametrize("error", [ValueError("bad data"), KeyboardInterrupt()])
def test_a_step_that_fails_or_is_interrupted_says_it_stopped_and_lets_the_error_through(caplog, error):
    caplog.set_level(logging.INFO, logger="toolkit")
    with pytest.raises(type(error)), progress.step("sentiment: evaluating"):
        raise error
    assert messages(caplog)[0] == "sentiment: evaluating ..."
    assert re.fullmatch(r"sentiment: evaluating: stopped after \d+\.\d s", messages(caplog)[1])
    assert not any("done" in message for message in messages(caplog))


def test_nothing_is_shown_unless_asked(caplog):
    caplog.set_level(logging.WARNING, logger="toolkit")
    with progress.step("quiet"):
        pass
    assert messages(caplog) == []
    assert progress.LOGGER.name == "toolkit"
