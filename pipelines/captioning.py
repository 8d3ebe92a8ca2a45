"""Image captioning: CNN encoder → projected h₀, c₀ → LSTM decoder (with or without soft attention), greedy or beam search."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from toolkit import config as config_lib
from toolkit.config import ConfigError, option, section
from toolkit.data.caption_pairs import caption_pairs
from toolkit.data.captions import (
    CaptionDataConfig,
    as_caption_lists,
    load_caption_splits,
)
from toolkit.data.splits import DataSplits, Split, inputs_and_targets
from toolkit.evaluation.captioning import caption_metrics, token_accuracy
from toolkit.evaluation.plots import plot_attention, plot_captions
from toolkit.models.caption_decoding import CaptionDecoder
from toolkit.models.captioner import Captioner, CaptionerConfig, ShowAndTell
from toolkit.models.serving_limits import ImageServingLimits
from toolkit.preprocessing.captions import PADDING_ID, caption_tokenizer
from toolkit.recipes.pipeline import Pipeline
from toolkit.registry import register_pipeline
from toolkit.training import TrainerConfig

# Images of each held-out split shown in `plots/attention.png`.
ATTENTION_PLOT_IMAGES = 3


@dataclass
class DecodingConfig:
    """How captions are generated, in evaluation and in serving."""

    beam_width: int = option(3, "Beam search width; 1 is greedy decoding.", min=1, max=16)
    max_length: int = option(20, "Most words generated per caption, <end> included.", min=1)
    length_penalty: float = option(
        0.7, "Beam scores are log-probability / length ** length_penalty (0: none, 1: per-word mean).", min=0.0, max=2.0
    )
    presence_weight: float = option(
        0.0, "Each word's score gains this times log P(word in the caption | image), from the word-presence head "
        "(needs model.word_presence_loss > 0); 0: none.", min=0.0
    )
    context_weight: float = option(
        1.5, "The head reads [h, context_weight * context]: above 1, the attended part of the image counts for more "
        "against the words before it (needs model.decoder: attention and model.depth: 1; else set 1); 1: as "
        "trained. 1.5 was chosen on the selection split.", min=0.0
    )


@dataclass
class CaptioningConfig:
    """The captioning pipeline's config: `configs/captioning.yaml`."""

    data: CaptionDataConfig = section(CaptionDataConfig, "Image-caption pairs and their split.")
    model: CaptionerConfig = section(CaptionerConfig, "The network.")
    decoding: DecodingConfig = section(DecodingConfig, "Greedy and beam-search decoding.")
    serving: ImageServingLimits = section(ImageServingLimits, "What the serving signature and predict refuse before any work.")
    trainer: TrainerConfig = section(
        lambda: TrainerConfig(
            epochs=30, batch_size=64, learning_rate=2e-3, learning_rate_schedule="cosine", early_stopping_patience=6
        ),
        "Compiling and fitting.",
    )

    def __post_init__(self):
        if self.decoding.presence_weight and not self.model.word_presence_loss:
            raise ConfigError(
                f"'decoding.presence_weight' is {self.decoding.presence_weight}, but 'model.word_presence_loss' is 0: "
                "the bonus comes from the word-presence head, which that loss trains. Set both above 0, or the weight to 0."
            )
        if self.decoding.context_weight != 1.0 and (self.model.decoder != "attention" or self.model.depth != 1):
            raise ConfigError(
                f"'decoding.context_weight' is {self.decoding.context_weight}, but 'model.decoder' is "
                f"{self.model.decoder!r} and 'model.depth' {self.model.depth}: only an attention decoder of depth 1 has "
                "a head that reads the attended context. Set 'decoding.context_weight' to 1."
            )


@register_pipeline
class CaptioningPipeline(Pipeline):
    """Captions images; serves a batch of uint8 images `[batch, H, W, 3]` and returns caption strings.

    Training is teacher-forced: the network sees `<start> w₁ … wₙ` and learns
    `w₁ … wₙ <end>`, with padding masked. Each epoch pairs every training
    image with one of its reference captions, drawn at random.
    """

    name = "captioning"
    config_class = CaptioningConfig
    task_class = Captioner

    def load_data(self, config: CaptioningConfig):
        return load_caption_splits(config.data)

    def build_preprocessor(self, config: CaptioningConfig, data):
        captions = [caption for references in data.train.targets for caption in references]
        return caption_tokenizer(captions, config.data.max_tokens, config.data.max_length)

    def build_task(self, config: CaptioningConfig, data, preprocessor):
        network = ShowAndTell(data.metadata["image_shape"], preprocessor.vocabulary_size(), config.model, name="network")
        decoding = config.decoding
        return Captioner(network, preprocessor, decoding.beam_width, decoding.max_length, decoding.length_penalty,
                         decoding.presence_weight, decoding.context_weight, limits=config_lib.to_dict(config.serving))

    def default_loss(self):
        return keras.losses.SparseCategoricalCrossentropy(ignore_class=PADDING_ID)

    def default_metrics(self):
        # The embedding's mask reaches the metric, so padding is not counted.
        return [keras.metrics.SparseCategoricalAccuracy(name="token_accuracy")]

    def dataset(
        self, split: Split, model, batch_size: int, shuffle: bool, seed: int = 0, cache_limit_mb: float | None = None
    ) -> tf.data.Dataset:
        """Batches of `((images, ids[:-1]), ids[1:])`; training draws one reference per image each epoch.

        Nothing is preprocessed ahead of the network here (captions are
        tokenized once, in memory), so `cache_limit_mb` has nothing to limit.
        """
        return caption_pairs(split, model.preprocessor, batch_size, shuffle, seed)

    def fine_tune_data(self, data, model) -> Split:
        """`(images, captions)`: uint8 images and, per image, a caption or a list of them."""
        images, captions = inputs_and_targets(data, "(images, captions)")
        return Split(model.raw_batch(images), as_caption_lists(captions))

    def evaluate(self, trained, split: Split, plots_dir: Path | None = None, prefix: str = "") -> dict:
        outputs = trained.predict(split.inputs)
        references = [list(image_references) for image_references in split.targets]
        result = {
            "examples": len(references),
            "beam": caption_metrics(references, list(outputs["caption"])),
            "greedy": caption_metrics(references, list(outputs["greedy_caption"])),
            "token_accuracy": token_accuracy(trained.network, caption_pairs(split, trained.preprocessor, 256, shuffle=False)),
            "samples": [
                {"beam": str(outputs["caption"][i]), "greedy": str(outputs["greedy_caption"][i]), "references": references[i]}
                for i in range(min(5, len(references)))
            ],
        }
        if plots_dir is not None:
            plot_captions(split.inputs[:16], list(outputs["caption"][:16]), [r[0] for r in references[:16]],
                          plots_dir / f"{prefix}captions.png")
        return result

    def evaluate_run(self, trained, data: DataSplits, plots_dir: Path | None = None) -> dict:
        """Each held-out split's metrics; with attention, also `attention.png`: a few images of each split, word by word."""
        metrics = super().evaluate_run(trained, data, plots_dir)
        captioner = trained.model
        if plots_dir is not None and captioner.network.attention_grid is not None:
            shown = {name: split.inputs[:ATTENTION_PLOT_IMAGES] for name, split in data.held_out().items()}
            images = np.concatenate(list(shown.values()))
            decoder = CaptionDecoder(captioner.network, captioner.presence_weight, captioner.context_weight)
            beam = decoder.beam_search(images, captioner.max_length, captioner.beam_width, captioner.length_penalty)
            # Words from the ids, not the caption string, which leaves out <unk>: one label per attention map.
            vocabulary = captioner.preprocessor.vocabulary()
            words = [[vocabulary[token] for token in row if token != PADDING_ID] for row in beam.ids.numpy()]
            grid = (-1, captioner.max_length, *captioner.network.attention_grid)
            labels = [name for name, split_images in shown.items() for _ in split_images]
            plot_attention(images, words, np.reshape(beam.attention.numpy(), grid), labels, plots_dir / "attention.png")
        return metrics
