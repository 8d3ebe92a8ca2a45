"""Raw uint8 images → rescaling and augmentation → the shared image encoder → dropout → softmax head."""

from __future__ import annotations

from dataclasses import dataclass

import keras

from toolkit.config import option, section
from toolkit.models.image_encoder import (
    AugmentationConfig,
    ImageEncoderConfig,
    build_image_encoder,
    image_input_stage,
)


@dataclass
class ImageClassifierConfig:
    """A CNN image classifier."""

    augmentation: AugmentationConfig = section(AugmentationConfig, "Training-only augmentation.")
    encoder: ImageEncoderConfig = section(ImageEncoderConfig, "The convolutional trunk, shared with captioning.")
    dense_units: int = option(128, "Units of a ReLU layer before the head; 0 for none.", min=0)
    dropout: float = option(0.3, "Dropout before the head.", min=0.0, max=1.0)


def build_image_classifier(image_shape: tuple[int, ...], num_classes: int, config: ImageClassifierConfig) -> keras.Model:
    """Builds the network: layers `rescaling`, `augmentation`, `image_encoder`, `dense`, `dropout`, `head`.

    Args:
        image_shape: `(height, width)` for grayscale, or `(height, width, channels)`.
        num_classes: Size of the softmax head.
        config: The architecture.
    """
    raw = keras.Input(tuple(image_shape), dtype="uint8", name="images")
    x = image_input_stage(raw, config.augmentation)
    x = build_image_encoder(tuple(x.shape[1:]), config.encoder)(x)
    if config.dense_units:
        x = keras.layers.Dense(config.dense_units, activation="relu", name="dense")(x)
    x = keras.layers.Dropout(config.dropout, name="dropout")(x)
    probabilities = keras.layers.Dense(num_classes, activation="softmax", name="head")(x)
    return keras.Model(raw, probabilities, name="network")
