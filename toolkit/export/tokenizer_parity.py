"""The proof that `portable.TextTokenizer`, reading `spec.json`, gives the ids of a text classifier's own preprocessor."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from toolkit.errors import ExportRefusedError
from toolkit.export.portable import TextTokenizer
from toolkit.models.text_classifier import TextClassifier
from toolkit.preprocessing.text import TextFeatures, has_word

# Texts on which standardization, splitting and the word rule are easiest to get wrong; every export checks them.
HARD_TEXTS = (
    "A fine film.",
    "ÉTÉ, Été and été: only A-Z is lower-cased.",
    "Ωμέγα ΚΑΛΟ ÇA İstanbul ǅ",
    "Great!!!... Really?!?! (no) [yes] {maybe} <tag> 'quoted' \"double\" a-b_c/d\\e",
    "tabs\there\tand\nnew\r\nlines\x0bvertical\x0cfeed",
    "line<br />break<BR>and<br/>again<br\t/>and <br  >",
    "zero\u200bwidth\u200cjoiners\u200dand\u2060word\ufeffjoiner",
    "ideographic\u3000space\u00a0no-break\u2028line\u2029paragraph\u0085next",
    "control\x00nul\x01\x1f\x7f\x9fend",
    "emoji 😀👍🏽 and 中文字符 and العربية and हिन्दी",
    "digits 42 ٤٢ ４２ and ½ ² ⅷ",
    "combining e\u0301 and n\u0303 and private\ue000use",
    "   leading and trailing   ",
    "$$$ 100% #1 @home ^_^ ~~~ |pipe| `tick`",
    "?!",
    "<br />",
    "\u200b",
    "",
)


def token_ids(model: TextClassifier, texts: list[str]) -> dict[str, np.ndarray]:
    """The in-graph preprocessor's ids for `texts`: `token_ids`, and `ngram_ids` for a bag of n-grams."""
    features = model.preprocessor(tf.constant(texts, tf.string))
    if isinstance(model.preprocessor, TextFeatures):
        return {name: value.numpy() for name, value in features.items()}
    return {"token_ids": features.numpy()}


def differences(model: TextClassifier, tokenizer: TextTokenizer, texts: list[str], batch_size: int = 512) -> list[str]:
    """Each text (up to 5) on which the reference tokenizer differs from the graph, in ids or in having a word, described."""
    found = []
    for start in range(0, len(texts), batch_size):
        batch = list(texts[start : start + batch_size])
        graph_has_word = has_word(tf.constant(batch, tf.string)).numpy()
        expected, actual = token_ids(model, batch), tokenizer.encode(batch)
        for row, text in enumerate(batch):
            if bool(graph_has_word[row]) != tokenizer.has_word(text):
                found.append(
                    f"{text[:60]!r}: has a word in the graph: {bool(graph_has_word[row])}, by the spec: "
                    f"{tokenizer.has_word(text)}"
                )
            for name, ids in expected.items():
                graph_row, reference_row = np.trim_zeros(ids[row], "b"), np.trim_zeros(actual[name][row], "b")
                if not np.array_equal(graph_row, reference_row):
                    found.append(
                        f"{text[:60]!r}: {name} {graph_row.tolist()[:8]} in the graph, "
                        f"{reference_row.tolist()[:8]} by the spec"
                    )
            if len(found) >= 5:
                return found[:5]
    return found


def check_tokenizer(model: TextClassifier, text_spec: dict) -> None:
    """Refuses an export whose `spec.json` would tokenize `HARD_TEXTS` (or the vocabulary) otherwise than the graph.

    Raises:
        ExportRefusedError: Naming the texts and both answers.
    """
    vocabulary = [token for token in text_spec["vocabulary"][2:] if token]
    texts = [*HARD_TEXTS, " ".join(vocabulary), *(f"{word}, {word.upper()}!" for word in vocabulary[:50])]
    found = differences(model, TextTokenizer(text_spec), texts)
    if found:
        raise ExportRefusedError(
            "the text preprocessor: the rules written to spec.json do not give the graph's token ids, so a program "
            f"using them would answer otherwise than the SavedModel: {'; '.join(found)}."
        )
