"""Image classification: raw uint8 images → rescaling, augmentation → CNN encoder → softmax over classes."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from toolkit.config import section
from toolkit.data.images import ImageDataConfig, load_image_splits
from toolkit.data.splits import Split
from toolkit.evaluation.plots import plot_misclassified
from toolkit.models.classical import ClassicalBaseline, FittedBaseline, image_baseline
from toolkit.models.classifier import softmax_head
from toolkit.models.image_classifier import (
    ImageClassifier,
    ImageClassifierConfig,
    build_image_backbone,
)
from toolkit.pipelines.classification import ClassifierPipeline
from toolkit.registry import register_pipeline
from toolkit.training import TrainerConfig


@dataclass
class ImageClassificationConfig:
    """The image classification pipeline's config: `configs/image_classification.yaml`."""

    data: ImageDataConfig = section(ImageDataConfig, "Images, their classes and split.")
    model: ImageClassifierConfig = section(ImageClassifierConfig, "The network.")
    trainer: TrainerConfig = section(
        lambda: TrainerConfig(
            epochs=12, batch_size=128, learning_rate=3e-3, learning_rate_schedule="cosine", early_stopping_patience=None
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
        return ImageClassifier(backbone, softmax_head(len(class_names)), class_names)

    def baseline(self) -> ClassicalBaseline:
        return image_baseline()

    def evaluate(
        self, task, split: Split, plots_dir: Path | None = None, prefix: str = "", baseline: FittedBaseline | None = None
    ) -> dict:
        result, predictions = self.classification_report(task, split, plots_dir, prefix, baseline)
        if plots_dir is not None:
            plot_misclassified(
                split.inputs, split.targets, predictions, task.model.class_names, plots_dir / f"{prefix}misclassified.png"
            )
        return result
