"""One input's JSON value as an array of its dtype, and an output array as JSON values, as TensorFlow Serving has them.

- Strings are JSON strings; binary data is `{"b64": "<base64>"}`. An output
  whose name ends in `_bytes` comes as `{"b64": ...}`; so does one that is
  not UTF-8 text.
- Numbers must fit the input's dtype: no NaN or infinity, nothing beyond its
  range, no `true` for a number and no `5.0` for an integer. A value that
  does not fit is named by where it is, such as `instances[0][3][1]`.
- An image file (PNG, JPEG, ...) given as `{"b64": ...}` for an image input
  (uint8, of a shape its run records) is decoded and resized to that shape,
  as `toolkit predict` reads an image file; nothing is written to disk.
- Lists are boxes: at one depth, all as long (a tensor is rectangular).

Float32 outputs are written at their shortest decimals (0.1, not
0.10000000149011612), as TensorFlow Serving writes them.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from toolkit.io.image_files import decode_image_bytes, resized_uint8
from toolkit.serving.errors import RequestError

_B64 = "b64"
_BYTES_SUFFIX = "_bytes"
# Shown of a JSON value in a message: enough to find it, not a megabyte of it.
_SHOWN_CHARACTERS = 80


@dataclass(frozen=True)
class InputSpec:
    """What one input of a signature takes, as a request's JSON is read for it.

    Attributes:
        name: The input's name in the signature.
        dtype: TensorFlow's name of its dtype: `"string"`, `"float32"`, `"uint8"`, ...
        shape: The signature's shape, `None` for a dimension of any size; `None` for any rank.
        image_shape: For an image input: one image's `(height, width)` or
            `(height, width, channels)`, which an uploaded image file is
            decoded and resized to; `None` for other inputs.
        max_image_pixels: The most pixels an uploaded image file may have, read from its header.
        default: The value of a scalar input a request leaves out; `None`: it must be given.
        most: The largest value a request may give, `None` for no bound of the server's.
        most_reason: What sets `most`, for the message: a flag, say.
    """

    name: str
    dtype: str
    shape: tuple[int | None, ...] | None = None
    image_shape: tuple[int, ...] | None = None
    max_image_pixels: int | None = None
    default: Any = None
    most: int | None = None
    most_reason: str = ""

    @property
    def is_scalar(self) -> bool:
        """Whether the signature takes one value, not a batch (text generation's `length`)."""
        return self.shape == ()

def to_array(value, spec: InputSpec, where: str) -> np.ndarray:
    """One input's JSON value as an array of its dtype (bytes in an object array for strings).

    Args:
        value: The parsed JSON: a value, or nested lists of them.
        spec: What the input takes.
        where: Where the value is in the request, for messages, such as `instances[3].text`.

    Raises:
        RequestError: Naming where the value that does not fit is, and why.
        ImageFileError: For an image file that cannot be decoded or has too many pixels.
    """
    if spec.dtype == "string":
        return _strings(value, where)
    if spec.image_shape is not None and _holds_b64(value):
        return _images(value, spec, where)
    return _numbers(value, spec, where)

def _strings(value, where: str) -> np.ndarray:
    _check_rectangular(value, where)
    array = np.empty(_dense_shape(value), dtype=object)
    for index, (leaf, at) in enumerate(_leaves(value, where)):
        if isinstance(leaf, str):
            array.flat[index] = leaf.encode()
        elif is_b64(leaf):
            array.flat[index] = _b64_bytes(leaf, at)
        else:
            raise _type_error(leaf, "string", at)
    return array

def _images(value, spec: InputSpec, where: str) -> np.ndarray:
    """An image input given (in part) as image files: each `{"b64": ...}` decoded and resized to `image_shape`."""
    if is_b64(value):
        height, width, *channels = spec.image_shape
        image = decode_image_bytes(_b64_bytes(value, where), where, channels[0] if channels else 1, spec.max_image_pixels)
        pixels = resized_uint8(image, height, width).numpy()
        return pixels if channels else pixels[..., 0]
    if not _holds_b64(value):
        return _numbers(value, spec, where)
    parts = [_images(item, spec, f"{where}[{index}]") for index, item in enumerate(value)]
    for index, part in enumerate(parts):
        if part.shape != parts[0].shape:
            raise RequestError(
                f"{where}[{index}]: an image of shape {shape_text(part.shape)} beside one of "
                f"{shape_text(parts[0].shape)}; every image of a batch has the model's shape "
                f"{shape_text(spec.image_shape)}"
            )
    return np.stack(parts)

def _numbers(value, spec: InputSpec, where: str) -> np.ndarray:
    dtype = numpy_dtype(spec.dtype)
    checked = _numbers_at_once(value, dtype)
    if checked is not None:
        return checked
    # Something does not fit: found value by value, to name where it is.
    _check_rectangular(value, where)
    for leaf, at in _leaves(value, where):
        _check_number(leaf, spec.dtype, dtype, at)
    return np.asarray(value, dtype=dtype)

def _numbers_at_once(value, dtype: np.dtype) -> np.ndarray | None:
    """`value` as an array of `dtype` if it is a box of numbers that all fit it, checked in numpy's loops; else `None`.

    An image's thousands of pixels are checked in a fraction of the time a
    loop over them takes; `_check_number` then finds what does not fit.
    """
    try:
        objects = np.asarray(value, dtype=object)
    except ValueError:  # lists of uneven lengths
        return None
    kinds = set(map(type, objects.flat))
    if dtype.kind == "b":
        return objects.astype(bool) if kinds <= {bool} else None
    if not kinds <= ({int} if dtype.kind in "iu" else {int, float}):
        return None
    try:
        numbers = objects.astype(np.int64 if dtype.kind in "iu" else np.float64)
    except OverflowError:  # an integer beyond 64 bits
        return None
    if dtype.kind in "iu":
        limits = np.iinfo(dtype)
        fits = not numbers.size or limits.min <= numbers.min() <= numbers.max() <= limits.max
    else:
        fits = bool(np.isfinite(numbers).all()) and not (np.abs(numbers) > np.finfo(dtype).max).any()
    return numbers.astype(dtype) if fits else None

def _check_number(leaf, name: str, dtype: np.dtype, where: str) -> None:
    """One JSON value for a number of `dtype`: of its kind, finite and within its range."""
    if dtype.kind == "b":
        if not isinstance(leaf, bool):
            raise _type_error(leaf, name, where)
        return
    if isinstance(leaf, bool) or not isinstance(leaf, (int, float)) or (dtype.kind in "iu" and isinstance(leaf, float)):
        raise _type_error(leaf, name, where)
    if dtype.kind in "iu":
        limits = np.iinfo(dtype)
        if not limits.min <= leaf <= limits.max:
            raise RequestError(f"{where}: {leaf} is out of the range of {name} ({limits.min} to {limits.max})")
        return
    if isinstance(leaf, float) and not math.isfinite(leaf):
        raise RequestError(f"{where}: {shown(leaf)} is not a number a model can read; {name} inputs take finite numbers")
    largest = float(np.finfo(dtype).max)
    if abs(leaf) > largest:
        raise RequestError(
            f"{where}: Cannot convert JSON value: {shown(leaf)} to {name} without loss of precision "
            f"(the largest {name} is {largest:.8g})"
        )

def output_values(name: str, array: np.ndarray) -> Any:
    """An output array as JSON values: float32 at its shortest round-trip decimals, strings as text (bytes as b64)."""
    if array.dtype == object or array.dtype.kind in "SU":
        as_bytes = name.endswith(_BYTES_SUFFIX)
        return np.vectorize(lambda item: _text_or_b64(item, as_bytes), otypes=[object])(array).tolist()
    if array.dtype == np.float32 or array.dtype == np.float16:
        # float32's own shortest decimals (0.1, not 0.10000000149011612), as TensorFlow Serving writes them.
        return array.astype(str).astype(np.float64).tolist()
    return array.tolist()

def _text_or_b64(item, as_bytes: bool):
    data = item if isinstance(item, bytes) else str(item).encode()
    if not as_bytes:
        try:
            return data.decode()
        except UnicodeDecodeError:
            pass  # not text: given as binary, which JSON can carry
    return {_B64: base64.b64encode(data).decode()}

def _b64_bytes(value: dict, where: str) -> bytes:
    try:
        return base64.b64decode(value[_B64], validate=True)
    except (binascii.Error, ValueError) as error:
        raise RequestError(f"{where}: Unable to base64 decode ({error})") from None

def _check_rectangular(value, where: str) -> None:
    """Lists at one depth must be equally long, and values all at the same depth: a tensor is a box."""
    shape = _dense_shape(value)

    def visit(item, depth: int, at: str) -> None:
        if isinstance(item, list):
            if depth >= len(shape):
                raise RequestError(f"{at}: Encountered list at unexpected level: {depth} expected < {len(shape)}")
            if len(item) != shape[depth]:
                raise RequestError(
                    f"{at}: Encountered list at unexpected size: {len(item)} at level: {depth} expected size: "
                    f"{shape[depth]}"
                )
            for index, inner in enumerate(item):
                visit(inner, depth + 1, f"{at}[{index}]")
        elif depth != len(shape):
            raise RequestError(
                f"{at}: JSON Value: {shown(item)} found inside {depth} lists, where the first values are inside "
                f"{len(shape)}; a tensor's values are all at one depth"
            )

    visit(value, 0, where)

def _dense_shape(value) -> tuple[int, ...]:
    """The shape the first elements give, as TensorFlow Serving reads it."""
    shape = []
    while isinstance(value, list):
        shape.append(len(value))
        if not value:
            break
        value = value[0]
    return tuple(shape)

def _leaves(value, where: str) -> Iterator[tuple[Any, str]]:
    if isinstance(value, list):
        for index, item in enumerate(value):
            yield from _leaves(item, f"{where}[{index}]")
    else:
        yield value, where

def _holds_b64(value) -> bool:
    """Whether `value` is an image file or a batch holding one: b64 is not looked for deeper, among pixels."""
    return is_b64(value) or (isinstance(value, list) and any(is_b64(item) for item in value))

def is_b64(value) -> bool:
    """Whether `value` is binary data: an object whose one key is `b64`, a string."""
    return isinstance(value, dict) and len(value) == 1 and isinstance(value.get(_B64), str)

def numpy_dtype(name: str) -> np.dtype:
    """The numpy dtype an input of TensorFlow's dtype `name` is read into (object, holding bytes, for strings)."""
    return np.dtype(object) if name == "string" else np.dtype(name)

def _type_error(value, dtype: str, where: str) -> RequestError:
    found, kind = shown(value), json_type(value)
    return RequestError(f"{where}: JSON Value: {found} Type: {kind} is not of expected type: {dtype}")

def json_type(value) -> str:
    """The JSON type of a parsed value, as TensorFlow Serving's messages name it: `Number`, `String`, `Object`, ..."""
    if value is None:
        return "Null"
    if isinstance(value, bool):
        return "True" if value else "False"
    return {dict: "Object", list: "Array", str: "String"}.get(type(value), "Number")

def shape_text(shape) -> str:
    """A shape as TensorFlow Serving's messages write it: `[-1,28,28]`."""
    return "[" + ",".join("-1" if size is None else str(size) for size in shape) + "]"

def shown(value) -> str:
    """A JSON value for a message: its first 80 characters of JSON."""
    text = json.dumps(value)
    return text if len(text) <= _SHOWN_CHARACTERS else text[: _SHOWN_CHARACTERS - 3] + "..."
