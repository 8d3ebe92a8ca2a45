"""The reference tokenizer, reading `spec.json`, equals the in-graph preprocessor: on every test review of the
default sentiment run, on hard texts, in words, ids and the word rule; and an export whose rules would not is refused."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

import toolkit
from tests.fixtures.releases import LATEST
from toolkit.errors import ExportRefusedError
from toolkit.export.portable import TextTokenizer
from toolkit.export.spec import task_spec
from toolkit.export.tokenizer_parity import HARD_TEXTS, check_tokenizer, differences, token_ids
from toolkit.preprocessing.text import standardize_text


@pytest.fixture(scope="module")
def sentiment():
    """The recorded sentiment run's task model (its vocabulary) and the spec an export of it writes."""
    import pipelines  # noqa: F401

    model = toolkit.load(LATEST / "sentiment" / "run").model
    return model, task_spec(model)["text"]


def _graph_words(texts: list[str]) -> list[list[str]]:
    """The words the graph reads: `standardize_text`, then TextVectorization's split on whitespace."""
    return [[word.decode() for word in row] for row in tf.strings.split(standardize_text(tf.constant(texts))).to_list()]


@pytest.mark.slow
def test_the_reference_tokenizer_equals_the_graph_on_every_test_review_of_the_default_run(
    sentiment, default_test_reviews
):
    model, text_spec = sentiment
    tokenizer = TextTokenizer(text_spec)
    assert len(default_test_reviews) > 2000
    assert differences(model, tokenizer, default_test_reviews) == []
    assert [tokenizer.words(text) for text in default_test_reviews] == _graph_words(default_test_reviews)


def test_the_reference_tokenizer_equals_the_graph_on_unicode_punctuation_runs_tabs_newlines_and_markup(sentiment):
    model, text_spec = sentiment
    tokenizer = TextTokenizer(text_spec)
    assert differences(model, tokenizer, list(HARD_TEXTS)) == []
    assert [tokenizer.words(text) for text in HARD_TEXTS] == _graph_words(list(HARD_TEXTS))


def test_an_export_whose_rules_would_tokenize_otherwise_is_refused_naming_the_text(sentiment):
    model, text_spec = sentiment
    no_lowercasing = {
        **text_spec,
        "standardize": [{"replace": "(?s).+", "with": "\\g<0>"}, *text_spec["standardize"][1:]],
    }
    with pytest.raises(ExportRefusedError) as refused:
        check_tokenizer(model, no_lowercasing)
    message = str(refused.value)
    assert message.startswith("the text preprocessor: the rules written to spec.json do not give the graph's token ids")
    assert "'A fine film.': token_ids" in message
    check_tokenizer(model, text_spec)  # the export's own rules pass


def test_the_reference_tokenizer_of_the_docs_gives_the_graphs_ids(sentiment, default_test_reviews, tmp_path):
    model, text_spec = sentiment
    page = (Path(__file__).resolve().parents[2] / "docs" / "exports.md").read_text(encoding="utf-8")
    code = next(block for block in page.split("```python")[1:] if "def reference_tokenizer" in block)
    namespace = {}
    exec(code.split("```")[0], namespace)  # noqa: S102 - the page's own code, run as a reader would run it
    (tmp_path / "spec.json").write_text(json.dumps({"text": text_spec}), encoding="utf-8")
    tokenize = namespace["reference_tokenizer"](tmp_path / "spec.json")
    texts = [*HARD_TEXTS, *default_test_reviews[:300]]
    graph_ids = token_ids(model, texts)
    for row, text in enumerate(texts):
        tokenized = tokenize(text)
        if tokenized is None:
            assert text in ("?!", "<br />", "\u200b", ""), text
            continue
        assert tokenized[0] == np.trim_zeros(graph_ids["token_ids"][row], "b").tolist(), text
        assert tokenized[1] == np.trim_zeros(graph_ids["ngram_ids"][row], "b").tolist(), text
