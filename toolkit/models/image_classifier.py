"""Raw uint8 images → rescaling and augmentation → the shared image encoder → dropout → softmax head."""

from __future__ import annotations

from dataclasses import dataclass

import keras
import numpy as np
import tensorflow as tf

from toolkit.config import ConfigError, option, section
from toolkit.layers import MeanOverMirrorImages, WithMirrorImages
from toolkit.models.classifier import Classifier
from toolkit.models.image_encoder import (
    AugmentationConfig,
    ImageEncoderConfig,
    build_image_encoder,
    image_input_stage,
)
from toolkit.models.raw_inputs import as_image_batch
from toolkit.preprocessing.batch_checks import checked_image_batch


@dataclass
class ImageClassifierConfig:
    """A CNN image classifier."""

    augmentation: AugmentationConfig = section(AugmentationConfig, "Training-only augmentation.")
    encoder: ImageEncoderConfig = section(
        lambda: ImageEncoderConfig(convolutions_per_block=2, output="flatten"),
        "The convolutional trunk, shared with captioning.",
    )
    dense_units: int = option(256, "Units of a ReLU layer before the head; 0 for none.", min=0)
    dropout: float = option(0.3, "Dropout before the head.", min=0.0, max=1.0)
    test_time_flip: bool = option(
        True, "At inference, average the features of each image and of its left-right mirror image (a test-time "
        "augmentation that suits a model trained with horizontal flips); training sees each image once."
    )

    def __post_init__(self):
        if self.encoder.output == "grid":
            raise ConfigError(
                "model.encoder.output: grid keeps the feature map for a decoder that attends over it; a classifier "
                "needs a vector: use flatten, global_average or global_max."
            )
        if self.test_time_flip and "horizontal" not in self.augmentation.flip:
            raise ConfigError(
                f"model.test_time_flip: averages each image with its left-right mirror image, which suits a model "
                f"trained with horizontal flips; model.augmentation.flip is {self.augmentation.flip!r}. Set "
                "model.augmentation.flip to horizontal, or model.test_time_flip to false."
            )


def build_image_backbone(image_shape: tuple[int, ...], config: ImageClassifierConfig) -> keras.Model:
    """uint8 images → a feature vector: layers `rescaling`, `augmentation`, `image_encoder`, `dense` and `dropout`.

    With `config.test_time_flip`, the encoder and dense layer see each image
    and its mirror image at inference, between `with_mirror_images` and
    `mean_over_mirror_images`, and the feature vector is their mean.

    Args:
        image_shape: `(height, width)` for grayscale, or `(height, width, channels)`.
        config: The architecture.
    """
    raw = keras.Input(tuple(image_shape), dtype="uint8", name="images")
    x = image_input_stage(raw, config.augmentation)
    if config.test_time_flip:
        x = WithMirrorImages(name="with_mirror_images")(x)
    x = build_image_encoder(tuple(x.shape[1:]), config.encoder)(x)
    if config.dense_units:
        x = keras.layers.Dense(config.dense_units, activation="relu", name="dense")(x)
    if config.test_time_flip:
        x = MeanOverMirrorImages(name="mean_over_mirror_images")(x)
    x = keras.layers.Dropout(config.dropout, name="dropout")(x)
    return keras.Model(raw, x, name="image_backbone")


@keras.saving.register_keras_serializable(package="toolkit")
class ImageClassifier(Classifier):
    """Classifies uint8 images; rescaling and augmentation are layers of its backbone.

    Its serving signature takes `images`, `[batch, H, W]` for grayscale or
    `[batch, H, W, C]`, and checks their shape in the graph.
    """

    @property
    def image_shape(self) -> tuple[int, ...]:
        """`(height, width)` or `(height, width, channels)` of the images it takes."""
        return tuple(self.backbone.inputs[0].shape[1:])

    def raw_input_spec(self) -> tf.TensorSpec:
        return tf.TensorSpec([None, *self.image_shape], tf.uint8, name="images")

    def checked_inputs(self, raw_inputs: tf.Tensor) -> tf.Tensor:
        return checked_image_batch(raw_inputs, self.image_shape)

    def raw_batch(self, raw_inputs) -> np.ndarray:
        return as_image_batch(raw_inputs, self.image_shape, self.limits.get("max_image_pixels"))
