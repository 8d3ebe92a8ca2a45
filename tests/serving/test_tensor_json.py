"""TensorFlow Serving's request and answer layouts: its documented bodies, rows and columns, settings, refusals."""

from __future__ import annotations

import numpy as np
import pytest

from toolkit.serving.errors import RequestError
from toolkit.serving.json_values import InputSpec
from toolkit.serving.tensor_json import (
    COLUMNS,
    ROWS,
    dumps,
    parse_json,
    parse_predict_request,
    predict_answer,
)

DEFAULT = "serving_default"
HALF_PLUS_TWO = {DEFAULT: {"x": InputSpec("x", "float32", None)}}
# The three named inputs of the REST API's own examples: a string, an int vector of 5, a 2x2 float matrix.
TAG_SIGNAL_SENSOR = {
    DEFAULT: {
        "tag": InputSpec("tag", "string", (None,)),
        "signal": InputSpec("signal", "int32", (None, 5)),
        "sensor": InputSpec("sensor", "float32", (None, 2, 2)),
    }
}
TEXTS = {DEFAULT: {"text": InputSpec("text", "string", None)}}
GENERATION = {
    DEFAULT: {
        "prompt": InputSpec("prompt", "string", None),
        "length": InputSpec("length", "int32", (), default=20, most=100, most_reason="--max-generate-length"),
        "temperature": InputSpec("temperature", "float32", (), default=0.8),
        "seed": InputSpec("seed", "int32", (), default=0),
    }
}


def read(body, signatures=TEXTS):
    return parse_predict_request(parse_json(body.encode() if isinstance(body, str) else body), signatures, DEFAULT)


def refused(body, signatures=TEXTS) -> str:
    with pytest.raises(RequestError) as raised:
        read(body, signatures)
    return str(raised.value)


def test_half_plus_two_as_the_rest_api_documents_it_in_rows_and_columns():
    request = read('{"instances": [1.0, 2.0, 5.0]}', HALF_PLUS_TWO)
    assert request.layout == ROWS and request.rows == 3
    np.testing.assert_array_equal(request.inputs["x"], np.float32([1, 2, 5]))
    outputs = {"y": request.inputs["x"] / 2 + 2}
    assert dumps(predict_answer(outputs, request.layout)) == b'{"predictions":[2.5,3.0,4.5]}'

    columns = read('{"signature_name": "serving_default", "inputs": [3.0, 4.0]}', HALF_PLUS_TWO)
    assert columns.layout == COLUMNS
    assert dumps(predict_answer({"y": columns.inputs["x"] / 2 + 2}, columns.layout)) == b'{"outputs":[3.5,4.0]}'


def test_the_rest_apis_named_inputs_in_rows_and_in_columns_give_the_same_batch():
    rows = read(
        '{"instances": [{"tag": "foo", "signal": [1, 2, 3, 4, 5], "sensor": [[1, 2], [3, 4]]},'
        ' {"tag": "bar", "signal": [3, 4, 1, 2, 5], "sensor": [[4, 5], [6, 8]]}]}',
        TAG_SIGNAL_SENSOR,
    )
    columns = read(
        '{"inputs": {"tag": ["foo", "bar"], "signal": [[1, 2, 3, 4, 5], [3, 4, 1, 2, 5]],'
        ' "sensor": [[[1, 2], [3, 4]], [[4, 5], [6, 8]]]}}',
        TAG_SIGNAL_SENSOR,
    )
    for request in (rows, columns):
        assert request.rows == 2
        assert request.inputs["tag"].tolist() == [b"foo", b"bar"]
        assert request.inputs["signal"].dtype == np.int32 and request.inputs["signal"].shape == (2, 5)
        np.testing.assert_array_equal(request.inputs["sensor"], np.float32([[[1, 2], [3, 4]], [[4, 5], [6, 8]]]))


def test_several_outputs_answer_an_object_per_row_or_per_name_and_float32_at_its_shortest_decimals():
    outputs = {"label": np.array([b"positive", b"negative"], dtype=object), "probability": np.float32([0.1, 0.7])}
    assert predict_answer(outputs, ROWS) == {
        "predictions": [{"label": "positive", "probability": 0.1}, {"label": "negative", "probability": 0.7}]
    }
    assert predict_answer(outputs, COLUMNS) == {"outputs": {"label": ["positive", "negative"], "probability": [0.1, 0.7]}}


def test_a_scalar_setting_takes_its_default_is_one_value_for_the_batch_and_is_capped():
    plain = read('{"instances": ["The", "A"]}', GENERATION)
    assert plain.inputs["prompt"].tolist() == [b"The", b"A"] and plain.rows == 2
    assert plain.inputs["length"] == 20 and plain.inputs["length"].dtype == np.int32
    assert plain.inputs["seed"] == 0 and plain.inputs["temperature"] == np.float32(0.8)

    named = read('{"instances": [{"prompt": "The", "length": 5}, {"prompt": "A", "length": 5}]}', GENERATION)
    assert named.inputs["length"] == 5
    assert read('{"inputs": {"prompt": ["The"], "temperature": 0.5}}', GENERATION).inputs["temperature"] == 0.5

    assert refused('{"instances": [{"prompt": "The", "length": 5}, {"prompt": "A", "length": 6}]}', GENERATION) == (
        "instances: length is one value for the whole batch, but the instances give different ones (5 and 6)"
    )
    assert refused('{"inputs": {"prompt": ["The"], "length": 1000000000}}', GENERATION) == (
        "length: at most 100 (--max-generate-length); got 1000000000"
    )
    assert refused('{"inputs": {"prompt": ["The"], "length": [5]}}', GENERATION) == (
        "length: expected a scalar, got shape [1]"
    )


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("", "JSON Parse error: The document is empty"),
        ("instances = [1, 2]", "JSON Parse error: Expecting value at offset: 0"),
        ('{"instances": ["a"}', "JSON Parse error: Expecting ',' delimiter at offset: 18"),
        ("[1, 2]", "JSON Value: [1, 2] Is not object"),
        ('{"signature_name": 100, "instances": ["a"]}',
         'JSON Value: {"signature_name": 100, "instances": ["a"]} not formatted correctly. '
         "'signature_name' key must be a string value."),
        ('{"signature_name": "other", "instances": ["a"]}',
         'Serving signature name: "other" not found in signature def; this model has serving_default'),
        ('{"instances": ["a"], "inputs": ["a"]}',
         """JSON Value: {"instances": ["a"], "inputs": ["a"]} Not formatted correctly expecting only one of 'inputs' """
         "or 'instances' keys to exist"),
        ('{"text": ["a"]}', "Missing 'inputs' or 'instances' key"),
        ('{"instances": "a"}', "Excepting 'instances' to be an list/array"),
        ('{"instances": []}', "No values in 'instances' array"),
        ('{"instances": [1]}', "instances[0]: JSON Value: 1 Type: Number is not of expected type: string"),
        ('{"instances": ["a", {"text": "b"}]}', "Expecting value/list but got Object at item 1 of input list"),
        ('{"inputs": {"txt": ["a"]}}', "inputs: JSON object: does not have named input: txt; the inputs are text"),
        ('{"instances": [["a", "b"], ["c"]]}',
         "instances[1]: Expecting shape [2] but got: [1]; every instance's value must have the same shape"),
        ('{"inputs": [["a", "b"], ["c"]]}',
         "inputs[1]: Encountered list at unexpected size: 1 at level: 1 expected size: 2"),
    ],
)
def test_malformed_requests_are_refused_as_tensorflow_serving_words_them(body, message):
    assert refused(body) == message


def test_columns_of_different_batch_sizes_and_rows_of_named_inputs_are_refused():
    two_batched = {DEFAULT: {"a": InputSpec("a", "float32", None), "b": InputSpec("b", "float32", None)}}
    assert refused('{"inputs": {"a": [1, 2, 3], "b": [1, 2]}}', two_batched) == (
        "the inputs' batch sizes differ (a: 3, b: 2); every input of a batch needs the same number of rows"
    )
    assert refused('{"instances": [1, 2]}', two_batched) == (
        "instances is a plain list, but expecting list of objects as multiple input tensors required as per "
        "tensorinfo_map: each instance gives a, b"
    )
    assert refused('{"inputs": {"a": [1]}}', two_batched) == "Missing named input: b in 'inputs' object."


def test_a_lone_value_is_a_batch_of_no_rows_that_the_graph_itself_refuses():
    assert read('{"inputs": "one text"}').rows is None


def test_outputs_of_different_batch_sizes_cannot_be_answered_by_row():
    with pytest.raises(RequestError, match=r"batch sizes differ \(a: 2, b: 3\)"):
        predict_answer({"a": np.zeros(2), "b": np.zeros(3)}, ROWS)
    assert predict_answer({"a": np.zeros(2), "b": np.zeros(3)}, COLUMNS) == {"outputs": {"a": [0.0, 0.0], "b": [0.0] * 3}}
