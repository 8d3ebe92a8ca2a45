"""TensorFlow Serving's JSON for `:predict`: a request's `instances` (rows) or `inputs` (columns), and the answer.

As TensorFlow Serving's REST API has it:

- A request is an object with an optional `signature_name` and either
  `instances` (a non-empty list, one element per row) or `inputs` (each
  input's whole batch), never both.
- With one input, an element of `instances` (or `inputs` itself) is its
  value; with several, an object by input name.
- The answer is `predictions` for `instances`: a list with one element per
  row, the one output's value or an object by output name; and `outputs`
  for `inputs`: the one output's whole batch, or an object by output name.

And where toolkit's models need more: an input the signature takes as a
scalar (text generation's `length`, say) may be left out when it has a
default; in `instances`, each row that gives it gives the same value. Each
value is read by `toolkit.serving.json_values`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from toolkit.serving.errors import RequestError
from toolkit.serving.json_values import (
    InputSpec,
    is_b64,
    json_type,
    numpy_dtype,
    output_values,
    shape_text,
    shown,
    to_array,
)

ROWS = "instances"
COLUMNS = "inputs"
_ANSWER_KEY = {ROWS: "predictions", COLUMNS: "outputs"}


@dataclass(frozen=True)
class PredictRequest:
    """A `:predict` request, read and checked.

    Attributes:
        signature_name: The signature it calls.
        layout: `ROWS` (`instances`) or `COLUMNS` (`inputs`): the answer comes in the same.
        inputs: Every input of the signature, by name, as an array of its dtype.
        rows: The batch's rows: the first dimension its batched inputs share;
            `None` when an input has none (a lone value), so the batch is not merged with others.
    """

    signature_name: str
    layout: str
    inputs: dict[str, np.ndarray]
    rows: int | None

def parse_json(body: bytes) -> dict:
    """A request body as a JSON object.

    Raises:
        RequestError: For an empty body, JSON that does not parse (with the
            parser's reason and offset, as TensorFlow Serving words it), or a
            document that is not an object.
    """
    if not body.strip():
        raise RequestError("JSON Parse error: The document is empty")
    try:
        document = json.loads(body)
    except json.JSONDecodeError as error:
        raise RequestError(f"JSON Parse error: {error.msg} at offset: {error.pos}") from None
    except UnicodeDecodeError as error:
        raise RequestError(f"JSON Parse error: not UTF-8 text ({error.reason} at byte {error.start})") from None
    except RecursionError:
        raise RequestError("JSON Parse error: lists or objects nested too deeply") from None
    except ValueError as error:  # an integer of thousands of digits
        raise RequestError(f"JSON Parse error: {error}") from None
    if not isinstance(document, dict):
        raise RequestError(f"JSON Value: {shown(document)} Is not object")
    return document

def parse_predict_request(
    document: dict, signatures: Mapping[str, Mapping[str, InputSpec]], default_signature: str
) -> PredictRequest:
    """Reads a `:predict` request's JSON object for the signature it names.

    Args:
        document: The request body, parsed (see `parse_json`).
        signatures: Each signature's inputs, by signature name and input name.
        default_signature: The signature of a request that names none.

    Raises:
        RequestError: Naming what is wrong and where: an unknown signature,
            both or neither of `instances` and `inputs`, a missing or unknown
            input, a value of the wrong type or out of range, lists of uneven
            lengths, rows of different shapes, an image that cannot be decoded.
    """
    signature_name = document.get("signature_name", default_signature)
    if not isinstance(signature_name, str):
        raise RequestError(
            f"JSON Value: {shown(document)} not formatted correctly. 'signature_name' key must be a string value."
        )
    signature_name = signature_name or default_signature
    if signature_name not in signatures:
        raise RequestError(
            f'Serving signature name: "{signature_name}" not found in signature def; '
            f"this model has {', '.join(sorted(signatures))}"
        )
    specs = signatures[signature_name]
    if ROWS in document and COLUMNS in document:
        raise RequestError(f"JSON Value: {shown(document)} Not formatted correctly expecting only one of 'inputs' or "
                           "'instances' keys to exist")
    if ROWS in document:
        inputs = _from_rows(document[ROWS], specs)
        layout = ROWS
    elif COLUMNS in document:
        inputs = _from_columns(document[COLUMNS], specs)
        layout = COLUMNS
    else:
        raise RequestError("Missing 'inputs' or 'instances' key")
    for spec in specs.values():
        _check_shape(inputs[spec.name], spec)
        _check_most(inputs[spec.name], spec)
    return PredictRequest(signature_name, layout, inputs, _rows(inputs, specs))

def predict_answer(outputs: Mapping[str, np.ndarray], layout: str) -> dict:
    """The JSON object that answers a request of `layout` with a signature's `outputs`.

    Raises:
        RequestError: For `ROWS`, if the outputs have different numbers of rows
            (they cannot be told apart by row), naming them.
    """
    values = {name: output_values(name, np.asarray(array)) for name, array in outputs.items()}
    if layout == COLUMNS:
        return {_ANSWER_KEY[COLUMNS]: next(iter(values.values())) if len(values) == 1 else values}
    counts = {name: np.shape(array)[0] if np.ndim(array) else None for name, array in outputs.items()}
    if len(set(counts.values())) > 1 or None in counts.values():
        raise RequestError(
            "the outputs cannot be given by row, as their batch sizes differ "
            f"({', '.join(f'{name}: {count}' for name, count in counts.items())}); ask with 'inputs' instead"
        )
    rows = next(iter(counts.values()))
    if len(values) == 1:
        return {_ANSWER_KEY[ROWS]: next(iter(values.values()))}
    return {_ANSWER_KEY[ROWS]: [{name: column[row] for name, column in values.items()} for row in range(rows)]}

def dumps(document: dict) -> bytes:
    """`document` as compact JSON; NaN and infinities written `NaN` and `Infinity`, as TensorFlow Serving writes them."""
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()

def _from_rows(instances, specs: Mapping[str, InputSpec]) -> dict[str, np.ndarray]:
    if not isinstance(instances, list):
        raise RequestError("Excepting 'instances' to be an list/array")
    if not instances:
        raise RequestError("No values in 'instances' array")
    required = [spec for spec in specs.values() if spec.default is None]
    named = _is_named(instances[0])
    if not named and len(required) != 1:
        raise RequestError(
            "instances is a plain list, but expecting list of objects as multiple input tensors required as per "
            f"tensorinfo_map: each instance gives {', '.join(spec.name for spec in required)}"
        )
    columns: dict[str, list[np.ndarray]] = {}
    for index, instance in enumerate(instances):
        if _is_named(instance) != named:
            kind = "object" if named else "value/list"
            raise RequestError(f"Expecting {kind} but got {json_type(instance)} at item {index} of input list")
        given = instance if named else {required[0].name: instance}
        _check_names(given, specs, f"instances[{index}]")
        for name, value in given.items():
            where = f"instances[{index}].{name}" if named else f"instances[{index}]"
            columns.setdefault(name, []).append(to_array(value, specs[name], where))
        missing = [spec.name for spec in required if spec.name not in given]
        if missing:
            raise RequestError(f"instances[{index}]: missing input {', '.join(missing)}; each instance gives "
                               f"{', '.join(spec.name for spec in required)}")
    inputs = {}
    for spec in specs.values():
        values = columns.get(spec.name)
        if values is None:
            inputs[spec.name] = np.asarray(spec.default, numpy_dtype(spec.dtype))
        elif spec.is_scalar:
            inputs[spec.name] = _one_value(values, spec, len(instances))
        else:
            inputs[spec.name] = _stacked(values, f".{spec.name}" if named else "")
    return inputs

def _from_columns(value, specs: Mapping[str, InputSpec]) -> dict[str, np.ndarray]:
    required = [spec for spec in specs.values() if spec.default is None]
    if not _is_named(value):
        if len(required) != 1:
            raise RequestError(
                "inputs is a plain value/list, but expecting an object as multiple input tensors required as per "
                f"tensorinfo_map: {', '.join(spec.name for spec in required)}"
            )
        value = {required[0].name: value}
        where = {required[0].name: "inputs"}
    else:
        where = {name: f"inputs.{name}" for name in value}
    _check_names(value, specs, "inputs")
    missing = [spec.name for spec in required if spec.name not in value]
    if missing:
        raise RequestError(f"Missing named input: {', '.join(missing)} in 'inputs' object.")
    return {
        spec.name: to_array(value[spec.name], spec, where[spec.name]) if spec.name in value
        else np.asarray(spec.default, numpy_dtype(spec.dtype))
        for spec in specs.values()
    }

def _check_names(given: dict, specs: Mapping[str, InputSpec], where: str) -> None:
    unknown = [name for name in given if name not in specs]
    if unknown:
        raise RequestError(
            f"{where}: JSON object: does not have named input: {unknown[0]}; the inputs are {', '.join(specs)}"
        )

def _one_value(values: list[np.ndarray], spec: InputSpec, instances: int) -> np.ndarray:
    """A scalar input given in rows: every instance that gives it must give it alike, and all must."""
    if len(values) != instances:
        raise RequestError(f"instances: {spec.name} is one value for the whole batch; give it in every instance or "
                           "in none")
    if any(not np.array_equal(value, values[0]) for value in values[1:]):
        raise RequestError(
            f"instances: {spec.name} is one value for the whole batch, but the instances give different ones "
            f"({values[0].tolist()!r} and {next(v for v in values if not np.array_equal(v, values[0])).tolist()!r})"
        )
    return values[0]

def _stacked(values: list[np.ndarray], key: str) -> np.ndarray:
    """The instances' values of one input as one batch; `key` is `.name` for instances given as objects."""
    first = values[0].shape
    for index, value in enumerate(values):
        if value.shape != first:
            raise RequestError(
                f"instances[{index}]{key}: Expecting shape {shape_text(first)} but got: {shape_text(value.shape)}; "
                "every instance's value must have the same shape"
            )
    return np.stack(values)

def _rows(inputs: dict[str, np.ndarray], specs: Mapping[str, InputSpec]) -> int | None:
    counts = {name: array.shape[0] if array.ndim else None for name, array in inputs.items() if not specs[name].is_scalar}
    if not counts or None in counts.values():
        return None
    if len(set(counts.values())) > 1:
        raise RequestError(
            "the inputs' batch sizes differ ("
            + ", ".join(f"{name}: {count}" for name, count in counts.items())
            + "); every input of a batch needs the same number of rows"
        )
    return next(iter(counts.values()))

def _check_shape(array: np.ndarray, spec: InputSpec) -> None:
    if spec.shape is None:
        return
    fits = array.ndim == len(spec.shape) and all(want in (None, got) for want, got in zip(spec.shape, array.shape))
    if not fits:
        expected = "a scalar" if spec.is_scalar else f"shape {shape_text(spec.shape)}"
        raise RequestError(f"{spec.name}: expected {expected}, got shape {shape_text(array.shape)}")

def _check_most(array: np.ndarray, spec: InputSpec) -> None:
    if spec.most is not None and array.size and int(array.max()) > spec.most:
        raise RequestError(f"{spec.name}: at most {spec.most} ({spec.most_reason}); got {int(array.max())}")

def _is_named(value) -> bool:
    return isinstance(value, dict) and not is_b64(value)
