"""A learned embedding of each position of a feature grid, added to the features there."""

from __future__ import annotations

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="toolkit")
class GridPositionEmbedding(keras.layers.Layer):
    """Adds a learned vector per position to a sequence of grid features `(batch, positions, features)`.

    Convolutions answer the same wherever a pattern is, and a soft-attention
    context is a weighted mean over positions, so without this a decoder
    reading the context could not tell left from right, or above from below.

    Args:
        initializer: Initializer of the `(positions, features)` embedding.
            Default: `"zeros"`, so that it starts as the identity.
        **kwargs: Base layer keyword arguments, such as `name`.

    Call arguments:
        features: `(batch, positions, features)`, with a known number of positions.

    Returns:
        `features` plus each position's embedding, the same shape.

    Example:

    >>> import numpy as np
    >>> from toolkit.layers import GridPositionEmbedding
    >>> layer = GridPositionEmbedding(initializer="ones")
    >>> layer(np.zeros((2, 3, 4), "float32")).numpy()[0, 0].tolist()
    [1.0, 1.0, 1.0, 1.0]
    """

    def __init__(self, initializer="zeros", **kwargs):
        super().__init__(**kwargs)
        self.initializer = keras.initializers.get(initializer)

    def build(self, input_shape):
        if len(input_shape) != 3 or input_shape[1] is None or input_shape[2] is None:
            raise ValueError(
                f"GridPositionEmbedding: expected features (batch, positions, features) with known positions and "
                f"features, got shape {tuple(input_shape)}."
            )
        self.embedding = self.add_weight(
            shape=tuple(input_shape[1:]), initializer=self.initializer, name="embedding"
        )

    def call(self, features):
        return features + ops.cast(ops.expand_dims(self.embedding, 0), features.dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "initializer": keras.initializers.serialize(self.initializer)}
