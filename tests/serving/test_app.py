"""TensorFlow Serving's REST API on a real server at 127.0.0.1: every endpoint for every pipeline, and every refusal.

One server per module serves the five recorded runs, and a model of two versions.
"""

from __future__ import annotations

import base64
import io
import json
import logging
import shutil

import httpx
import numpy as np
import pytest
from PIL import Image

from tests.serving.helpers import PIPELINES, recorded_answers, recorded_inputs, running, serving
from toolkit.errors import InputError
from toolkit.serving.app import ServingOptions, create_app
from toolkit.serving.models import ServedModels, load_models

pytestmark = pytest.mark.slow

AVAILABLE = {"version": "1", "state": "AVAILABLE", "status": {"error_code": "OK", "error_message": ""}}
MAX_REQUEST_MB = 1
MAX_GENERATE_LENGTH = 50


@pytest.fixture(scope="module")
def client(served_models, run_copies, tmp_path_factory):
    tuned = shutil.copytree(run_copies["sentiment"], tmp_path_factory.mktemp("versions") / "tuned")
    models = ServedModels({**served_models, **load_models(named={"reviews": [run_copies["sentiment"], tuned]})})
    with (
        serving(models, max_request_mb=MAX_REQUEST_MB, max_generate_length=MAX_GENERATE_LENGTH) as url,
        httpx.Client(base_url=url, timeout=60) as client,
    ):
        yield client


def predict(client: httpx.Client, model: str, body) -> httpx.Response:
    content = body if isinstance(body, (bytes, str)) else json.dumps(body)
    return client.post(f"/v1/models/{model}:predict", content=content, headers={"Content-Type": "application/json"})


def answered(response: httpx.Response) -> dict:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    return response.json()


def refusal(response: httpx.Response, status: int = 400) -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert list(body) == ["error"]
    return body["error"]


def raw_inputs(pipeline: str) -> list:
    inputs = recorded_inputs(pipeline)
    return [str(text) for text in inputs] if inputs.dtype.kind == "U" else inputs.tolist()


def assert_recorded(pipeline: str, rows: list[dict]) -> None:
    recorded = recorded_answers(pipeline)
    for name, expected in recorded.items():
        got = [row[name] for row in rows]
        if expected.dtype.kind == "U":
            assert got == expected.tolist(), name
        else:
            np.testing.assert_allclose(np.array(got, np.float32), expected, atol=1e-5, err_msg=name)


def png(pixels: np.ndarray) -> dict:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "PNG")
    return {"b64": base64.b64encode(buffer.getvalue()).decode()}


@pytest.mark.parametrize("pipeline", PIPELINES)
def test_status_of_every_model_and_version(client, pipeline):
    assert answered(client.get(f"/v1/models/{pipeline}")) == {"model_version_status": [AVAILABLE]}
    assert answered(client.get(f"/v1/models/{pipeline}/versions/1")) == {"model_version_status": [AVAILABLE]}


@pytest.mark.parametrize("pipeline", PIPELINES)
def test_metadata_gives_each_inputs_and_outputs_dtype_and_shape(client, pipeline):
    metadata = answered(client.get(f"/v1/models/{pipeline}/metadata"))
    assert metadata["model_spec"] == {"name": pipeline, "signature_name": "", "version": "1"}
    signature = metadata["metadata"]["signature_def"]["signature_def"]["serving_default"]
    assert signature["method_name"] == "tensorflow/serving/predict"
    for tensor in [*signature["inputs"].values(), *signature["outputs"].values()]:
        assert tensor["dtype"].startswith("DT_") and tensor["tensor_shape"]["unknown_rank"] is False
    answers = recorded_answers(pipeline)
    assert set(answers) <= set(signature["outputs"])
    batch = next(tensor for tensor in signature["inputs"].values() if tensor["tensor_shape"]["dim"])
    assert [int(dim["size"]) for dim in batch["tensor_shape"]["dim"]][1:] == list(recorded_inputs(pipeline).shape[1:])


@pytest.mark.parametrize("pipeline", PIPELINES)
def test_rows_and_columns_answer_what_the_run_answered(client, pipeline):
    rows = answered(predict(client, pipeline, {"instances": raw_inputs(pipeline)}))["predictions"]
    assert len(rows) == len(recorded_inputs(pipeline))
    assert_recorded(pipeline, rows if isinstance(rows[0], dict) else [{"text": row} for row in rows])

    columns = answered(predict(client, pipeline, {"signature_name": "serving_default", "inputs": raw_inputs(pipeline)}))
    outputs = columns["outputs"] if isinstance(columns["outputs"], dict) else {"text": columns["outputs"]}
    assert_recorded(pipeline, [{name: values[row] for name, values in outputs.items()} for row in range(len(rows))])


@pytest.mark.parametrize("pipeline", ["image_classification", "captioning"])
def test_an_uploaded_png_is_answered_as_its_pixels_are(client, pipeline):
    images = recorded_inputs(pipeline)
    rows = answered(predict(client, pipeline, {"instances": [png(image) for image in images]}))["predictions"]
    assert_recorded(pipeline, rows)


def test_the_docs_curl_example(client):
    (row,) = answered(predict(client, "sentiment", '{"instances": ["A moving, beautiful film."]}'))["predictions"]
    assert row["label"] in ("negative", "positive") and 0 <= row["probability"] <= 1
    assert len(row["probabilities"]) == 2


def test_text_generation_takes_its_settings_and_caps_the_length_at_once(client):
    settings = {"inputs": {"prompt": ["The"], "length": 7, "seed": 3}}
    (text,) = answered(predict(client, "text_generation", settings))["outputs"]
    assert len(text) == 7
    assert refusal(predict(client, "text_generation", {"inputs": {"prompt": ["The"], "length": 10**9}})) == (
        f"length: at most {MAX_GENERATE_LENGTH} (--max-generate-length); got 1000000000"
    )


@pytest.mark.parametrize(
    ("pipeline", "body", "message"),
    [
        ("sentiment", {"instances": ["fine", " \t "]},
         "text: a text needs at least one word; empty or blank texts at rows [1]"),
        ("sentiment", {"inputs": [["a nested text"]]}, "text: expected string inputs of shape [batch], got shape [1 1]"),
        ("image_classification", {"instances": [[[0] * 5] * 5]},
         "images: expected uint8 images of shape [batch, 28, 28] or [batch, 28, 28, 1], got shape [1 5 5]"),
        ("stock", {"instances": [[[-1.0, 1, 1, 1, 1]] * 11]},
         "windows: prices must be positive finite numbers and volumes finite and not negative; windows at fault [0]"),
        ("stock", {"instances": [[[1.0, 1, 1, 1, 1]] * 10]},
         "windows: expected float32 windows of shape [batch, 11, 5] (11 days of open, high, low, close, volume), got "
         "shape [1 10 5]"),
    ],
)
def test_the_graphs_own_checks_answer_400_with_their_own_words(client, pipeline, body, message):
    assert refusal(predict(client, pipeline, body)) == message


@pytest.mark.parametrize(
    ("model", "body", "message"),
    [
        ("sentiment", b"{\"instances\": [\"a\"", "JSON Parse error: Expecting ',' delimiter at offset: 18"),
        ("sentiment", b"", "JSON Parse error: The document is empty"),
        ("sentiment", {"instances": [5]}, "instances[0]: JSON Value: 5 Type: Number is not of expected type: string"),
        ("stock", b'{"instances": [[[NaN, 1, 1, 1, 1]]]}',
         "instances[0][0][0]: NaN is not a number a model can read; float32 inputs take finite numbers"),
        ("stock", {"instances": [[[1e39, 1, 1, 1, 1]]]},
         "instances[0][0][0]: Cannot convert JSON value: 1e+39 to float32 without loss of precision (the largest "
         "float32 is 3.4028235e+38)"),
        ("stock", {"instances": [[[1, 1, 1, 1, 1]] * 11, [[1, 1, 1, 1, 1]] * 10]},
         "instances[1]: Expecting shape [11,5] but got: [10,5]; every instance's value must have the same shape"),
        ("image_classification", {"instances": [[[300] * 28] * 28]},
         "instances[0][0][0]: 300 is out of the range of uint8 (0 to 255)"),
        ("image_classification", {"instances": [{"b64": base64.b64encode(b"not a png").decode()}]},
         "instances[0]: cannot be decoded as an image (Unknown image file format."),
    ],
)
def test_bad_requests_answer_400_naming_what_is_wrong(client, model, body, message):
    found = refusal(predict(client, model, body))
    assert found.startswith(message) if message.endswith("format.") else found == message  # the decoder's own list


def test_unknown_models_and_versions_answer_404(client):
    assert refusal(predict(client, "nonexistent_model", {"instances": ["x"]}), 404).startswith(
        "Servable not found for request: Latest(nonexistent_model); this server serves models sentiment, "
    )
    assert refusal(client.get("/v1/models/sentiment/versions/99"), 404) == (
        "Servable not found for request: Specific(sentiment, 99); this server serves versions 1"
    )
    assert refusal(client.post("/v1/models/sentiment/versions/99:predict", json={"instances": ["x"]}), 404)


def test_a_body_over_the_limit_answers_413_declared_or_streamed(client):
    too_large = b'{"instances": ["' + b"a" * (MAX_REQUEST_MB * 1024 * 1024) + b'"]}'
    message = refusal(predict(client, "sentiment", too_large), 413)
    assert message == f"the request body is over {MAX_REQUEST_MB} MB, the most this server takes (--max-request-mb)"

    def chunks():
        for start in range(0, len(too_large), 65536):
            yield too_large[start : start + 65536]

    streamed = client.post("/v1/models/sentiment:predict", content=chunks())
    assert "transfer-encoding" in streamed.request.headers and refusal(streamed, 413) == message


@pytest.mark.parametrize(
    ("method", "path", "message"),
    [
        ("GET", "/v1/foo", "Malformed request: GET /v1/foo"),
        ("POST", "/v1/models", "Malformed request: POST /v1/models"),
        ("GET", "/v1/models", "Missing model name in request."),
        ("GET", "/v1/models/sentiment:predict", "Malformed request: GET /v1/models/sentiment:predict"),
        ("POST", "/v1/models/sentiment/metadata", "Malformed request: POST /v1/models/sentiment/metadata"),
        ("POST", "/v1/models/sentiment/versions/HELLO:predict",
         "Malformed request: POST /v1/models/sentiment/versions/HELLO:predict"),
        ("POST", "/v1/models/sentiment/versions/18446744073709551615:predict",
         "Failed to convert version: 18446744073709551615 to numeric."),
        ("GET", "/v1/models/sentiment/labels/stable",
         "Unrecognized servable version label: stable; this server's versions have no labels"),
        ("POST", "/v1/models/sentiment:classify", "classify: this server answers :predict; its models' signatures are "
                                                  "predict signatures"),
    ],
)
def test_malformed_api_paths_answer_400_as_tensorflow_serving_does(client, method, path, message):
    assert refusal(client.request(method, path, json={"instances": ["x"]})) == message


def test_no_request_reads_a_file_or_loads_a_model_it_was_not_started_with(client, run_copies):
    outside = str(run_copies["sentiment"]).lstrip("/").replace("/", "%2F")
    assert refusal(client.post(f"/v1/models/{outside}:predict", json={"instances": ["x"]}))
    assert refusal(client.post("/v1/models/..%2F..%2Fsentiment:predict", json={"instances": ["x"]}))
    assert client.get("/models/sentiment/versions/1/plots/..%2F..%2Frun.json").status_code == 404
    assert client.get("/models/sentiment/versions/1/plots/%2Fetc%2Fpasswd").status_code == 404
    assert client.get("/static/..%2Fmodels.py").status_code == 404
    assert refusal(client.get("/v1/models/tuned"), 404)


def test_versions_of_one_model_answer_by_number_the_highest_by_default(client):
    statuses = answered(client.get("/v1/models/reviews"))["model_version_status"]
    assert [status["version"] for status in statuses] == ["1", "2"]
    assert answered(client.get("/v1/models/reviews/metadata"))["model_spec"]["version"] == "2"
    assert answered(client.get("/v1/models/reviews/versions/1/metadata"))["model_spec"]["version"] == "1"
    for version in (1, 2):
        asked = {"instances": raw_inputs("sentiment")}
        rows = answered(client.post(f"/v1/models/reviews/versions/{version}:predict", json=asked))
        assert_recorded("sentiment", rows["predictions"])
    assert refusal(client.get("/v1/models/reviews/versions/3"), 404)


def test_health_and_metrics(client):
    health = answered(client.get("/healthz"))
    assert health["status"] == "serving" and health["models"]["reviews"] == [1, 2]
    answered(predict(client, "stock", {"instances": raw_inputs("stock")}))
    refusal(predict(client, "stock", b"{"))
    refusal(predict(client, "no_such_model", {"instances": [1]}), 404)
    metrics = client.get("/metrics")
    assert metrics.status_code == 200 and metrics.headers["content-type"].startswith("text/plain; version=")
    text = metrics.text
    assert 'toolkit_serving_requests_total{api="predict",code="200",model="stock"}' in text
    assert 'toolkit_serving_errors_total{api="predict",code="400",model="stock"}' in text
    assert 'toolkit_serving_errors_total{api="predict",code="404",model=""}' in text
    assert 'toolkit_serving_request_latency_seconds_count{api="predict",model="stock"}' in text
    assert "no_such_model" not in text


def test_a_bug_answers_500_without_its_details_which_go_to_the_log(client, monkeypatch, caplog):
    def broken(*args):
        raise RuntimeError("details naming /srv/private/path")

    monkeypatch.setattr("toolkit.serving.app.predict_answer", broken)
    with caplog.at_level(logging.ERROR, logger="toolkit.serving"):
        message = refusal(predict(client, "stock", {"instances": raw_inputs("stock")}), 500)
    assert message == "internal error: the server failed to answer this request; its log says why"
    assert "RuntimeError: details naming /srv/private/path" in caplog.text


def test_options_out_of_range_are_named():
    with pytest.raises(InputError, match=r"--max-batch: expected 1 or more rows, got 0."):
        ServingOptions(max_batch=0)
    with pytest.raises(InputError, match=r"--max-request-mb: expected a positive number of megabytes, got -1."):
        ServingOptions(max_request_mb=-1)


def test_the_app_answers_the_same_mounted_in_a_fastapi_application(served_models):
    from fastapi import FastAPI

    served = create_app(served_models)
    application = FastAPI()
    application.mount("/serving", served)
    with (
        running(application, served.state.serving) as url,
        httpx.Client(base_url=f"{url}/serving", timeout=60) as mounted,
    ):
        rows = answered(predict(mounted, "sentiment", {"instances": raw_inputs("sentiment")}))["predictions"]
        assert_recorded("sentiment", rows)
        missing = refusal(mounted.get("/v1/models/nothing"), 404)
        assert missing.startswith("Servable not found for request: Latest(nothing)")
        page = mounted.get("/models/sentiment")
        assert page.status_code == 200 and '<script src="../static/page.js">' in page.text
        assert mounted.get("/static/page.js").status_code == 200, "the page's relative links hold under the mount"
