"""Feature windows → LSTM stack → Dense head → the forecast in the targets' units."""

from __future__ import annotations

from dataclasses import dataclass

import keras
import numpy as np

from toolkit.config import option, section
from toolkit.models.recurrent import RecurrentConfig, recurrent_stack


@dataclass
class ForecasterConfig:
    """A many-to-one recurrent forecaster."""

    recurrent: RecurrentConfig = section(
        lambda: RecurrentConfig(units=32, bidirectional=False), "The LSTM stack."
    )
    dropout: float = option(0.1, "Dropout before the head.", min=0.0, max=1.0)


def build_forecaster(num_features: int, train_targets: np.ndarray, config: ForecasterConfig) -> keras.Model:
    """Builds the network: layers `lstm_1`..., `dropout`, `head` and `unscale`.

    The head predicts standardized targets, and `unscale` (a
    `Normalization(invert=True)` with the training targets' mean and
    variance, fixed) maps them back, so the loss and the outputs are in the
    targets' own units while the head works at unit scale.

    Args:
        num_features: Features per time step.
        train_targets: The training split's targets, `(n, horizon)`.
        config: The architecture.
    """
    train_targets = np.asarray(train_targets, "float64")
    features = keras.Input((None, num_features), name="features")
    x = recurrent_stack(features, config.recurrent)
    x = keras.layers.Dropout(config.dropout, name="dropout")(x)
    standardized = keras.layers.Dense(train_targets.shape[-1], name="head")(x)
    unscale = keras.layers.Normalization(
        mean=train_targets.mean(axis=0), variance=np.maximum(train_targets.var(axis=0), 1e-12), invert=True, name="unscale"
    )
    return keras.Model(features, unscale(standardized), name="network")
