"""Text generation: a character-level LSTM language model trained with truncated BPTT, beside a Kneser–Ney n-gram model."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import keras
import tensorflow as tf

from toolkit import config as config_lib
from toolkit import progress
from toolkit.baselines.ngram import KneserNeyNGrams
from toolkit.config import ConfigError, option, section
from toolkit.data.splits import DataSplits, Split
from toolkit.data.text_stream import TextStream, TextStreamConfig, as_text_stream, load_text_stream
from toolkit.evaluation import language_model
from toolkit.models.serving_limits import GenerationServingLimits
from toolkit.models.text_generator import (
    CharLanguageModel,
    CharLanguageModelConfig,
    TextGenerator,
    bits_per_character,
    text_vectorizer,
)
from toolkit.recipes.pipeline import Pipeline
from toolkit.registry import register_pipeline
from toolkit.training import TrainerConfig


@dataclass
class GenerationConfig:
    """How the served model samples, and the samples a run writes into its metrics."""

    length: int = option(300, "Characters generated per prompt by `serve` and `toolkit predict`.", min=0, max=10_000)
    temperature: float = option(0.8, "Sampling temperature of `serve` (0: always the most likely character).", min=0.0)
    top_k: int = option(0, "Sample among the k most likely characters (0: all).", min=0)
    sample_prompts: list[str] = option(["", "This movie was", "The acting"], "Prompts of the run's samples.")
    sample_temperatures: list[float] = option([0.5, 0.8, 1.0], "Temperatures of the run's samples.")
    sample_length: int = option(200, "Characters per sample.", min=1, max=10_000)


@dataclass
class TextGenerationConfig:
    """The text generation pipeline's config: `configs/text_generation.yaml`."""

    data: TextStreamConfig = section(TextStreamConfig, "The text stream and its contiguous split.")
    model: CharLanguageModelConfig = section(CharLanguageModelConfig, "The network.")
    generation: GenerationConfig = section(GenerationConfig, "Sampling.")
    baseline_orders: list[int] = option(
        [5, 6, 7, 8], "Orders n of the Kneser–Ney character n-gram baseline; the best on the validation text is kept."
    )
    serving: GenerationServingLimits = section(GenerationServingLimits, "What the serving signature refuses before any work.")
    trainer: TrainerConfig = section(
        lambda: TrainerConfig(
            epochs=6, batch_size=64, learning_rate=3e-3, truncated_bptt=50, early_stopping_patience=2,
            learning_rate_schedule="cosine",
        ),
        "Compiling and fitting: batch_size streams of text, trained in chunks of truncated_bptt characters.",
    )

    def __post_init__(self):
        if not self.baseline_orders or min(self.baseline_orders) < 1:
            raise ConfigError(f"baseline_orders: give one or more orders n of at least 1, got {self.baseline_orders}.")
        too_long = [order for order in self.baseline_orders if float(self.data.max_vocabulary) ** order >= 2**62]
        if too_long:
            raise ConfigError(
                f"baseline_orders: {too_long[0]}-grams over data.max_vocabulary={self.data.max_vocabulary} characters do "
                "not fit one 64-bit code each; give lower orders or a smaller vocabulary."
            )
        if min(self.generation.sample_temperatures, default=0.0) < 0:
            raise ConfigError(f"generation.sample_temperatures: expected 0 or more, got {self.generation.sample_temperatures}.")
        if self.generation.length > self.serving.max_generate_length:
            raise ConfigError(
                f"generation.length: {self.generation.length} characters, more than serving.max_generate_length "
                f"({self.serving.max_generate_length}) lets one call generate; lower it or raise the limit."
            )
        if self.trainer.truncated_bptt is None:
            raise ConfigError(
                "trainer.truncated_bptt: text_generation reads each stream of text whole, tens of thousands of characters; "
                "give a chunk length (50 by default) rather than null."
            )


@register_pipeline
class TextGenerationPipeline(Pipeline):
    """Learns to continue text one character at a time; serves prompts → generated text.

    The training text is read as `trainer.batch_size` contiguous streams,
    side by side, and fitted with truncated BPTT: each update sees the next
    `trainer.truncated_bptt` characters of every stream, starting from the
    state the previous chunk ended in. Each run also fits a Kneser–Ney
    n-gram model on the training text (its order chosen on the validation
    text) and reports both models' bits per character on the same test
    characters, with a verdict, and samples at several temperatures.
    """

    name = "text_generation"
    config_class = TextGenerationConfig
    task_class = TextGenerator

    def load_data(self, config: TextGenerationConfig) -> DataSplits:
        return load_text_stream(config.data)

    def build_preprocessor(self, config: TextGenerationConfig, data: DataSplits):
        return text_vectorizer(data.train.text, config.data.max_vocabulary)

    def build_task(self, config: TextGenerationConfig, data: DataSplits, preprocessor) -> TextGenerator:
        network = CharLanguageModel(preprocessor.vocabulary_size(), config.model)
        generation = config.generation
        return TextGenerator(
            network, preprocessor, generation.length, generation.temperature, generation.top_k,
            limits=config_lib.to_dict(config.serving),
        )

    def default_loss(self):
        return keras.losses.SparseCategoricalCrossentropy(from_logits=True)

    def default_metrics(self) -> list:
        return [keras.metrics.MeanMetricWrapper(bits_per_character, name="bits_per_character")]

    def dataset(
        self, split: Split, model: TextGenerator, batch_size: int, shuffle: bool, seed: int = 0, cache_limit_mb: float | None = None
    ) -> tf.data.Dataset:
        """The text as `batch_size` contiguous streams side by side: one batch `(streams, length)` of inputs and next characters.

        Truncated BPTT (`trainer.truncated_bptt`) cuts it into chunks; the
        streams are read in order every epoch, so `shuffle` has nothing to do.
        """
        inputs, targets = language_model.as_streams(model.character_ids(split.text), batch_size)
        return tf.data.Dataset.from_tensors((inputs, targets))

    def fine_tune_data(self, data, model: TextGenerator) -> TextStream:
        """A `.txt` file, a folder of them, a string or a list of strings; the end of the text is held out."""
        return as_text_stream(data)

    def evaluate_run(self, trained, data: DataSplits, plots_dir: Path | None = None) -> dict:
        """Test bits per character beside the n-gram baseline fitted on the training text; and samples."""
        config = trained.config
        with progress.step("text_generation: fitting the Kneser–Ney baseline on the training text"):
            baseline, validation_scores = language_model.fit_ngram_baseline(
                trained.model.character_ids(data.train.text),
                trained.model.character_ids(data.validation.text),
                trained.model.network.vocabulary_size,
                config.baseline_orders,
            )
        metrics = {name: self.evaluate(trained, split, plots_dir, baseline=baseline) for name, split in data.held_out().items()}
        metrics["test"]["baseline"] = {
            "name": f"interpolated Kneser–Ney {baseline.order}-gram",
            "fitted_on": "the training text",
            "validation_bits_per_character_by_order": validation_scores,
        }
        generation = config.generation
        metrics["samples"] = {
            f"temperature {temperature:g}": dict(
                zip(
                    generation.sample_prompts,
                    trained.model.generate(generation.sample_prompts, generation.sample_length, temperature, generation.top_k),
                )
            )
            for temperature in generation.sample_temperatures
        }
        return metrics

    def evaluate(
        self, trained, split: Split, plots_dir: Path | None = None, prefix: str = "", baseline: KneserNeyNGrams | None = None
    ) -> dict:
        """Bits per character on `split`'s text; with a fitted n-gram `baseline`, both on the same characters and a verdict."""
        return language_model.report(trained.network, trained.model.character_ids(as_text_stream(split).text), baseline)

