"""One input's JSON value as an array, and outputs back: numbers that fit, strings and b64, image files, and refusals."""

from __future__ import annotations

import base64
import io
import json

import numpy as np
import pytest
from PIL import Image

from toolkit.io.image_files import ImageFileError
from toolkit.serving.errors import RequestError
from toolkit.serving.json_values import InputSpec, output_values, to_array

WINDOWS = InputSpec("windows", "float32", None)
TEXT = InputSpec("text", "string", None)
GRAYSCALE = InputSpec("images", "uint8", None, image_shape=(4, 6), max_image_pixels=10_000)
COLOUR = InputSpec("images", "uint8", None, image_shape=(4, 6, 3), max_image_pixels=10_000)
SEED = InputSpec("seed", "int32", (), default=0)


def value_of(text: str, spec: InputSpec) -> np.ndarray:
    return to_array(json.loads(text), spec, "inputs")


def refused(text: str, spec: InputSpec) -> str:
    with pytest.raises(RequestError) as raised:
        value_of(text, spec)
    return str(raised.value)


def png_b64(pixels: np.ndarray) -> dict:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "PNG")
    return {"b64": base64.b64encode(buffer.getvalue()).decode()}


def test_numbers_that_fit_are_read_in_the_inputs_dtype():
    windows = value_of("[[[1, 2.5], [3, 1e-3]]]", WINDOWS)
    assert windows.dtype == np.float32 and windows.shape == (1, 2, 2)
    np.testing.assert_array_equal(windows, np.float32([[[1, 2.5], [3, 1e-3]]]))
    assert value_of("[[[0, 255]]]", GRAYSCALE).dtype == np.uint8
    assert value_of("[16777217]", WINDOWS)[0] == np.float32(16777217), "an integer above 2^24 (a volume) is taken"
    assert value_of("[]", WINDOWS).shape == (0,)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[[[1, NaN]]]", "inputs[0][0][1]: NaN is not a number a model can read; float32 inputs take finite numbers"),
        ("[[[1, -Infinity]]]",
         "inputs[0][0][1]: -Infinity is not a number a model can read; float32 inputs take finite numbers"),
        ("[[[1, 1e300]]]",
         "inputs[0][0][1]: Cannot convert JSON value: 1e+300 to float32 without loss of precision "
         "(the largest float32 is 3.4028235e+38)"),
        ("[[[1, 1e400]]]",
         "inputs[0][0][1]: Infinity is not a number a model can read; float32 inputs take finite numbers"),
        ("[[[1, 10000000000000000000000000000000000000000000]]]",
         "inputs[0][0][1]: Cannot convert JSON value: 10000000000000000000000000000000000000000000 to float32 "
         "without loss of precision (the largest float32 is 3.4028235e+38)"),
        ("[[[1, true]]]", "inputs[0][0][1]: JSON Value: true Type: True is not of expected type: float32"),
        ('[[[1, "2"]]]', 'inputs[0][0][1]: JSON Value: "2" Type: String is not of expected type: float32'),
        ("[[[1, null]]]", "inputs[0][0][1]: JSON Value: null Type: Null is not of expected type: float32"),
        ('[[[1, {"b64": "AA=="}]]]',
         'inputs[0][0][1]: JSON Value: {"b64": "AA=="} Type: Object is not of expected type: float32'),
        ("[[[1, 2]], [[1]]]", "inputs[1][0]: Encountered list at unexpected size: 1 at level: 2 expected size: 2"),
        ("[[[1, 2]], [[1, [2]]]]", "inputs[1][0][1]: Encountered list at unexpected level: 3 expected < 3"),
        ("[[[1, 2]], [3, 4]]", "inputs[1]: Encountered list at unexpected size: 2 at level: 1 expected size: 1"),
        ("[[[1, 2]], [3]]",
         "inputs[1][0]: JSON Value: 3 found inside 2 lists, where the first values are inside 3; a tensor's values are "
         "all at one depth"),
    ],
)
def test_numbers_that_do_not_fit_a_float32_input_are_refused_naming_where_they_are(text, message):
    assert refused(text, WINDOWS) == message


def test_integers_must_be_integers_within_the_dtype():
    for value in (256, -1):
        assert refused(f"[[[{value}]]]", GRAYSCALE) == f"inputs[0][0][0]: {value} is out of the range of uint8 (0 to 255)"
    assert refused("[[[1.5]]]", GRAYSCALE) == (
        "inputs[0][0][0]: JSON Value: 1.5 Type: Number is not of expected type: uint8"
    )
    assert refused("[[[1, true]]]", GRAYSCALE) == (
        "inputs[0][0][1]: JSON Value: true Type: True is not of expected type: uint8"
    ), "a boolean among integers is named, not read as 1"
    assert refused("3000000000", SEED) == "inputs: 3000000000 is out of the range of int32 (-2147483648 to 2147483647)"
    assert value_of("7", SEED) == 7 and value_of("7", SEED).dtype == np.int32


def test_strings_are_text_or_b64_bytes():
    texts = value_of('["plain", {"b64": "aGVsbG8="}, "naïve"]', TEXT)
    assert texts.dtype == object and texts.tolist() == [b"plain", b"hello", "naïve".encode()]
    assert refused("[1]", TEXT) == "inputs[0]: JSON Value: 1 Type: Number is not of expected type: string"
    assert refused('[{"b64": "not base64!"}]', TEXT).startswith("inputs[0]: Unable to base64 decode (")


def test_an_uploaded_png_becomes_the_uint8_image_the_signature_takes_resized_to_its_shape():
    pixels = np.random.default_rng(0).integers(0, 256, (4, 6, 3), dtype=np.uint8)
    np.testing.assert_array_equal(to_array(png_b64(pixels), COLOUR, "instances[0]"), pixels)
    gray = pixels[..., 0]
    mixed = to_array([png_b64(gray), gray.tolist()], GRAYSCALE, "inputs")
    assert mixed.dtype == np.uint8 and mixed.shape == (2, 4, 6)
    np.testing.assert_array_equal(mixed, np.stack([gray, gray]))
    larger = np.kron(gray, np.ones((5, 5), np.uint8))  # 20x30, resized to the model's 4x6
    assert to_array(png_b64(larger), GRAYSCALE, "instances[0]").shape == (4, 6)


def test_an_upload_that_is_not_an_image_or_has_too_many_pixels_is_named():
    not_an_image = {"b64": base64.b64encode(b"not an image").decode()}
    with pytest.raises(ImageFileError, match=r"^instances\[0\]: cannot be decoded as an image"):
        to_array(not_an_image, GRAYSCALE, "instances[0]")
    huge = np.zeros((200, 60), np.uint8)  # 12,000 pixels, over the spec's 10,000
    with pytest.raises(ImageFileError, match=r"^inputs\[1\]: 60x200 pixels, more than the 10000"):
        to_array([png_b64(np.zeros((4, 6), np.uint8)), png_b64(huge)], GRAYSCALE, "inputs")


def test_outputs_are_json_values_float32_at_its_shortest_decimals():
    assert output_values("probability", np.float32([0.1, 0.7])) == [0.1, 0.7]
    assert output_values("prices", np.float32([[129.76689]])) == [[129.76689]]
    assert output_values("label", np.array([b"positive", "naïve".encode()], dtype=object)) == ["positive", "naïve"]
    assert output_values("count", np.int32([3])) == [3]
    assert output_values("y", np.float32([np.nan, np.inf])) == pytest.approx([np.nan, np.inf], nan_ok=True)


def test_an_output_named_bytes_or_not_text_is_b64():
    assert output_values("image_bytes", np.array([b"\x89PNG", b"ok"], dtype=object)) == [
        {"b64": "iVBORw=="}, {"b64": "b2s="}
    ]
    assert output_values("text", np.array([b"\xff\xfe"], dtype=object)) == [{"b64": "//4="}]
