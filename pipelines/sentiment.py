"""Sentiment classification: raw review text → Embedding → LSTM stack (beside a bag of n-grams) → positive or negative."""

from __future__ import annotations

from dataclasses import dataclass

import tensorflow as tf

from toolkit import config as config_lib
from toolkit.baselines.classical import ClassicalBaseline, text_baseline
from toolkit.config import section
from toolkit.data.batches import preprocessed_batches
from toolkit.data.splits import Split
from toolkit.data.text import TextDataConfig, labelled_text, load_text_splits
from toolkit.models.serving_limits import TextServingLimits
from toolkit.models.text_classifier import (
    TextClassifier,
    TextClassifierConfig,
    build_text_classifier,
    text_preprocessor,
)
from toolkit.preprocessing.text import word_count
from toolkit.recipes.classification import ClassifierPipeline
from toolkit.registry import register_pipeline
from toolkit.training import TrainerConfig

# Reviews are batched with others of similar length (boundaries in words), so that
# little time goes into padding; at the default max_length, reviews cut to 400 words
# make the last bucket.
LENGTH_BUCKETS = (64, 128, 192, 256, 320, 400)


@dataclass
class SentimentConfig:
    """The sentiment pipeline's config: `configs/sentiment.yaml`."""

    data: TextDataConfig = section(TextDataConfig, "Reviews, their split and tokenization.")
    model: TextClassifierConfig = section(TextClassifierConfig, "The network.")
    serving: TextServingLimits = section(TextServingLimits, "What the serving signature refuses before any work.")
    trainer: TrainerConfig = section(
        lambda: TrainerConfig(epochs=8, optimizer="adamw", learning_rate=2e-3, weight_decay=1e-4, early_stopping_patience=2),
        "Compiling and fitting; each branch is fitted with these settings.",
    )


@register_pipeline
class SentimentPipeline(ClassifierPipeline):
    """Many-to-one LSTM over movie reviews; serves a batch of strings."""

    name = "sentiment"
    config_class = SentimentConfig
    task_class = TextClassifier

    def baseline(self) -> ClassicalBaseline:
        return text_baseline()

    def load_data(self, config: SentimentConfig):
        return load_text_splits(config.data)

    def build_preprocessor(self, config: SentimentConfig, data):
        return text_preprocessor(data.train.inputs, config.data.max_tokens, config.data.max_length, config.model)

    def build_task(self, config: SentimentConfig, data, preprocessor):
        return build_text_classifier(
            preprocessor, config.model, data.metadata["class_names"], limits=config_lib.to_dict(config.serving)
        )

    def dataset(
        self, split: Split, model, batch_size: int, shuffle: bool, seed: int = 0, cache_limit_mb: float | None = None
    ) -> tf.data.Dataset:
        return preprocessed_batches(
            split, model.preprocessor, batch_size, shuffle, seed, LENGTH_BUCKETS, length_of=word_count, cache_limit_mb=cache_limit_mb
        )

    def fine_tune_data(self, data, model) -> Split:
        return labelled_text(data, model.class_names)
