"""JSON that strict parsers read: no NaN, no Infinity; an undefined number is `null`, with the reason beside it."""

from __future__ import annotations

import json
import math
from typing import Any


def with_undefined_as_null(values: Any) -> Any:
    """A copy of `values` with each NaN or infinite float replaced by `None`.

    Args:
        values: Nested dicts, lists and scalars, as for `json.dumps`.

    In a mapping, a key whose number was replaced gains a sibling
    `<key>_undefined` that says what the number was, unless the code that
    computed it already left one with a better reason (as `roc_auc_undefined`).
    """
    if isinstance(values, dict):
        result = {}
        for key, value in values.items():
            result[key] = with_undefined_as_null(value)
            if _is_non_finite(value) and f"{key}_undefined" not in values:
                result[f"{key}_undefined"] = f"not a finite number ({value}): the computation had no defined value"
        return result
    if isinstance(values, (list, tuple)):
        return [with_undefined_as_null(value) for value in values]
    return None if _is_non_finite(values) else values


def dumps(values: Any, **kwargs) -> str:
    """`json.dumps` of `with_undefined_as_null(values)`, refusing any NaN left."""
    return json.dumps(with_undefined_as_null(values), allow_nan=False, **kwargs)


def _is_non_finite(value: Any) -> bool:
    return isinstance(value, float) and not math.isfinite(value)
