"""Label smoothing for losses over class ids, which Keras offers only for one-hot targets."""

from __future__ import annotations

import keras

from toolkit.config import ConfigError


@keras.saving.register_keras_serializable(package="toolkit")
class SmoothedSparseCategoricalCrossentropy(keras.losses.Loss):
    """Cross-entropy against class ids, each target smoothed as `CategoricalCrossentropy(label_smoothing=...)` smooths one-hot ones.

    A smoothed target puts `1 - label_smoothing` on its class and spreads
    `label_smoothing` evenly over all classes, which keeps a classifier
    from growing ever more confident on training examples it already gets
    right (Szegedy et al. 2016).

    Args:
        label_smoothing: The share of each target spread over all classes, in [0, 1).
        from_logits: Whether predictions are logits rather than probabilities.
        **kwargs: Base loss keyword arguments, such as `name` and `reduction`.

    Example:

    >>> import numpy as np
    >>> from toolkit.models.label_smoothing import SmoothedSparseCategoricalCrossentropy
    >>> loss = SmoothedSparseCategoricalCrossentropy(0.2)
    >>> round(float(loss(np.array([0]), np.array([[0.9, 0.1]]))), 4)  # targets [0.9, 0.1]
    0.3251
    """

    def __init__(self, label_smoothing: float, from_logits: bool = False, name: str = "smoothed_sparse_categorical_crossentropy", **kwargs):
        super().__init__(name=name, **kwargs)
        self.label_smoothing = label_smoothing
        self.from_logits = from_logits

    def call(self, y_true, y_pred):
        # Class ids of the predictions' shape but the last: `(batch,)` or `(batch, 1)` for one per example,
        # `(batch, steps)` for one per step.
        ids = keras.ops.reshape(keras.ops.cast(y_true, "int32"), keras.ops.shape(y_pred)[:-1])
        one_hot = keras.ops.one_hot(ids, keras.ops.shape(y_pred)[-1], dtype=y_pred.dtype)
        return keras.losses.categorical_crossentropy(
            one_hot, y_pred, from_logits=self.from_logits, label_smoothing=self.label_smoothing
        )

    def get_config(self) -> dict:
        return {**super().get_config(), "label_smoothing": self.label_smoothing, "from_logits": self.from_logits}


def with_label_smoothing(loss, label_smoothing: float):
    """`loss`, a `keras.losses.SparseCategoricalCrossentropy`, with `label_smoothing` of its targets.

    Raises:
        ConfigError: For a loss named in the config, or any other loss (a
            regression's, or one that ignores a padding class), which has no
            targets to smooth this way.
    """
    if isinstance(loss, str):
        raise ConfigError(
            f"trainer.label_smoothing: smooths the targets of the pipeline's default loss, and trainer.loss is set "
            f"(to {loss!r}). Set trainer.label_smoothing to 0, or trainer.loss to null."
        )
    if type(loss) is not keras.losses.SparseCategoricalCrossentropy or loss.ignore_class is not None:
        raise ConfigError(
            f"trainer.label_smoothing: smooths the class targets of a classifier's sparse categorical cross-entropy; "
            f"this run's loss is {getattr(loss, 'name', loss)!r}. Set trainer.label_smoothing to 0."
        )
    return SmoothedSparseCategoricalCrossentropy(label_smoothing, from_logits=loss.from_logits)
