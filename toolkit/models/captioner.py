"""Captioners: image encoder → projected initial states → Embedding → LSTM decoder → softmax, with or without soft attention."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Literal

import keras
import numpy as np
import tensorflow as tf

from toolkit import config as config_lib
from toolkit.config import ConfigError, option, section
from toolkit.config_upgrades import upgrade_config
from toolkit.layers import (
    LSTM,
    AttentionLSTMCell,
    GridPositionEmbedding,
    ProjectedInitialState,
    WordDropout,
    WordPresenceLoss,
)
from toolkit.models.caption_decoding import CaptionDecoder, check_context_weight, check_presence_weight
from toolkit.models.image_encoder import (
    AugmentationConfig,
    ImageEncoderConfig,
    build_image_encoder,
    image_input_stage,
)
from toolkit.models.raw_inputs import as_image_batch
from toolkit.models.task import TaskModel
from toolkit.preprocessing.batch_checks import checked_image_batch
from toolkit.preprocessing.captions import NOT_WORD_IDS, PADDING_ID, START_ID, UNKNOWN_ID


@dataclass
class CaptionerConfig:
    """A CNN encoder whose features start an LSTM decoder, which may also attend over the encoder's grid."""

    decoder: Literal["init_state", "attention"] = option(
        "attention",
        "init_state: the image only sets the decoder's initial state (Show and Tell); attention: it also does, and "
        "at every step an additive attention over the encoder's grid gives a context that enters the LSTM beside "
        "the word (Show, Attend and Tell). attention needs model.encoder.output: grid. init_state needs output: "
        "flatten, decoding.context_weight: 1 and, measured, a fourth block (encoder.filters [16, 32, 64, 64]): the "
        "8x8 grid of three blocks, flattened, never reached its initial state (token accuracy stayed at 0.58).",
    )

    augmentation: AugmentationConfig = section(
        lambda: AugmentationConfig(flip="none"),
        "Training-only augmentation. Flips and rotations would contradict captions that say left, right, above, "
        "below. Grey images (grayscale) would hide the hue the colour stream reports, and leave the caption's "
        "colours to be guessed from the kinds.",
    )
    encoder: ImageEncoderConfig = section(
        lambda: ImageEncoderConfig(filters=[16, 32, 64], batch_norm=False, output="grid", colour="separate"),
        "The image encoder shared with image classification; its grid (8x8 for 64x64 images) keeps where things "
        "are, for the attention decoder (init_state takes output: flatten). colour: separate keeps hue out of the "
        "conv blocks, so that a kind is told by its outline whatever its colour: the attended context names the "
        "kind of an unseen colour-kind pair 93-94 % of the time, against 28 % with colour: mixed. Without batch "
        "norm: its moving statistics lagged the fast-changing early training here, and captions at inference "
        "ignored the image (token accuracy 0.35 at inference against 0.71 in training mode).",
    )
    feature_dropout: float = option(0.2, "Dropout on the image features before the bridge.", min=0.0, max=0.9)
    embedding_dim: int = option(64, "Size of each word's embedding.", min=1)
    units: int = option(256, "Units of each decoder LSTM layer.", min=1)
    depth: int = option(1, "Stacked decoder LSTM layers; each gets its own projected initial state.", min=1, max=4)
    dropout: float = option(0.1, "Dropout on the decoder's outputs before the head.", min=0.0, max=0.9)
    attention_units: int = option(64, "attention: size of the attention's keys and query.", min=1)
    word_dropout: float = option(
        0.6, "In training, each input word (not <start>) is replaced by <unk> with this probability.", min=0.0, max=0.9
    )
    word_presence_loss: float = option(
        0.0, "Weight of an auxiliary loss: from the image alone, which words its caption uses (one yes-or-no "
        "question per word); 0: none. Off: with encoder.colour separate it cost the selection split's unseen "
        "pairs 0.05 BLEU-4 (its linear read-out learns which kinds each colour comes with).", min=0.0
    )

    def __post_init__(self):
        if (self.decoder == "attention") != (self.encoder.output == "grid"):
            raise ConfigError(
                f"'model.decoder' is {self.decoder!r} and 'model.encoder.output' is {self.encoder.output!r}: the "
                "attention decoder needs the encoder's grid (output: grid), and only it can use one. Set both, or neither."
            )


@keras.saving.register_keras_serializable(package="toolkit")
class ShowAndTell(keras.Model):
    """The teacher-forced captioning network: `[images, caption ids]` → next-token probabilities.

    Layers: the shared image encoder, `feature_norm`, a
    `ProjectedInitialState` giving every decoder layer its `h₀, c₀`,
    `WordDropout`, an `Embedding(mask_zero=True)` (so padding is masked
    through the LSTM into the loss and metrics), the decoder `LSTM`s,
    dropout and a softmax head.

    With `decoder: attention` (Show, Attend and Tell), the encoder's grid,
    plus a learned embedding of each position, is the memory; the initial
    states are projected from all of it, and the first decoder layer is an
    `RNN` of an `AttentionLSTMCell`, whose output `[h, context]` the layer
    above (or, with `depth` 1, the head) reads.

    Decoding one word at a time uses its parts, kept as attributes:
    `state_encoder` (images → every decoder layer's initial states:
    `[h, c]`, and for the attention layer also its memory and keys),
    `embedding`, `decoder_layers` (bottom first) and `head`;
    `attention_grid`, the `(rows, columns)` attended over (`None` without
    attention); and `word_presence` (images → each word's logit of being in
    the caption; `None` without `word_presence_loss`).

    Args:
        image_shape: `(height, width, channels)` of the uint8 images.
        vocabulary_size: Number of token ids.
        architecture: A `CaptionerConfig`, or its dict.
        **kwargs: Base model keyword arguments, such as `name`.
    """

    def __init__(
        self,
        image_shape: tuple[int, ...],
        vocabulary_size: int,
        architecture: CaptionerConfig | dict | None = None,
        **kwargs,
    ):
        if not isinstance(architecture, CaptionerConfig):
            architecture = config_lib.from_dict(CaptionerConfig, architecture)
        images = keras.Input(tuple(image_shape), dtype="uint8", name="images")
        caption_ids = keras.Input((None,), dtype="int64", name="caption_ids")
        x = image_input_stage(images, architecture.augmentation)
        features = build_image_encoder(tuple(x.shape[1:]), architecture.encoder)(x)
        attention = architecture.decoder == "attention"
        if attention:
            _, height, width, channels = features.shape
            memory = keras.layers.Reshape((height * width, channels), name="memory_grid")(features)
            memory = GridPositionEmbedding(name="grid_positions")(memory)
            memory = keras.layers.LayerNormalization(name="memory_norm")(memory)
            features = keras.layers.Flatten(name="memory_flat")(memory)
            keys = keras.layers.Dense(architecture.attention_units, use_bias=False, name="attention_keys")(memory)
            attended = [features, keras.layers.Flatten(name="keys_flat")(keys)]
            # Max over the grid: whether a word's attribute is anywhere in the image, wherever it is.
            pooled = keras.layers.GlobalMaxPooling1D(name="memory_max")(memory)
        else:
            pooled = features
        # Unnormalized ReLU features drive the tanh projections into saturation, where the
        # initial states barely differ between images and the decoder learns to ignore them.
        features = keras.layers.LayerNormalization(name="feature_norm")(features)
        features = keras.layers.Dropout(architecture.feature_dropout, name="feature_dropout")(features)
        units = architecture.units
        states = ProjectedInitialState([units] * (2 * architecture.depth), name="initial_state")(features)
        layer_states = [states[2 * index : 2 * index + 2] for index in range(architecture.depth)]
        if attention:
            layer_states[0] = layer_states[0] + attended
        self.embedding = keras.layers.Embedding(vocabulary_size, architecture.embedding_dim, mask_zero=True, name="embedding")
        words = WordDropout(architecture.word_dropout, UNKNOWN_ID, keep_ids=(PADDING_ID, START_ID), name="word_dropout")
        sequence = self.embedding(words(caption_ids))
        presence_logits = None
        if architecture.word_presence_loss:
            presence = WordPresenceLoss(vocabulary_size, architecture.word_presence_loss, NOT_WORD_IDS,
                                        name="word_presence")
            sequence = presence([sequence, pooled, caption_ids])
            presence_logits = presence.presence(pooled)
        self.decoder_layers = []
        for index in range(architecture.depth):
            if attention and index == 0:
                cell = AttentionLSTMCell(units, height * width, channels, architecture.attention_units, name="attention_cell")
                decoder = keras.layers.RNN(cell, return_sequences=True, name=f"decoder_{index + 1}")
            else:
                decoder = LSTM(units, return_sequences=True, name=f"decoder_{index + 1}")
            sequence = decoder(sequence, initial_state=layer_states[index])
            self.decoder_layers.append(decoder)
        sequence = keras.layers.Dropout(architecture.dropout, name="decoder_dropout")(sequence)
        self.head = keras.layers.Dense(vocabulary_size, activation="softmax", name="head")
        super().__init__(inputs=[images, caption_ids], outputs=self.head(sequence), **kwargs)
        states = [state for layer in layer_states for state in layer]
        self.state_encoder = keras.Model(images, states, name="state_encoder")
        self.word_presence = None if presence_logits is None else keras.Model(images, presence_logits, name="presence")
        self.attention_grid = (height, width) if attention else None
        self.image_shape = tuple(int(size) for size in image_shape)
        self.vocabulary_size = int(vocabulary_size)
        self.architecture = architecture

    def get_config(self) -> dict:
        return {
            "name": self.name,
            "image_shape": list(self.image_shape),
            "vocabulary_size": self.vocabulary_size,
            "architecture": dataclasses.asdict(self.architecture),
        }

    @classmethod
    def from_config(cls, config: dict) -> ShowAndTell:
        if isinstance(config.get("architecture"), dict):
            # Saved by an earlier release, it may lack settings added since: each gets the value that release had.
            upgraded = upgrade_config("captioning", {"model": config["architecture"]}, schema=None)
            config = {**config, "architecture": upgraded["model"]}
        return cls(**config)


@keras.saving.register_keras_serializable(package="toolkit")
class Captioner(TaskModel):
    """Captions images: a `ShowAndTell` network, its `CaptionTokenizer`, and how to decode.

    Its graph is teacher-forced, `[images, caption strings]` → next-token
    probabilities, so that it trains on raw pairs. `serve` takes `images`
    (uint8 `[batch, H, W, C]`) and returns `caption` (beam search) with its
    `log_probability`, and `greedy_caption` with `greedy_log_probability`;
    both searches run in TensorFlow ops, inside the exported graph. With the
    attention decoder it also returns `attention` and `greedy_attention`:
    float `[batch, max_length, rows, columns]`, the weights over the
    encoder's grid with which each word was chosen (zeros after `<end>`).

    Args:
        network: A `ShowAndTell`.
        preprocessor: A `CaptionTokenizer` adapted on the training captions.
        beam_width: Beam search width; 1 is greedy decoding.
        max_length: Most words generated per caption, `<end>` included.
        length_penalty: Beam scores are log-probability / length ** length_penalty.
        presence_weight: Weight of the word-presence head's log-probabilities
            added to each word's score (see `CaptionDecoder`); 0 for none.
        context_weight: Scale of the attended context's term in the head's
            logits (see `CaptionDecoder`); 1 for none.
        **kwargs: Base model keyword arguments, such as `name`.
    """

    def __init__(
        self,
        network: ShowAndTell,
        preprocessor: keras.layers.Layer,
        beam_width: int = 3,
        max_length: int = 20,
        length_penalty: float = 0.7,
        presence_weight: float = 0.0,
        context_weight: float = 1.0,
        **kwargs,
    ):
        self.beam_width = int(beam_width)
        self.max_length = int(max_length)
        self.length_penalty = float(length_penalty)
        self.presence_weight = float(presence_weight)
        self.context_weight = float(context_weight)
        check_presence_weight(network, self.presence_weight)
        check_context_weight(network, self.context_weight)
        images = keras.Input(network.image_shape, dtype="uint8", name="images")
        captions = keras.Input((), dtype="string", name="captions")
        ids = preprocessor(captions)
        outputs = network([images, ids[:, :-1]])
        super().__init__(network, preprocessor, inputs=[images, captions], outputs=outputs, **kwargs)

    def raw_input_spec(self) -> tf.TensorSpec:
        return tf.TensorSpec([None, *self.network.image_shape], tf.uint8, name="images")

    def checked_inputs(self, raw_inputs: tf.Tensor) -> tf.Tensor:
        return checked_image_batch(raw_inputs, self.network.image_shape)

    def serving_outputs(self, raw_inputs: tf.Tensor) -> dict[str, tf.Tensor]:
        decoder = CaptionDecoder(self.network, self.presence_weight, self.context_weight)
        greedy = decoder.greedy(raw_inputs, self.max_length)
        beam = decoder.beam_search(raw_inputs, self.max_length, self.beam_width, self.length_penalty)
        outputs = {
            "caption": self.preprocessor.detokenize(beam.ids),
            "log_probability": beam.log_probability,
            "greedy_caption": self.preprocessor.detokenize(greedy.ids),
            "greedy_log_probability": greedy.log_probability,
        }
        if decoder.attention_cell is not None:
            grid = self.network.attention_grid
            outputs["attention"] = tf.reshape(beam.attention, [-1, self.max_length, *grid])
            outputs["greedy_attention"] = tf.reshape(greedy.attention, [-1, self.max_length, *grid])
        return outputs

    def raw_batch(self, raw_inputs) -> np.ndarray:
        return as_image_batch(raw_inputs, self.network.image_shape, self.limits.get("max_image_pixels"))

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "beam_width": self.beam_width,
            "max_length": self.max_length,
            "length_penalty": self.length_penalty,
            "presence_weight": self.presence_weight,
            "context_weight": self.context_weight,
        }
