"""The ASGI app: TensorFlow Serving's REST API for the loaded runs, health, metrics and a page for people.

Routes:

- `GET /v1/models/NAME[/versions/N]`: the model's status (every version, or N's).
- `GET /v1/models/NAME[/versions/N]/metadata`: its signatures (the latest version, or N).
- `POST /v1/models/NAME[/versions/N]:predict`: a prediction (see `toolkit.serving.tensor_json`).
- `GET /healthz`: 200 while serving, 503 once stopping.
- `GET /metrics`: Prometheus' text format (see `toolkit.serving.metrics`).
- `GET /` and `GET /models/NAME`: the page (see `toolkit.serving.page`).

Every error is `{"error": message}` with TensorFlow Serving's status: 400
for a bad request, 404 for a model or version not served, 413 for a body
over the limit, 503 once the server is stopping. Other paths under `/v1/`
are 400, `Malformed request`, as TensorFlow Serving answers them.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from toolkit.errors import InputError
from toolkit.serving import page
from toolkit.serving.batching import Batcher
from toolkit.serving.errors import BodyTooLargeError, RequestError
from toolkit.serving.json_values import InputSpec
from toolkit.serving.metrics import ServingMetrics
from toolkit.serving.models import DEFAULT_SIGNATURE, ModelVersion, ServedModels, Signature, load_models
from toolkit.serving.tensor_json import (
    PredictRequest,
    dumps,
    parse_json,
    parse_predict_request,
    predict_answer,
)

LOGGER = logging.getLogger("toolkit.serving")
# The signature input a generation's length is given in; --max-generate-length bounds it.
GENERATE_LENGTH = "length"
_VERSION = r"(?:/versions/(\d+)|/labels/([^/:]+))?"
_PREDICT = re.compile(rf"/v1/models/([^/:]+){_VERSION}:(classify|regress|predict)", re.IGNORECASE)
_STATUS = re.compile(rf"/v1/models(?:/([^/:]+))?{_VERSION}(/metadata)?", re.IGNORECASE)
# A request alone on an idle server, to a model that typically answers within this, is answered on the event
# loop's own thread: handing it to a worker thread costs a tenth of a millisecond, and the loop is blocked no longer.
INLINE_SECONDS = 0.005
_INT64_MAX = 2**63 - 1
_ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]


@dataclass(frozen=True)
class ServingOptions:
    """How a server treats requests.

    Attributes:
        max_request_mb: The largest request body taken, in megabytes; larger ones get 413.
        max_generate_length: The most characters one text generation request may ask for
            (its `length`), `None` for the model's own bound only.
        max_batch: Merge concurrent requests to one model into calls of up to this many rows;
            `None` calls each request alone.
        batch_timeout_ms: The longest a request waits for others to join its batch.
    """

    max_request_mb: float = 16.0
    max_generate_length: int | None = None
    max_batch: int | None = None
    batch_timeout_ms: float = 2.0

    def __post_init__(self):
        if not self.max_request_mb > 0:
            raise InputError(f"--max-request-mb: expected a positive number of megabytes, got {self.max_request_mb}.")
        if self.max_generate_length is not None and self.max_generate_length < 0:
            raise InputError(f"--max-generate-length: expected 0 or more characters, got {self.max_generate_length}.")
        if self.max_batch is not None and self.max_batch < 1:
            raise InputError(f"--max-batch: expected 1 or more rows, got {self.max_batch}.")
        if not self.batch_timeout_ms >= 0:
            raise InputError(f"--batch-timeout-ms: expected 0 or more milliseconds, got {self.batch_timeout_ms}.")


@dataclass
class ServingState:
    """What a server that stops needs to know: whether it is stopping, and how many requests are being answered."""

    draining: bool = False
    in_flight: int = 0


def serving_app(
    runs: Sequence[str | Path] = (), models: dict[str, Sequence[str | Path]] | None = None, **options
) -> Starlette:
    """Loads runs and returns the ASGI app that serves them, to run with any ASGI server or mount in an application.

    Args:
        runs: Run directories, each served as version 1 of a model named after its folder.
        models: Model names, each with its runs, served as versions 1, 2, ...
        **options: `ServingOptions`' fields, such as `max_batch=32`.

    Raises:
        InputError: For a path that is not a finished run, a run whose models
            were removed, a SavedModel that cannot be loaded, or an option out of range.
    """
    settings = ServingOptions(**options)  # an option out of range is named before minutes of loading
    return create_app(load_models(runs, models), settings)


def create_app(models: ServedModels, options: ServingOptions | None = None) -> Starlette:
    """The ASGI app serving loaded `models`; its `state.serving` is the `ServingState` a stopping server drains."""
    api = _RestApi(models, options or ServingOptions())
    routes = [
        Route("/v1/{path:path}", api.v1, methods=_ALL_METHODS),
        Route("/healthz", api.health),
        Route("/metrics", api.metrics_text),
        *page.routes(models),
    ]
    app = Starlette(routes=routes)
    app.state.serving = api.state
    app.add_middleware(_Gate, state=api.state)
    return app


class _RestApi:
    """TensorFlow Serving's REST API over the loaded models."""

    def __init__(self, models: ServedModels, options: ServingOptions):
        self.models = models
        self.options = options
        self.state = ServingState()
        self.metrics = ServingMetrics()
        self.max_body = int(options.max_request_mb * 1024 * 1024)
        self.specs = {
            (version.model, version.version, key): {name: self._bounded(spec) for name, spec in signature.inputs.items()}
            for model in models.values()
            for version in model.versions.values()
            for key, signature in version.signatures.items()
        }
        # Each version's typical time to answer a request alone (a moving average), for the choice of thread.
        self.typical_seconds: dict[tuple[str, int], float] = {}
        self.batchers = {}
        if options.max_batch is not None:
            for model in models.values():
                for version in model.versions.values():
                    most = min(options.max_batch, version.limits.get("max_batch") or options.max_batch)
                    for key, signature in version.signatures.items():
                        if signature.batched:
                            self.batchers[(model.name, version.version, key)] = Batcher(
                                signature, most, options.batch_timeout_ms / 1000,
                                on_call=lambda rows, name=model.name: self.metrics.observe_call(name, rows),
                            )

    def _bounded(self, spec: InputSpec) -> InputSpec:
        if spec.name == GENERATE_LENGTH and spec.is_scalar and spec.dtype.startswith("int"):
            return replace(spec, most=self.options.max_generate_length, most_reason="--max-generate-length")
        return spec

    async def v1(self, request: Request) -> Response:
        started = time.perf_counter()
        # What the request is about, for the metrics: set as soon as the path says, kept whatever happens next.
        about = {"model": "", "api": "malformed"}
        status = 500
        try:
            response = await self._route(request, about)
            status = response.status_code
            return response
        except InputError as error:
            status = error.status if isinstance(error, RequestError) else 400
            return _error(status, str(error))
        except Exception as error:  # a bug: logged, and answered as TensorFlow Serving answers an internal error
            LOGGER.exception("toolkit serve: %s %s failed", request.method, request.scope["path"])
            # The details stay in the server's log: they may name the server's files or its code.
            return _error(500, "internal error: the server failed to answer this request; its log says why")
        finally:
            model = about["model"] if about["model"] in self.models else ""
            self.metrics.observe_request(model, about["api"], status, time.perf_counter() - started)

    async def _route(self, request: Request, about: dict) -> Response:
        # The path within the app: a mounted app's scope["path"] also holds the prefix it is mounted at.
        path, method = "/v1/" + request.path_params["path"], request.method
        predict = _PREDICT.fullmatch(path)
        if method == "POST" and predict:
            name, version, label, verb = predict.groups()
            about.update(model=name, api="predict")
            if verb.lower() != "predict":
                raise RequestError(f"{verb}: this server answers :predict; its models' signatures are predict signatures")
            return await self._predict(request, self.models.find(name, _version(version, label)))
        status = _STATUS.fullmatch(path)
        if method == "GET" and status:
            name, version, label, metadata = status.groups()
            about.update(model=name or "", api="metadata" if metadata else "status")
            if not name:
                raise RequestError("Missing model name in request.")
            number = _version(version, label)
            if metadata:
                return JSONResponse(_metadata(self.models.find(name, number)))
            return JSONResponse(self._status(name, number))
        raise RequestError(f"Malformed request: {method} {path}")

    def _status(self, name: str, number: int | None) -> dict:
        if number is None:
            model = self.models[self.models.find(name).model]
            versions = [model.versions[n] for n in sorted(model.versions)]
        else:
            versions = [self.models.find(name, number)]
        available = {"state": "AVAILABLE", "status": {"error_code": "OK", "error_message": ""}}
        return {"model_version_status": [{"version": str(version.version), **available} for version in versions]}

    async def _predict(self, request: Request, version: ModelVersion) -> Response:
        body = await _body(request, self.max_body)
        if not any(key[:2] == (version.model, version.version) for key in self.batchers):
            typical = self.typical_seconds.get((version.model, version.version))
            if self.state.in_flight == 1 and typical is not None and typical <= INLINE_SECONDS:
                # Nothing else to answer, and a short call: a worker thread would only add its hand-over.
                return _json(self._answer_alone(version, body))
            # One trip to a worker thread for the whole request: the least a call alone can wait.
            return _json(await run_in_threadpool(self._answer_alone, version, body))
        parsed = await run_in_threadpool(self._parse, version, body)
        batcher = self.batchers.get((version.model, version.version, parsed.signature_name))
        if batcher is None or parsed.rows is None:
            signature = version.signatures[parsed.signature_name]
            return _json(await run_in_threadpool(self._called, version.model, signature, parsed))
        outputs = await batcher.submit(parsed.inputs, parsed.rows)
        return _json(dumps(predict_answer(outputs, parsed.layout)))

    def _parse(self, version: ModelVersion, body: bytes) -> PredictRequest:
        specs = {key: self.specs[(version.model, version.version, key)] for key in version.signatures}
        return parse_predict_request(parse_json(body), specs, DEFAULT_SIGNATURE)

    def _answer_alone(self, version: ModelVersion, body: bytes) -> bytes:
        started = time.perf_counter()
        parsed = self._parse(version, body)
        answer = self._called(version.model, version.signatures[parsed.signature_name], parsed)
        key = (version.model, version.version)
        seconds = time.perf_counter() - started
        earlier = self.typical_seconds.get(key, seconds)
        self.typical_seconds[key] = 0.9 * earlier + 0.1 * seconds
        return answer

    def _called(self, model: str, signature: Signature, parsed: PredictRequest) -> bytes:
        self.metrics.observe_call(model, parsed.rows or 1)
        return dumps(predict_answer(signature(parsed.inputs), parsed.layout))

    async def health(self, request: Request) -> Response:
        versions = {name: sorted(model.versions) for name, model in self.models.items()}
        return JSONResponse({"status": "serving", "models": versions})

    async def metrics_text(self, request: Request) -> Response:
        text, content_type = self.metrics.exposition()
        return Response(text, headers={"Content-Type": content_type})


class _Gate:
    """ASGI middleware: counts the requests being answered, and answers 503 to new ones once the server is stopping."""

    def __init__(self, app, state: ServingState):
        self.app = app
        self.state = state

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.state.draining:
            response = _error(503, "the server is stopping: it answers the requests it has, and takes no new ones")
            response.headers["Connection"] = "close"
            await response(scope, receive, send)
            return
        self.state.in_flight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.state.in_flight -= 1


async def _body(request: Request, limit: int) -> bytes:
    """The request body, refused as soon as it is known to be over `limit` bytes (from its header, or while read)."""
    declared = request.headers.get("content-length", "")
    too_large = BodyTooLargeError(
        f"the request body is over {limit / 1024 / 1024:g} MB, the most this server takes (--max-request-mb)"
    )
    if declared.isdigit() and int(declared) > limit:
        raise too_large
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)


def _version(version: str | None, label: str | None) -> int | None:
    if label is not None:
        raise RequestError(f"Unrecognized servable version label: {label}; this server's versions have no labels")
    if version is None:
        return None
    if int(version) > _INT64_MAX:
        raise RequestError(f"Failed to convert version: {version} to numeric.")
    return int(version)


def _metadata(version: ModelVersion) -> dict:
    return {
        "model_spec": {"name": version.model, "signature_name": "", "version": str(version.version)},
        "metadata": {"signature_def": {"signature_def": version.signature_defs}},
    }


def _json(body: bytes) -> Response:
    return Response(body, media_type="application/json")


def _error(status: int, message: str) -> Response:
    return Response(dumps({"error": message}), status_code=status, media_type="application/json")
