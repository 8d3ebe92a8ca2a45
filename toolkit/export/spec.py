"""What `spec.json` holds for each kind of task: the vocabulary, the normalisation rules, the class names, decoding.

The model files of a portable export compute with numbers; `spec.json`
holds everything else a program needs to serve them, and `portable.py`
reads it. For a text classifier, the rules are those of
`toolkit.preprocessing.text.standardize_text`, written so that Python's
`re` applies them exactly:

- TensorFlow lower-cases A-Z alone (`tf.strings.lower`), so the rule says `ascii`;
- RE2's `\\s` is `[\\t\\n\\f\\r ]`, narrower than Python's, so it is spelled out;
- Python's `re` has no `\\pZ`, `\\pC`, `\\pL` or `\\pN`, so the characters
  that TensorFlow's RE2 matches with them are listed as code point
  ranges, found by asking RE2 about every code point.
"""

from __future__ import annotations

import functools

import numpy as np
import tensorflow as tf

from toolkit.export.decoder_cores import state_sizes
from toolkit.export.task_cores import task_kind
from toolkit.io.text_files import DOCUMENT_SEPARATOR
from toolkit.models.task import TaskModel
from toolkit.models.text_generator import NEVER_GENERATED
from toolkit.preprocessing import captions
from toolkit.preprocessing.text import LINE_BREAK, PUNCTUATION, SEPARATORS, WORD, TextFeatures

# RE2's `\s`, which Python's `re` would read as every Unicode space.
_RE2_SPACE = "[\\t\\n\\f\\r ]"
# The code points a character of a Python `str` may be: all but the surrogates.
_CODE_POINTS = np.concatenate([np.arange(0, 0xD800), np.arange(0xE000, 0x110000)]).astype("int32")


@functools.cache
def code_point_ranges(pattern: str) -> tuple[tuple[int, int], ...]:
    """The code points whose one-character string TensorFlow's RE2 fully matches with `pattern`, as `(first, last)` ranges."""
    characters = tf.strings.unicode_encode(tf.reshape(tf.constant(_CODE_POINTS), [-1, 1]), "UTF-8")
    matched = _CODE_POINTS[tf.strings.regex_full_match(characters, pattern).numpy()]
    if not matched.size:
        return ()
    breaks = np.flatnonzero(np.diff(matched) != 1)
    firsts, lasts = np.r_[matched[0], matched[breaks + 1]], np.r_[matched[breaks], matched[-1]]
    return tuple(zip(firsts.tolist(), lasts.tolist()))


def _strings(vocabulary) -> list[str]:
    return [token.decode("utf-8") if isinstance(token, bytes) else str(token) for token in vocabulary]


def text_rules() -> dict:
    """`standardize_text` as rules for `portable.TextTokenizer`, and the characters that make a word (`has_word`)."""
    return {
        "standardize": [
            {"lowercase": "ascii"},
            {"replace": LINE_BREAK.replace("\\s", _RE2_SPACE), "with": " "},
            {"replace_runs_of": [list(pair) for pair in code_point_ranges(SEPARATORS)], "with": " "},
            {"replace": PUNCTUATION, "with": " \\1 "},
        ],
        "split": " ",
        # `has_word`'s `.*[\pL\pN].*`, matched on one character, is that character class.
        "word_characters": [list(pair) for pair in code_point_ranges(WORD)],
    }


def _text_classifier(model) -> dict:
    preprocessor = model.preprocessor
    words = preprocessor.token_ids if isinstance(preprocessor, TextFeatures) else preprocessor
    text = {
        **text_rules(),
        "vocabulary": _strings(words.vectorization.get_vocabulary()),
        "max_length": words.max_length,
        "padding_id": 0,
        "unknown_id": 1,
    }
    if isinstance(preprocessor, TextFeatures):
        text["ngrams"] = preprocessor.ngrams
        text["ngram_vocabulary"] = _strings(preprocessor.ngram_ids.vectorization.get_vocabulary())
    return {"class_names": list(model.class_names), "text": text}


def _captioner(model) -> dict:
    return {
        "image_shape": list(model.network.image_shape),
        "vocabulary": model.preprocessor.vocabulary(),
        "special_ids": {
            "padding": captions.PADDING_ID,
            "unknown": captions.UNKNOWN_ID,
            "start": captions.START_ID,
            "end": captions.END_ID,
        },
        "decoding": {
            "max_length": model.max_length,
            "beam_width": model.beam_width,
            "length_penalty": model.length_penalty,
        },
        "attention_grid": None if model.network.attention_grid is None else list(model.network.attention_grid),
    }


def _text_generator(model) -> dict:
    return {
        "vocabulary": _strings(model.preprocessor.get_vocabulary()),
        "unknown_id": 1,
        "document_separator": DOCUMENT_SEPARATOR,
        "never_generated": list(NEVER_GENERATED),
        "length": model.length,
        "state_sizes": state_sizes(model),
    }


def task_spec(model: TaskModel) -> dict:
    """The task's part of `spec.json`: `task`, and what its kind needs besides the model files."""
    kind = task_kind(model)
    if kind == "text_classifier":
        details = _text_classifier(model)
    elif kind == "image_classifier":
        details = {"class_names": list(model.class_names), "image_shape": list(model.image_shape)}
    elif kind == "price_forecaster":
        details = {"window": model.window, "raw_features": list(model.raw_features), "horizon": model.horizon}
    elif kind == "captioner":
        details = _captioner(model)
    else:
        details = _text_generator(model)
    return {"task": kind, **details}
