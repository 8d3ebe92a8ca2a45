"""Strict JSON: NaN and infinities become null with a reason beside them, and the text has no NaN for a strict parser."""

from __future__ import annotations

import json
import math

from toolkit.strict_json import dumps, with_undefined_as_null

REASON = "not a finite number ({}): the computation had no defined value"


def test_non_finite_numbers_become_none_with_a_sibling_that_says_what_they_were():
    values = {"mae": 1.5, "mape": math.nan, "nested": {"skill": math.inf, "count": 3}, "name": "model"}
    assert with_undefined_as_null(values) == {
        "mae": 1.5,
        "mape": None,
        "mape_undefined": REASON.format("nan"),
        "nested": {"skill": None, "skill_undefined": REASON.format("inf"), "count": 3},
        "name": "model",
    }
    assert values["mape"] != values["mape"], "the input is left as it was"


def test_a_reason_the_computation_left_is_kept():
    values = {"roc_auc": math.nan, "roc_auc_undefined": "only one class in the targets"}
    assert with_undefined_as_null(values) == {"roc_auc": None, "roc_auc_undefined": "only one class in the targets"}


def test_lists_and_tuples_become_lists_and_their_non_finite_items_none_without_a_reason():
    assert with_undefined_as_null([1.0, -math.inf, (math.nan, 2)]) == [1.0, None, [None, 2]]
    assert with_undefined_as_null({"losses": [0.5, math.nan]}) == {"losses": [0.5, None]}
    # Finite floats, ints, booleans, strings and None pass unchanged; a scalar NaN is None.
    assert with_undefined_as_null([0, True, "nan", None, 1e308]) == [0, True, "nan", None, 1e308]
    assert with_undefined_as_null(math.nan) is None


def test_dumps_writes_json_a_strict_parser_reads_and_passes_json_options_on():
    text = dumps({"b": math.nan, "a": [math.inf, 1]}, sort_keys=True)
    assert "NaN" not in text and "Infinity" not in text
    assert text == '{"a": [null, 1], "b": null, "b_undefined": "not a finite number (nan): the computation had no defined value"}'

    def refuse(constant):
        raise ValueError(f"strict parser: {constant}")

    assert json.loads(text, parse_constant=refuse)["a"] == [None, 1]
    assert dumps({"x": 1}, indent=2) == '{\n  "x": 1\n}'
