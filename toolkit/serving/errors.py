"""What a request can get wrong, each with the HTTP status TensorFlow Serving answers it with."""

from __future__ import annotations

from toolkit.errors import InputError


class RequestError(InputError):
    """A request that cannot be served as sent: answered with its `status` and `{"error": message}`.

    Attributes:
        status: The HTTP status: 400 for bad input, as TensorFlow Serving's `InvalidArgument`.
    """

    status = 400


class NotFoundError(RequestError):
    """A model or version this server does not serve (TensorFlow Serving's `NotFound`)."""

    status = 404


class BodyTooLargeError(RequestError):
    """A request body larger than the server takes (`--max-request-mb`)."""

    status = 413
