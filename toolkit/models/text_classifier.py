"""Token ids → Embedding(mask_zero) → LSTM stack → dropout → softmax head."""

from __future__ import annotations

from dataclasses import dataclass

import keras

from toolkit.config import option, section
from toolkit.models.recurrent import RecurrentConfig, recurrent_stack


@dataclass
class TextClassifierConfig:
    """A many-to-one recurrent text classifier."""

    embedding_dim: int = option(64, "Size of each token's embedding.", min=1)
    recurrent: RecurrentConfig = section(RecurrentConfig, "The LSTM stack.")
    dropout: float = option(0.3, "Dropout before the head.", min=0.0, max=1.0)


def build_text_classifier(vocabulary_size: int, num_classes: int, config: TextClassifierConfig) -> keras.Model:
    """Builds the network: layers named `embedding`, `lstm_1`..., `dropout` and `head`.

    Args:
        vocabulary_size: Number of token ids, padding (0) included.
        num_classes: Size of the softmax head.
        config: The architecture.
    """
    token_ids = keras.Input((None,), dtype="int64", name="token_ids")
    x = keras.layers.Embedding(vocabulary_size, config.embedding_dim, mask_zero=True, name="embedding")(token_ids)
    x = recurrent_stack(x, config.recurrent)
    x = keras.layers.Dropout(config.dropout, name="dropout")(x)
    probabilities = keras.layers.Dense(num_classes, activation="softmax", name="head")(x)
    return keras.Model(token_ids, probabilities, name="network")
