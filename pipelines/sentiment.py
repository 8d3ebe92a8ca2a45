"""Sentiment classification: raw review text → Embedding → LSTM stack → positive or negative."""

from __future__ import annotations

from dataclasses import dataclass

import tensorflow as tf

from toolkit.classifier import ClassifierPipeline
from toolkit.config import section
from toolkit.data.text import (
    TextDataConfig,
    as_text_array,
    labelled_text,
    load_text_splits,
)
from toolkit.models.text_classifier import TextClassifierConfig, build_text_classifier
from toolkit.pipeline import Split
from toolkit.preprocessing.text import text_vectorizer
from toolkit.registry import register_pipeline
from toolkit.training import TrainerConfig


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
    length_buckets = (64, 128, 192, 256, 320)

    def raw_input_spec(self, metadata):
        return tf.TensorSpec([None], tf.string, name="text")

    def load_data(self, config: SentimentConfig):
        return load_text_splits(config.data)

    def build_preprocessor(self, config: SentimentConfig, data):
        return text_vectorizer(data.train.inputs, config.data.max_tokens, config.data.max_length)

    def build_network(self, config: SentimentConfig, data, preprocessor):
        return build_text_classifier(preprocessor.vocabulary_size(), len(data.metadata["class_names"]), config.model)

    def coerce_raw_inputs(self, raw_inputs, metadata):
        return as_text_array(raw_inputs)

    def fine_tune_data(self, data, metadata) -> Split:
        return labelled_text(data, metadata["class_names"])
