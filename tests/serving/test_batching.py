"""Batching with a fake signature: concurrent requests merged up to max_batch, each answered its own rows or error."""

from __future__ import annotations

import asyncio
import threading

import numpy as np
import pytest

from toolkit.serving.batching import Batcher
from toolkit.serving.errors import RequestError

# Long enough that every request of a test has arrived before its batch is called; no test waits it out
# unless it says so, as a batch that reaches max_batch is called at once.
PATIENT = 5.0


class FakeSignature:
    """Doubles its input and records the rows of each call; refuses a row of -1 as a graph check would."""

    def __init__(self):
        self.calls: list[int] = []
        self.lock = threading.Lock()

    def __call__(self, inputs):
        with self.lock:
            self.calls.append(len(inputs["x"]))
        if (inputs["x"] == -1).any():
            raise RequestError(f"x: -1 at rows {np.flatnonzero(inputs['x'] == -1).tolist()}")
        return {"y": inputs["x"] * 2, "row": np.arange(len(inputs["x"]))}


def submit_all(batcher: Batcher, requests: list[np.ndarray]) -> list:
    async def all_of_them():
        return await asyncio.gather(
            *(batcher.submit({"x": x}, len(x)) for x in requests), return_exceptions=True
        )

    return asyncio.run(all_of_them())


def test_concurrent_requests_are_one_call_and_each_gets_its_own_rows():
    signature = FakeSignature()
    requests = [np.array([1.0, 2.0]), np.array([3.0]), np.array([4.0, 5.0, 6.0])]
    answers = submit_all(Batcher(signature, max_batch=6, timeout_s=PATIENT), requests)
    assert signature.calls == [6]
    for x, answer in zip(requests, answers):
        np.testing.assert_array_equal(answer["y"], x * 2)
    assert [answer["row"].tolist() for answer in answers] == [[0, 1], [2], [3, 4, 5]]


def test_a_batch_holds_at_most_max_batch_rows_in_arrival_order():
    signature = FakeSignature()
    requests = [np.full(2, float(index)) for index in range(5)]
    answers = submit_all(Batcher(signature, max_batch=4, timeout_s=0.05), requests)
    assert signature.calls == [4, 4, 2]
    assert [answer["y"].tolist() for answer in answers] == [[2 * i, 2 * i] for i in range(5)]


def test_a_request_alone_is_called_once_its_timeout_is_over():
    signature = FakeSignature()
    (answer,) = submit_all(Batcher(signature, max_batch=64, timeout_s=0.01), [np.array([7.0])])
    assert signature.calls == [1] and answer["y"].tolist() == [14.0]


def test_a_request_of_more_rows_than_max_batch_is_called_alone():
    signature = FakeSignature()
    answers = submit_all(Batcher(signature, max_batch=2, timeout_s=0.05), [np.arange(5.0), np.array([1.0])])
    assert signature.calls == [5, 1]
    assert answers[0]["y"].tolist() == [0, 2, 4, 6, 8]


def test_requests_whose_inputs_cannot_be_concatenated_are_not_merged():
    signature = FakeSignature()
    answers = submit_all(Batcher(signature, max_batch=4, timeout_s=0.05), [np.ones(2), np.ones((1, 3)), np.ones(2)])
    assert sorted(signature.calls) == [1, 4]
    assert answers[1]["y"].shape == (1, 3)


def test_when_a_merged_call_is_refused_each_request_gets_its_own_answer_or_its_own_error():
    signature = FakeSignature()
    requests = [np.array([1.0, 2.0]), np.array([3.0, -1.0]), np.array([4.0])]
    answers = submit_all(Batcher(signature, max_batch=5, timeout_s=PATIENT), requests)
    assert signature.calls == [5, 2, 2, 1]
    assert answers[0]["y"].tolist() == [2.0, 4.0] and answers[2]["y"].tolist() == [8.0]
    assert isinstance(answers[1], RequestError)
    assert str(answers[1]) == "x: -1 at rows [1]", "its rows numbered as the request sent them"


def test_every_call_is_reported_with_its_rows():
    reported = []
    submit_all(Batcher(FakeSignature(), max_batch=3, timeout_s=PATIENT, on_call=reported.append), [np.ones(1)] * 3)
    assert reported == [3]


def test_a_request_whose_client_went_away_is_left_out_of_the_next_batch():
    signature = FakeSignature()
    batcher = Batcher(signature, max_batch=3, timeout_s=0.2)

    async def one_leaves():
        leaving = asyncio.ensure_future(batcher.submit({"x": np.ones(1)}, 1))
        staying = asyncio.ensure_future(batcher.submit({"x": np.full(1, 3.0)}, 1))
        await asyncio.sleep(0.01)
        leaving.cancel()
        return await staying

    assert asyncio.run(one_leaves())["y"].tolist() == [6.0]
    assert signature.calls == [1]


def test_a_batcher_serves_again_on_a_new_event_loop():
    signature = FakeSignature()
    batcher = Batcher(signature, max_batch=2, timeout_s=PATIENT)
    for _ in range(2):
        assert [a["y"].tolist() for a in submit_all(batcher, [np.ones(1), np.ones(1)])] == [[2.0], [2.0]]
    assert signature.calls == [2, 2]


@pytest.mark.parametrize("max_batch", [1, 3])
def test_max_batch_one_calls_each_request_alone(max_batch):
    signature = FakeSignature()
    submit_all(Batcher(signature, max_batch=max_batch, timeout_s=PATIENT), [np.ones(1)] * 3)
    assert signature.calls == ([1, 1, 1] if max_batch == 1 else [3])
