"""Review text → token ids → Embedding(mask_zero) → LSTM stack → dropout → softmax over classes."""

from __future__ import annotations

from dataclasses import dataclass

import keras
import numpy as np
import tensorflow as tf

from toolkit.config import option, section
from toolkit.data.text import as_text_array
from toolkit.models.classifier import Classifier
from toolkit.models.recurrent import RecurrentConfig, recurrent_stack


@dataclass
class TextClassifierConfig:
    """A many-to-one recurrent text classifier."""

    embedding_dim: int = option(64, "Size of each token's embedding.", min=1)
    recurrent: RecurrentConfig = section(RecurrentConfig, "The LSTM stack.")
    dropout: float = option(0.3, "Dropout before the head.", min=0.0, max=1.0)


def build_text_backbone(vocabulary_size: int, config: TextClassifierConfig) -> keras.Model:
    """Token ids → a feature vector: layers named `embedding`, `lstm_1`... and `dropout`.

    Args:
        vocabulary_size: Number of token ids, padding (0) included.
        config: The architecture.
    """
    token_ids = keras.Input((None,), dtype="int64", name="token_ids")
    x = keras.layers.Embedding(vocabulary_size, config.embedding_dim, mask_zero=True, name="embedding")(token_ids)
    x = recurrent_stack(x, config.recurrent)
    x = keras.layers.Dropout(config.dropout, name="dropout")(x)
    return keras.Model(token_ids, x, name="text_backbone")


@keras.saving.register_keras_serializable(package="toolkit")
class TextClassifier(Classifier):
    """Classifies raw strings: a `TextToTokenIds` preprocessor, a backbone over token ids, and a softmax head.

    Its serving signature takes `text`, a batch of strings.

    Example:

    >>> import numpy as np
    >>> from toolkit.models.classifier import softmax_head
    >>> from toolkit.models.text_classifier import TextClassifier, TextClassifierConfig, build_text_backbone
    >>> from toolkit.preprocessing.text import text_vectorizer
    >>> texts = np.array(["a good film", "a bad film"], dtype=object)
    >>> preprocessor = text_vectorizer(texts, max_tokens=20, max_length=8)
    >>> backbone = build_text_backbone(preprocessor.vocabulary_size(), TextClassifierConfig())
    >>> model = TextClassifier(backbone, softmax_head(2), ["negative", "positive"], preprocessor)
    >>> sorted(model.serve(np.array(["good"], dtype=object)))
    ['label', 'probabilities', 'probability']
    """

    def raw_input_spec(self) -> tf.TensorSpec:
        return tf.TensorSpec([None], tf.string, name="text")

    def raw_batch(self, raw_inputs) -> np.ndarray:
        return as_text_array(raw_inputs)
