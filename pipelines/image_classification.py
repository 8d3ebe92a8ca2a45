"""Image classification: raw uint8 images → rescaling, augmentation → CNN encoder → softmax over classes."""

from __future__ import annotations

from dataclasses import dataclass

import tensorflow as tf

from toolkit.classifier import ClassifierPipeline
from toolkit.config import section
from toolkit.data.images import ImageDataConfig, as_image_batch, load_image_splits
from toolkit.evaluation.plots import plot_misclassified
from toolkit.models.image_classifier import (
    ImageClassifierConfig,
    build_image_classifier,
)
from toolkit.preprocessing.images import checked_image_batch
from toolkit.registry import register_pipeline
from toolkit.training import TrainerConfig


@dataclass
class ImageClassificationConfig:
    """The image classification pipeline's config: `configs/image_classification.yaml`."""

    data: ImageDataConfig = section(ImageDataConfig, "Images, their classes and split.")
    model: ImageClassifierConfig = section(ImageClassifierConfig, "The network.")
    trainer: TrainerConfig = section(
        lambda: TrainerConfig(
            epochs=10, batch_size=128, learning_rate=3e-3, learning_rate_schedule="cosine", early_stopping_patience=3
        ),
        "Compiling and fitting.",
    )


@register_pipeline
class ImageClassificationPipeline(ClassifierPipeline):
    """A CNN over images; serves a batch of uint8 images, `[batch, H, W]` for grayscale or `[batch, H, W, C]`."""

    name = "image_classification"
    config_class = ImageClassificationConfig

    def raw_input_spec(self, metadata):
        return tf.TensorSpec([None, *metadata["image_shape"]], tf.uint8, name="images")

    def load_data(self, config: ImageClassificationConfig):
        return load_image_splits(config.data)

    def build_network(self, config: ImageClassificationConfig, data, preprocessor):
        return build_image_classifier(data.metadata["image_shape"], len(data.metadata["class_names"]), config.model)

    def serving_outputs(self, model, raw_inputs, metadata):
        return super().serving_outputs(model, checked_image_batch(raw_inputs, metadata["image_shape"]), metadata)

    def coerce_raw_inputs(self, raw_inputs, metadata):
        return as_image_batch(raw_inputs, metadata["image_shape"])

    def plot_examples(self, split, predictions, class_names, plots_dir, prefix):
        plot_misclassified(split.inputs, split.targets, predictions, class_names, plots_dir / f"{prefix}misclassified.png")
