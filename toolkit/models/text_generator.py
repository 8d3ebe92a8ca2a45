"""A character-level LSTM language model, and the task that serves it: prompts in, generated text out, sampled in the graph."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from toolkit import config as config_lib
from toolkit.config import option
from toolkit.config_upgrades import upgrade_config
from toolkit.errors import InputTypeError
from toolkit.io.text_files import DOCUMENT_SEPARATOR
from toolkit.layers import LSTM
from toolkit.models.task import TaskModel
from toolkit.models.token_step import TokenStep
from toolkit.preprocessing.batch_checks import checked_text_lengths

# Padding and the one id of every character outside the vocabulary are never generated.
NEVER_GENERATED = (0, 1)
# The most characters one call generates: a bound on the loop in the graph.
MAX_GENERATED = 10_000


@dataclass
class CharLanguageModelConfig:
    """Embedding → stacked LSTMs → logits over the characters."""

    embedding_dim: int = option(32, "Size of each character's embedding.", min=1)
    units: int = option(512, "Units of each LSTM layer.", min=1)
    depth: int = option(1, "Stacked LSTM layers.", min=1, max=4)
    dropout: float = option(
        0.0, "Dropout on each LSTM layer's outputs. The default run sees each character about 6 times and underfits; "
        "dropout 0.1 cost it 0.2 bits per character after 2 epochs.", min=0.0, max=0.9
    )


# A long text is split into pieces of this many characters for the vectorizer: one string of
# millions of characters would become millions of one-character strings at once.
_PIECE = 2**16


def _pieces(text: str) -> list[str]:
    return [text[start : start + _PIECE] for start in range(0, max(len(text), 1), _PIECE)]


def text_vectorizer(training_text: str, max_vocabulary: int) -> keras.layers.TextVectorization:
    """Characters → ids: the `max_vocabulary − 2` most frequent characters of the training text; 0 pads, 1 is any other."""
    counter = keras.layers.TextVectorization(max_tokens=max_vocabulary, standardize=None, split="character")
    counter.adapt(tf.data.Dataset.from_tensor_slices(_pieces(training_text)).batch(16))
    # Given as a list rather than adapted in place, the characters are part of the layer's config.
    return keras.layers.TextVectorization(
        standardize=None, split="character", output_mode="int", vocabulary=counter.get_vocabulary()[2:], name="characters"
    )


@keras.saving.register_keras_serializable(package="toolkit")
def bits_per_character(targets, logits):
    """The cross-entropy of next-character logits in bits: a Keras metric function."""
    return keras.losses.sparse_categorical_crossentropy(targets, logits, from_logits=True) / math.log(2.0)


@keras.saving.register_keras_serializable(package="toolkit")
class CharLanguageModel(keras.Model):
    """The language model network: character ids `(batch, steps)` → next-character logits `(batch, steps, vocabulary)`.

    Its parts are kept as attributes for generating one character at a
    time: `embedding`, `lstm_layers` (bottom first) and `head`.

    Args:
        vocabulary_size: Number of character ids.
        architecture: A `CharLanguageModelConfig`, or its dict.
        **kwargs: Base model keyword arguments, such as `name`.
    """

    def __init__(self, vocabulary_size: int, architecture: CharLanguageModelConfig | dict | None = None, **kwargs):
        if not isinstance(architecture, CharLanguageModelConfig):
            architecture = config_lib.from_dict(CharLanguageModelConfig, architecture)
        ids = keras.Input((None,), dtype="int64", name="character_ids")
        self.embedding = keras.layers.Embedding(vocabulary_size, architecture.embedding_dim, name="embedding")
        sequence = self.embedding(ids)
        self.lstm_layers = []
        for index in range(architecture.depth):
            layer = LSTM(architecture.units, return_sequences=True, name=f"lstm_{index + 1}")
            sequence = keras.layers.Dropout(architecture.dropout, name=f"dropout_{index + 1}")(layer(sequence))
            self.lstm_layers.append(layer)
        self.head = keras.layers.Dense(vocabulary_size, name="head")
        super().__init__(inputs=ids, outputs=self.head(sequence), **kwargs)
        self.vocabulary_size = int(vocabulary_size)
        self.architecture = architecture

    def get_config(self) -> dict:
        return {
            "name": self.name,
            "vocabulary_size": self.vocabulary_size,
            "architecture": dataclasses.asdict(self.architecture),
        }

    @classmethod
    def from_config(cls, config: dict) -> CharLanguageModel:
        if isinstance(config.get("architecture"), dict):
            # Saved by an earlier release, it may lack settings added since: each gets the value that release had.
            upgraded = upgrade_config("text_generation", {"model": config["architecture"]}, schema=None)
            config = {**config, "architecture": upgraded["model"]}
        return cls(**config)


@keras.saving.register_keras_serializable(package="toolkit")
class TextGenerator(TaskModel):
    """Continues prompts: a `CharLanguageModel` and its character vocabulary.

    Its graph maps texts to next-character logits at every position. Every
    prompt is read after a `DOCUMENT_SEPARATOR`, as a new document in the
    training stream begins, so an empty prompt starts a new one.
    `generate` samples one character at a time in a `tf.while_loop`: from
    `softmax(logits / temperature)` (the most likely at temperature 0),
    among the `top_k` most likely (all for 0), with stateless random ops
    seeded by `seed` and the step, so the same call gives the same text (a
    prompt's draws depend on its row in the batch too: the same prompt in
    another row, or with a longer prompt beside it, may be continued
    differently, except at temperature 0).
    The exported `serving_default(prompt, length, temperature, top_k, seed)`
    runs it; `serve` uses the defaults below and seed 0.

    Args:
        network: A `CharLanguageModel`.
        preprocessor: The character `TextVectorization` of `text_vectorizer`.
        length: Characters `serve` generates per prompt.
        temperature: `serve`'s temperature.
        top_k: `serve`'s top-k (0: all characters).
        **kwargs: Base model keyword arguments, such as `name`.
    """

    def __init__(
        self,
        network: CharLanguageModel,
        preprocessor: keras.layers.TextVectorization,
        length: int = 300,
        temperature: float = 0.8,
        top_k: int = 0,
        **kwargs,
    ):
        self.length = int(length)
        self.temperature = float(temperature)
        self.top_k = int(top_k)
        super().__init__(network, preprocessor, **kwargs)

    def raw_input_spec(self) -> tf.TensorSpec:
        return tf.TensorSpec([None], tf.string, name="prompt")

    def serving_outputs(self, raw_inputs: tf.Tensor) -> dict[str, tf.Tensor]:
        return self._generated(raw_inputs, self.length, self.temperature, self.top_k, 0)

    def generate(self, prompts, length: int | None = None, temperature: float | None = None, top_k: int | None = None, seed: int = 0) -> list[str]:
        """Continues each prompt by `length` characters; the task's defaults for what is not given.

        Args:
            prompts: A string or a list of strings (empty ones start a new document).
            length: Characters to generate, 0 to `MAX_GENERATED`.
            temperature: Sampling temperature, at least 0 (0: the most likely character).
            top_k: Sample among the `top_k` most likely characters; 0 for all.
            seed: The same seed and settings give the same text.
        """
        outputs = self._outputs_of_any_batch(
            self.checked_size(tf.constant(self.raw_batch(prompts), tf.string)),
            lambda batch: self._generated(
                batch,
                tf.constant(self.length if length is None else length, tf.int32),
                tf.constant(self.temperature if temperature is None else temperature, tf.float32),
                tf.constant(self.top_k if top_k is None else top_k, tf.int32),
                tf.constant(seed, tf.int32),
            ),
        )
        return [text.decode("utf-8") for text in outputs["text"].numpy()]

    def checked_size(self, raw_inputs: tf.Tensor) -> tf.Tensor:
        """Rows, as every task model checks them, and the characters of each prompt against `serving.max_characters`."""
        return checked_text_lengths(super().checked_size(raw_inputs), self.limits.get("max_characters"), "prompt")

    def _generated(self, prompts, length, temperature, top_k, seed) -> dict[str, tf.Tensor]:
        most = min(MAX_GENERATED, self.limits.get("max_generate_length", MAX_GENERATED))
        checks = [
            tf.debugging.assert_less_equal(0, length, message="length: expected 0 or more characters"),
            tf.debugging.assert_less_equal(
                length, most, message=f"length: this model generates at most {most} characters per call "
                "(serving.max_generate_length)",
            ),
            tf.debugging.assert_greater_equal(temperature, 0.0, message="temperature: expected 0 or more"),
            tf.debugging.assert_greater_equal(top_k, 0, message="top_k: expected 0 (all) or more"),
        ]
        # Everything below reads its inputs through these identities, so nothing is read or allocated
        # (a billion characters' worth, say) before the checks pass.
        with tf.control_dependencies(checks):
            prompts, length, temperature, top_k = (tf.identity(value) for value in (prompts, length, temperature, top_k))
            ids = tf.cast(self.preprocessor(tf.strings.join([DOCUMENT_SEPARATOR, prompts])), tf.int64)
        generated = sample_characters(self.network, ids, length, temperature, top_k, seed)
        with tf.init_scope():  # read once, eagerly, while tracing: the vocabulary is fixed after adapting
            vocabulary = tf.constant(self.preprocessor.get_vocabulary())
        return {"text": tf.strings.reduce_join(tf.gather(vocabulary, generated), axis=-1)}

    def character_ids(self, text: str) -> np.ndarray:
        """The ids of every character of a text, of any length, by this task's vocabulary: int64 `(len(text),)`."""
        pieces = _pieces(text)
        ids = [self.preprocessor(tf.constant(pieces[start : start + 16])).numpy() for start in range(0, len(pieces), 16)]
        return np.concatenate([batch.reshape(-1) for batch in ids])[: len(text)]

    def raw_batch(self, raw_inputs) -> np.ndarray:
        if isinstance(raw_inputs, str):
            raw_inputs = [raw_inputs]
        if not isinstance(raw_inputs, (list, tuple, np.ndarray)) or not all(isinstance(text, str) for text in raw_inputs):
            raise InputTypeError(f"prompts: expected a string or a list of strings; got {type(raw_inputs).__name__}.")
        return np.array(raw_inputs, dtype=object)

    def export_serving(self, path: str | Path) -> Path:
        """Exports a SavedModel whose `serving_default(prompt, length, temperature, top_k, seed)` returns `text`.

        `prompt` is a string tensor `[batch]`; the others are scalars (int32,
        int32, float32, int32, int32). Sampling runs inside the graph, so a
        process with TensorFlow alone generates text.
        """
        archive = keras.export.ExportArchive()
        archive.track(self)

        def serve(prompt, length, temperature, top_k, seed):
            return self._outputs_of_any_batch(
                self.checked_inputs(self.checked_size(prompt)),
                lambda batch: self._generated(batch, length, temperature, top_k, seed),
            )

        signature = [
            tf.TensorSpec(None, tf.string, name="prompt"),
            tf.TensorSpec([], tf.int32, name="length"),
            tf.TensorSpec([], tf.float32, name="temperature"),
            tf.TensorSpec([], tf.int32, name="top_k"),
            tf.TensorSpec([], tf.int32, name="seed"),
        ]
        archive.add_endpoint("serving_default", tf.function(serve, input_signature=signature))
        archive.write_out(str(path), verbose=False)
        return Path(path)

    def get_config(self) -> dict:
        return {**super().get_config(), "length": self.length, "temperature": self.temperature, "top_k": self.top_k}


def sample_characters(network: CharLanguageModel, prompt_ids, length, temperature, top_k, seed) -> tf.Tensor:
    """Reads each row's prompt, then samples `length` ids after it, one step at a time; `(batch, length)` int64.

    Rows are right-padded with 0; a row starts sampling after its own last
    prompt character, so the loop runs `longest prompt − 1 + length` steps.
    """
    step = TokenStep(network.embedding, network.lstm_layers, network.head)
    batch, width = tf.shape(prompt_ids)[0], tf.shape(prompt_ids)[1]
    prompt_lengths = tf.reduce_sum(tf.cast(prompt_ids != 0, tf.int32), axis=1)
    steps = tf.reduce_max(prompt_lengths) - 1 + length
    vocabulary_size = network.vocabulary_size
    allowed = tf.constant([index not in NEVER_GENERATED for index in range(vocabulary_size)])
    k = tf.where(top_k > 0, tf.minimum(top_k, vocabulary_size - len(NEVER_GENERATED)), vocabulary_size)

    def body(t, previous, states, samples):
        fed = tf.where(t < prompt_lengths, prompt_ids[:, tf.minimum(t, width - 1)], previous)
        logits, states = step(fed, states)
        logits = tf.where(allowed, logits, -np.inf)
        kth_largest = tf.math.top_k(logits, k).values[:, -1:]
        logits = tf.where(logits >= kth_largest, logits, -np.inf)
        drawn = tf.random.stateless_categorical(logits / tf.maximum(temperature, 1e-6), 1, seed=tf.stack([seed, t]))[:, 0]
        chosen = tf.where(temperature > 0, drawn, tf.argmax(logits, axis=-1))
        return t + 1, chosen, states, samples.write(t, chosen)

    _, _, _, samples = tf.while_loop(
        lambda t, *_: t < steps,
        body,
        (tf.constant(0), tf.zeros([batch], tf.int64), step.zero_states(batch), tf.TensorArray(tf.int64, size=steps, element_shape=[None])),
    )
    # Row b's characters were sampled at steps prompt_length_b − 1 … prompt_length_b − 2 + length.
    positions = prompt_lengths[:, None] - 1 + tf.range(length)[None, :]
    sampled = tf.cond(steps > 0, lambda: tf.transpose(samples.stack()), lambda: tf.zeros([batch, 0], tf.int64))
    return tf.gather(sampled, positions, batch_dims=1)
