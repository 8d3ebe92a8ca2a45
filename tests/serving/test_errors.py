"""What a request can get wrong: each a user's mistake, with the HTTP status TensorFlow Serving gives it."""

from __future__ import annotations

import pytest

from toolkit.errors import InputError
from toolkit.serving.errors import BodyTooLargeError, NotFoundError, RequestError


@pytest.mark.parametrize(("error", "status"), [(RequestError, 400), (NotFoundError, 404), (BodyTooLargeError, 413)])
def test_each_is_a_users_mistake_with_its_status(error, status):
    raised = error("the message")
    assert isinstance(raised, InputError) and isinstance(raised, RequestError)
    assert raised.status == status and str(raised) == "the message"
