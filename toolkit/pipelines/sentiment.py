"""Sentiment classification: raw review text → Embedding → LSTM stack → positive or negative."""

from __future__ import annotations

from dataclasses import dataclass

import tensorflow as tf

from toolkit.config import section
from toolkit.data.batches import preprocessed_batches
from toolkit.data.splits import Split
from toolkit.data.text import TextDataConfig, labelled_text, load_text_splits
from toolkit.models.classifier import softmax_head
from toolkit.models.text_classifier import TextClassifier, TextClassifierConfig, build_text_backbone
from toolkit.pipelines.classification import ClassifierPipeline
from toolkit.preprocessing.text import text_vectorizer
from toolkit.registry import register_pipeline
from toolkit.training import TrainerConfig

# Reviews are batched with others of similar length (boundaries in tokens), so that
# little time goes into padding.
LENGTH_BUCKETS = (64, 128, 192, 256, 320)


@dataclass
class SentimentConfig:
    """The sentiment pipeline's config: `configs/sentiment.yaml`."""

    data: TextDataConfig = section(TextDataConfig, "Reviews, their split and tokenization.")
    model: TextClassifierConfig = section(TextClassifierConfig, "The network.")
    trainer: TrainerConfig = section(
        lambda: TrainerConfig(epochs=3, early_stopping_patience=1), "Compiling and fitting."
    )


@register_pipeline
class SentimentPipeline(ClassifierPipeline):
    """Many-to-one LSTM over movie reviews; serves a batch of strings."""

    name = "sentiment"
    config_class = SentimentConfig
    task_class = TextClassifier

    def load_data(self, config: SentimentConfig):
        return load_text_splits(config.data)

    def build_preprocessor(self, config: SentimentConfig, data):
        return text_vectorizer(data.train.inputs, config.data.max_tokens, config.data.max_length)

    def build_task(self, config: SentimentConfig, data, preprocessor):
        class_names = data.metadata["class_names"]
        backbone = build_text_backbone(preprocessor.vocabulary_size(), config.model)
        return TextClassifier(backbone, softmax_head(len(class_names)), class_names, preprocessor)

    def dataset(self, split: Split, model, batch_size: int, shuffle: bool, seed: int = 0) -> tf.data.Dataset:
        return preprocessed_batches(split, model.preprocessor, batch_size, shuffle, seed, length_buckets=LENGTH_BUCKETS)

    def fine_tune_data(self, data, model) -> Split:
        return labelled_text(data, model.class_names)
