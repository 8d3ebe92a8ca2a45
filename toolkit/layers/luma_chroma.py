"""The hue-free parts of a pixel's colour: its luma and its chroma."""

from __future__ import annotations

import keras
from keras import ops

# ITU-R BT.601 luma weights, the ones keras.layers.RandomGrayscale uses.
LUMA_WEIGHTS = (0.2989, 0.587, 0.114)


@keras.saving.register_keras_serializable(package="toolkit")
class LumaChroma(keras.layers.Layer):
    """RGB images `(..., 3)` → `(..., 2)`: each pixel's luma and chroma, which say nothing of its hue.

    Luma is the weighted sum `0.2989 R + 0.587 G + 0.114 B`; chroma is
    `max(R, G, B) - min(R, G, B)`, how far the pixel is from grey (the C of
    the HCL colour model). A convolution over these two channels sees a
    red shape's outline as it sees a blue one's, from its brightness and
    from its colourfulness against a grey background, but cannot tell the
    two colours apart by hue: what a shape is cannot be learned as a
    shortcut through what colour it usually has.

    Args:
        **kwargs: Base layer keyword arguments, such as `name`.

    Call arguments:
        images: Floats `(..., 3)`, RGB.

    Returns:
        `(..., 2)`: luma, then chroma, on the input's scale.

    Example:

    >>> import numpy as np
    >>> from toolkit.layers import LumaChroma
    >>> pixels = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.5, 0.5, 0.5]], "float32")
    >>> LumaChroma()(pixels).numpy().astype("float64").round(3).tolist()
    [[0.299, 1.0], [0.114, 1.0], [0.5, 0.0]]
    """

    def build(self, input_shape):
        if input_shape[-1] != 3:
            raise ValueError(f"LumaChroma: expected RGB images with 3 channels, got shape {tuple(input_shape)}.")

    def call(self, images):
        luma = ops.sum(images * ops.cast(LUMA_WEIGHTS, images.dtype), axis=-1, keepdims=True)
        chroma = ops.max(images, axis=-1, keepdims=True) - ops.min(images, axis=-1, keepdims=True)
        return ops.concatenate([luma, chroma], axis=-1)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], 2)
