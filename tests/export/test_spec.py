"""`spec.json`'s contents: the code points RE2 matches, the normalisation rules, and each kind of task's part."""

from __future__ import annotations

import itertools
import re

import pytest

from toolkit.export.spec import code_point_ranges, task_spec, text_rules


def test_code_point_ranges_are_those_re2_matches_in_order():
    assert code_point_ranges("[a-cx]") == ((97, 99), (120, 120))
    assert code_point_ranges("[\\x{10FFFE}-\\x{10FFFF}]") == ((0x10FFFE, 0x10FFFF),)
    separators = code_point_ranges("[\\pZ]")
    assert (0x20, 0x20) in separators and any(first <= 0x3000 <= last for first, last in separators)
    assert all(last < following for (_, last), (following, _) in itertools.pairwise(separators))


def _in(ranges, character: str) -> bool:
    return any(first <= ord(character) <= last for first, last in ranges)


def test_the_rules_list_separators_and_word_characters_as_tensorflows_regular_expressions_read_them():
    rules = text_rules()
    steps = rules["standardize"]
    assert steps[0] == {"lowercase": "ascii"}
    assert steps[1] == {"replace": "<br[\\t\\n\\f\\r ]*/?>", "with": " "}  # RE2's \s spelled out for Python
    separators = steps[2]["replace_runs_of"]
    assert all(_in(separators, c) for c in "\t\n\x0b\x00\x7f\x85\u00a0\u200b\u2028\u3000\ufeff\ue000")
    assert not any(_in(separators, c) for c in "aZ09é!'😀")
    assert not _in(separators, "\u0378")  # unassigned: RE2's \pC leaves it out, as Python's Cn would not
    assert re.sub(steps[3]["replace"], steps[3]["with"], "a,b") == "a , b"
    words = rules["word_characters"]
    assert all(_in(words, c) for c in "aZ09éΩ中٤½")
    assert not any(_in(words, c) for c in "!? \u200b😀_")


@pytest.mark.parametrize("name", ["sentiment", "stock", "image_classification", "captioning", "text_generation"])
def test_each_kind_of_task_writes_what_serving_it_needs_besides_numbers(name, recorded_models):
    model = recorded_models[name]
    spec = task_spec(model)
    if name == "sentiment":
        assert spec["task"] == "text_classifier" and spec["class_names"] == ["negative", "positive"]
        text = spec["text"]
        assert (
            text["vocabulary"][:2] == ["", "[UNK]"] and len(text["vocabulary"]) == model.preprocessor.vocabulary_size()
        )
        assert (text["max_length"], text["ngrams"], len(text["ngram_vocabulary"])) == (40, 2, 400)
    elif name == "stock":
        assert spec == {
            "task": "price_forecaster",
            "window": 11,
            "raw_features": ["open", "high", "low", "close", "volume"],
            "horizon": 1,
        }
    elif name == "image_classification":
        assert spec["task"] == "image_classifier" and spec["image_shape"] == [28, 28] and len(spec["class_names"]) == 10
    elif name == "captioning":
        assert spec["task"] == "captioner" and spec["vocabulary"][:4] == ["", "[UNK]", "<start>", "<end>"]
        assert spec["decoding"] == {"max_length": 10, "beam_width": 3, "length_penalty": 0.7}
        assert spec["special_ids"] == {"padding": 0, "unknown": 1, "start": 2, "end": 3}
        assert spec["attention_grid"] == [8, 8] and spec["image_shape"] == [64, 64, 3]
    else:
        assert spec["task"] == "text_generator" and spec["vocabulary"][:2] == ["", "[UNK]"]
        assert (spec["document_separator"], spec["never_generated"], spec["length"]) == ("\n", [0, 1], 20)
