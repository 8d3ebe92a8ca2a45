"""Caption metrics: corpus BLEU-1 to BLEU-4 (NLTK) against every reference, exact matches, token accuracy."""

from __future__ import annotations

import re
import warnings

import tensorflow as tf
from nltk.translate.bleu_score import corpus_bleu

from toolkit.preprocessing.captions import PADDING_ID

_PUNCTUATION = re.compile(r"[^\w\s]")
BLEU_WEIGHTS = {
    "bleu_1": (1.0,),
    "bleu_2": (0.5, 0.5),
    "bleu_3": (1 / 3, 1 / 3, 1 / 3),
    "bleu_4": (0.25, 0.25, 0.25, 0.25),
}


def caption_words(caption: str) -> list[str]:
    """Lower-cased words without punctuation: how captions are compared."""
    return _PUNCTUATION.sub(" ", caption.lower()).split()


def caption_metrics(references: list[list[str]], hypotheses: list[str]) -> dict:
    """Corpus BLEU-1 to BLEU-4 (Papineni et al., 2002) and the exact-match rate.

    BLEU is NLTK's `corpus_bleu`, without smoothing: clipped n-gram counts
    against all of an image's references, pooled over the corpus, with the
    brevity penalty against the closest reference length.

    Args:
        references: Per image, its reference captions.
        hypotheses: Per image, the generated caption.

    Returns:
        `bleu_1` … `bleu_4` in [0, 1], and `exact_match`: the share of
        captions equal (word for word) to one of their references.
    """
    tokenized_references = [[caption_words(reference) for reference in image] for image in references]
    tokenized_hypotheses = [caption_words(hypothesis) for hypothesis in hypotheses]
    with warnings.catch_warnings():
        # NLTK warns whenever some n-gram order has no match; a BLEU of 0 says so already.
        warnings.filterwarnings("ignore", message="\nThe hypothesis contains 0 counts")
        result = {
            name: float(corpus_bleu(tokenized_references, tokenized_hypotheses, weights=weights))
            for name, weights in BLEU_WEIGHTS.items()
        }
    matches = [hypothesis in image for hypothesis, image in zip(tokenized_hypotheses, tokenized_references, strict=True)]
    result["exact_match"] = sum(matches) / max(len(matches), 1)
    return result


def token_accuracy(network, pairs) -> float:
    """Teacher-forced next-word accuracy of a captioner over `((images, ids[:-1]), ids[1:])` batches, padding left out."""
    hits = total = 0
    for (images, inputs), targets in pairs:
        predicted = tf.argmax(network([images, inputs], training=False), axis=-1)
        counted = targets != PADDING_ID
        hits += int(tf.reduce_sum(tf.cast((predicted == targets) & counted, tf.int32)))
        total += int(tf.reduce_sum(tf.cast(counted, tf.int32)))
    return hits / max(total, 1)
