"""Image classification: raw uint8 images → rescaling, augmentation → CNN encoder → softmax over classes."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import tensorflow as tf

from toolkit import config as config_lib
from toolkit.baselines.classical import ClassicalBaseline, FittedBaseline, image_baseline
from toolkit.config import section
from toolkit.data.batches import preprocessed_batches
from toolkit.data.images import ImageDataConfig, ImageFiles, in_memory, load_image_splits
from toolkit.data.splits import DataSplits, Split
from toolkit.evaluation.plots import plot_misclassified
from toolkit.models.classifier import softmax_head
from toolkit.models.image_classifier import (
    ImageClassifier,
    ImageClassifierConfig,
    build_image_backbone,
)
from toolkit.models.serving_limits import ImageServingLimits
from toolkit.recipes.classification import ClassifierPipeline
from toolkit.registry import register_pipeline
from toolkit.training import TrainerConfig

# A baseline fitted on images read from files sees at most this many (a seeded sample): scikit-learn
# fits in memory, and a classical model gains little from more.
BASELINE_IMAGES = 20_000


@dataclass
class ImageClassificationConfig:
    """The image classification pipeline's config: `configs/image_classification.yaml`."""

    data: ImageDataConfig = section(
        lambda: ImageDataConfig(validation_fraction=0.02),
        "Images, their classes and split; 2 % of Fashion-MNIST's training images (1,200) are enough to watch the "
        "fit, and the rest train.",
    )
    model: ImageClassifierConfig = section(ImageClassifierConfig, "The network.")
    serving: ImageServingLimits = section(ImageServingLimits, "What the serving signature and predict refuse before any work.")
    trainer: TrainerConfig = section(
        lambda: TrainerConfig(
            epochs=12, batch_size=128, learning_rate=3e-3, learning_rate_schedule="cosine", label_smoothing=0.1,
            early_stopping_patience=None,
        ),
        "Compiling and fitting; the cosine schedule's last epochs gain most, so early stopping is off.",
    )


@register_pipeline
class ImageClassificationPipeline(ClassifierPipeline):
    """A CNN over images; serves a batch of uint8 images, `[batch, H, W]` for grayscale or `[batch, H, W, C]`."""

    name = "image_classification"
    config_class = ImageClassificationConfig
    task_class = ImageClassifier

    def load_data(self, config: ImageClassificationConfig):
        return load_image_splits(config.data)

    def build_task(self, config: ImageClassificationConfig, data, preprocessor):
        class_names = data.metadata["class_names"]
        backbone = build_image_backbone(data.metadata["image_shape"], config.model)
        limits = config_lib.to_dict(config.serving)
        return ImageClassifier(backbone, softmax_head(len(class_names)), class_names, limits=limits)

    def baseline(self) -> ClassicalBaseline:
        return image_baseline()

    def dataset(
        self, split: Split, model, batch_size: int, shuffle: bool, seed: int = 0, cache_limit_mb: float | None = None
    ) -> tf.data.Dataset:
        """Batches of images and labels; images in files are read from disk as they stream, and kept if they fit the cache."""
        read = split.inputs.read if isinstance(split.inputs, ImageFiles) else None
        return preprocessed_batches(split, read, batch_size, shuffle, seed, cache_limit_mb=cache_limit_mb)

    def evaluate_run(self, trained, data: DataSplits, plots_dir: Path | None = None) -> dict:
        """As for any classifier; from image files, the baseline is fitted on at most `BASELINE_IMAGES` training images."""
        baseline_data = dataclasses.replace(
            data, train=in_memory(data.train, BASELINE_IMAGES), validation=in_memory(data.validation, BASELINE_IMAGES)
        )
        return super().evaluate_run(trained, baseline_data, plots_dir)

    def evaluate(
        self, trained, split: Split, plots_dir: Path | None = None, prefix: str = "", baseline: FittedBaseline | None = None
    ) -> dict:
        split = in_memory(split)
        result, predictions = self.classification_report(trained, split, plots_dir, prefix, baseline)
        if plots_dir is not None:
            plot_misclassified(
                split.inputs, split.targets, predictions, trained.model.class_names, plots_dir / f"{prefix}misclassified.png"
            )
        return result
