"""Word dropout: in training, some input words are replaced by the unknown word."""

from __future__ import annotations

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="toolkit")
class WordDropout(keras.layers.Layer):
    """Replaces each word id by `unknown_id` with probability `rate`, in training only (Bowman et al., 2016).

    A teacher-forced decoder that cannot always see the previous word leans
    less on which words follow which, and more on what it is conditioned on,
    such as an image. Ids in `keep_ids` (padding, `<start>`) are never replaced.

    Args:
        rate: Probability of replacing a word, in [0, 1).
        unknown_id: The id that replaces it.
        keep_ids: Ids left as they are.
        seed: Seed of the random replacement.
        **kwargs: Base layer keyword arguments, such as `name`.

    Call arguments:
        ids: Integer word ids of any shape.
        training: Python boolean; at inference the ids pass unchanged.

    Returns:
        The ids, with some replaced in training.

    Example:

    >>> import numpy as np
    >>> from toolkit.layers import WordDropout
    >>> ids = np.array([[2, 7, 8, 9, 0]])
    >>> WordDropout(0.999, unknown_id=1, keep_ids=(0, 2))(ids, training=True).numpy().tolist()
    [[2, 1, 1, 1, 0]]
    """

    def __init__(self, rate: float, unknown_id: int, keep_ids: tuple[int, ...] = (0,), seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        if not 0.0 <= rate < 1.0:
            raise ValueError(f"WordDropout: `rate` must be in [0, 1), got {rate!r}.")
        self.rate = float(rate)
        self.unknown_id = int(unknown_id)
        self.keep_ids = tuple(int(i) for i in keep_ids)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.built = True

    def call(self, ids, training=None):
        if not training or self.rate == 0.0:
            return ids
        dropped = keras.random.uniform(ops.shape(ids), seed=self.seed_generator) < self.rate
        for kept in self.keep_ids:
            dropped = dropped & (ids != kept)
        return ops.where(dropped, ops.cast(self.unknown_id, ids.dtype), ids)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "unknown_id": self.unknown_id,
                "keep_ids": list(self.keep_ids), "seed": self.seed}
