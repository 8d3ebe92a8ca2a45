"""`portable.py`, what users run without TensorFlow: the reference tokenizer on hand-written texts, the decoding
loops on a hand-made model, and its refusals."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import numpy as np
import pytest

from toolkit.export import portable
from toolkit.export.spec import text_rules


@pytest.fixture(scope="module")
def tokenizer() -> portable.TextTokenizer:
    vocabulary = ["", "[UNK]", "great", "!", "film", "été", "42", "a", "."]
    bag = ["", "[UNK]", "great", "!", "great !", "! !", "a", "a film", "film"]
    return portable.TextTokenizer(
        {
            **text_rules(),
            "vocabulary": vocabulary,
            "max_length": 4,
            "unknown_id": 1,
            "ngrams": 2,
            "ngram_vocabulary": bag,
        }
    )


# Hand-written: each text and the words the graph's standardization and split give it.
WORDS = {
    "Great!! A FILM.": ["great", "!", "!", "a", "film", "."],
    "ÉTÉ été": ["ÉtÉ", "été"],  # lower-casing changes A-Z alone, as TensorFlow's does
    "tabs\tand\nnew\r\nlines": ["tabs", "and", "new", "lines"],
    "line<br />break<BR>and<br\t/>on": ["line", "break", "and", "on"],
    "zero\u200bwidth ideographic\u3000space\u00a0no-break": [
        "zero",
        "width",
        "ideographic",
        "space",
        "no",
        "-",
        "break",
    ],
    "don't (stop)...": ["don't", "(", "stop", ")", ".", ".", "."],
    "emoji😀and 中文": ["emoji😀and", "中文"],
    "  \t ": [],
}
HAS_WORD = {
    "Fine.": True,
    "42": True,
    "été": True,
    "٤٢": True,
    "中": True,
    "?!": False,
    "<br />": False,
    "\u200b": False,
    "\u3000\t\n": False,
    "": False,
    "😀": False,
}


def test_texts_are_standardized_and_split_as_the_graph_does(tokenizer):
    assert {text: tokenizer.words(text) for text in WORDS} == WORDS


def test_a_text_has_a_word_with_a_letter_or_digit_of_any_script(tokenizer):
    assert {text: tokenizer.has_word(text) for text in HAS_WORD} == HAS_WORD


def test_ids_are_looked_up_cut_at_max_length_and_padded_to_the_longest(tokenizer):
    ids = tokenizer.encode(["Great!! A film.", "été", ""])["token_ids"]
    assert ids.dtype == np.int64
    assert ids.tolist() == [[2, 3, 3, 7], [5, 0, 0, 0], [0, 0, 0, 0]]
    assert tokenizer.encode([""])["token_ids"].tolist() == [
        [0]
    ]  # one padding step: a recurrent network cannot run zero


def test_the_bag_holds_the_words_then_each_pair_of_neighbours_uncut(tokenizer):
    assert tokenizer.encode(["Great!! A film"])["ngram_ids"].tolist() == [[2, 3, 3, 6, 8, 4, 5, 1, 7]]


class FakeSession:
    """A hand-made model: `encoder` gives one state per image; `step` gives fixed next-word probabilities."""

    def __init__(self, table: dict[int, dict[int, float]], vocabulary: int):
        self.scores = np.full((vocabulary, vocabulary), -50.0, np.float32)
        for token, following in table.items():
            for word, probability in following.items():
                self.scores[token, word] = np.log(probability)

    def encoder(self, images):
        return {"state_0": np.zeros((len(images), 1), np.float32)}

    def step(self, tokens, state_0):
        return {"scores": self.scores[tokens], "next_state_0": state_0 + 1}


def _captioner(max_length: int = 4, beam_width: int = 2) -> portable.Captioner:
    # <start> → a 0.6, b 0.4; a → a 0.35, b 0.35, <end> 0.3; b → <end> 1.
    session = FakeSession({2: {4: 0.6, 5: 0.4}, 4: {4: 0.35, 5: 0.35, 3: 0.3}, 5: {3: 1.0}}, vocabulary=6)
    spec = {
        "image_shape": [2, 2, 3],
        "vocabulary": ["", "[UNK]", "<start>", "<end>", "a", "b"],
        "special_ids": {"padding": 0, "unknown": 1, "start": 2, "end": 3},
        "attention_grid": None,
        "decoding": {"max_length": max_length, "beam_width": beam_width, "length_penalty": 0.0},
    }
    return portable.Captioner(spec, {"encoder": lambda images: session.encoder(images), "step": session.step})


def test_greedy_takes_the_likeliest_word_and_the_beam_finds_the_likelier_caption():
    captioner = _captioner()
    images = np.zeros((1, 2, 2, 3), np.uint8)
    ids, log_probability, attention = captioner.greedy(images)
    assert ids.tolist() == [[4, 4, 4, 4]]  # a tie (a and b, 0.35) goes to the lower id, as TensorFlow's argmax
    np.testing.assert_allclose(log_probability, [np.log(0.6) + 3 * np.log(0.35)], rtol=1e-6)
    assert attention.shape == (1, 4, 0)
    ids, log_probability, _ = captioner.beam_search(images)
    assert ids.tolist() == [[5, 3, 0, 0]]  # b <end>: 0.4, against a <end>: 0.18
    np.testing.assert_allclose(log_probability, [np.log(0.4)], rtol=1e-6)
    assert captioner.predict(images)["caption"].tolist() == ["b"]
    assert captioner.predict(images)["greedy_caption"].tolist() == ["a a a a"]


def test_captions_stop_at_end_and_leave_out_special_words():
    assert _captioner().detokenize(np.array([[4, 1, 5, 3, 4], [2, 0, 0, 0, 0]])) == ["a b", ""]


def test_an_empty_batch_of_images_gets_empty_answers():
    outputs = _captioner().predict(np.zeros((0, 2, 2, 3), np.uint8))
    assert outputs["caption"].shape == (0,) and outputs["log_probability"].shape == (0,)


def _forecaster() -> portable.PriceForecaster:
    spec = {"window": 3, "raw_features": ["open", "high", "low", "close", "volume"], "horizon": 1}
    return portable.PriceForecaster(spec, {"model": lambda windows: pytest.fail("refused windows reached the model")})


def test_windows_the_saved_model_refuses_are_refused_naming_them():
    refusals = [
        (
            (1, 0, 3),
            -1.0,
            "prices must be positive finite numbers and volumes finite and not negative; windows at fault: 1.",
        ),
        (
            (0, 2, 4),
            np.nan,
            "prices must be positive finite numbers and volumes finite and not negative; windows at fault: 0.",
        ),
        (
            (1, 1, 1),
            50.0,
            "a high must be at least its low, and a close within [low, high], every day; windows at fault: 1.",
        ),
    ]
    for where, value, message in refusals:
        windows = np.tile(np.array([100.0, 101.0, 99.0, 100.0, 1e6], np.float32), (2, 3, 1))
        windows[where] = value
        with pytest.raises(ValueError) as refused:
            _forecaster().predict(windows)
        assert str(refused.value) == f"windows: {message}"
    with pytest.raises(
        ValueError, match=r"expected shape \(batch, 3, 5\) with columns open, high, low, close, volume; got \(2, 4, 5\)"
    ):
        _forecaster().predict(np.ones((2, 4, 5)))


def test_texts_without_a_word_are_refused_naming_their_rows(tokenizer):
    spec = {"class_names": ["negative", "positive"], "text": tokenizer_spec(), "models": {"model": {"inputs": {}}}}
    classifier = portable.TextClassifier(spec, {"model": lambda **ids: pytest.fail("refused texts reached the model")})
    with pytest.raises(ValueError, match=r"texts without one at rows 1, 3\.$"):
        classifier.predict(["Fine.", "?!", "Good", "<br />"])
    with pytest.raises(TypeError, match=r"texts\[1\]: expected a string, got int"):
        classifier.predict(["Fine.", 3])


def tokenizer_spec() -> dict:
    return {**text_rules(), "vocabulary": ["", "[UNK]"], "max_length": 3, "unknown_id": 1}


def test_images_of_another_dtype_or_shape_are_refused():
    classifier = portable.ImageClassifier({"class_names": ["a"], "image_shape": [2, 2]}, {"model": None})
    with pytest.raises(TypeError, match="images: expected uint8 values, got float32"):
        classifier.predict(np.zeros((1, 2, 2), np.float32))
    with pytest.raises(ValueError, match=r"images: expected shape \(batch, 2, 2\), got \(1, 3, 2\)"):
        classifier.predict(np.zeros((1, 3, 2), np.uint8))


def test_load_refuses_a_folder_that_is_not_an_export_and_an_int8_variant_that_was_not_made(tmp_path):
    (tmp_path / "spec.json").write_text(json.dumps({"format": "something else"}))
    with pytest.raises(ValueError, match="not a toolkit export of version 1"):
        portable.load(tmp_path)
    spec = {
        "format": portable.SPEC_FORMAT,
        "version": portable.SPEC_VERSION,
        "runtime": "onnx",
        "task": "image_classifier",
        "models": {"model": {"file": "model.onnx", "batch": None}},
    }
    (tmp_path / "spec.json").write_text(json.dumps(spec))
    with pytest.raises(ValueError, match="this export has no int8 variant; export it with --format litert --quantize"):
        portable.load(tmp_path, int8=True)


def test_portable_imports_nothing_but_the_standard_library_numpy_and_the_runtimes():
    tree = ast.parse(Path(portable.__file__).read_text())
    imported = {
        alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names
    }
    imported |= {node.module.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert imported == {"__future__", "json", "re", "pathlib", "numpy", "onnxruntime", "ai_edge_litert"}
