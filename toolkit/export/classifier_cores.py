"""The numeric cores of classifiers: token ids or uint8 images in; probabilities, the top one and its class id out."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from toolkit.export.numeric_core import NumericCore, tensorflow_variables
from toolkit.models.image_classifier import ImageClassifier
from toolkit.models.text_classifier import TextClassifier
from toolkit.preprocessing.text import TextFeatures


def _class_outputs(probabilities: tf.Tensor) -> dict[str, tf.Tensor]:
    """The serving signature's outputs, with the class id in place of its name (which `spec.json` holds)."""
    return {
        "probabilities": probabilities,
        "probability": tf.reduce_max(probabilities, axis=-1),
        "class_id": tf.argmax(probabilities, axis=-1),
    }


def text_classifier_core(model: TextClassifier) -> NumericCore:
    """`token_ids` (and, with a bag of n-grams, `ngram_ids`): int64 `(batch, length)`, padded with 0, as the
    preprocessor makes them; the network sees them as the SavedModel's does."""
    bag = isinstance(model.preprocessor, TextFeatures)
    inputs = {"token_ids": tf.TensorSpec([None, None], tf.int64)}
    if bag:
        inputs["ngram_ids"] = tf.TensorSpec([None, None], tf.int64)
    sizes = {"token_ids": model.preprocessor.vocabulary_size()}
    if bag:
        sizes["ngram_ids"] = model.preprocessor.ngram_vocabulary_size()

    def call(token_ids, ngram_ids=None):
        features = {"token_ids": token_ids, "ngram_ids": ngram_ids} if bag else token_ids
        return _class_outputs(model.network(features, training=False))

    def example(batch: int) -> dict[str, np.ndarray]:
        random = np.random.default_rng(0)
        ids = {}
        for name, size in sizes.items():
            values = random.integers(1, size, (batch, 12))
            lengths = random.integers(1, 13, (batch, 1))
            ids[name] = np.where(np.arange(12) < lengths, values, 0).astype("int64")  # padded after each length
        return ids

    return NumericCore(
        "model",
        "the text classifier's network",
        inputs,
        call,
        tensorflow_variables([model.network]),
        example,
        loops_over_time=True,
    )


def image_classifier_core(model: ImageClassifier) -> NumericCore:
    """`images`: uint8 `(batch, *image_shape)`, exactly as the SavedModel takes them."""
    shape = list(model.image_shape)

    def call(images):
        return _class_outputs(model.network(images, training=False))

    def example(batch: int) -> dict[str, np.ndarray]:
        return {"images": np.random.default_rng(0).integers(0, 256, (batch, *shape)).astype("uint8")}

    return NumericCore(
        "model",
        "the image classifier's network",
        {"images": tf.TensorSpec([None, *shape], tf.uint8)},
        call,
        tensorflow_variables([model.network]),
        example,
    )
