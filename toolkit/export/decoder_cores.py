"""The numeric cores of decoders: a captioner's encoder and decoding step, a language model's step.

The SavedModels run their decoding loops (greedy, beam search, sampling)
inside the graph; a beam search's back-pointers are a loop that reads a
tensor list it writes, which no portable converter turns into a loop of
its own. So the loops are left to `portable.py`, in NumPy, and each model
here is one step: states in, next-token scores and new states out.

States are named `state_0`, `state_1`, ... in the order of the decoder's
own list; a step returns the new ones as `next_state_0`, ...
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from toolkit.export.numeric_core import NumericCore, tensorflow_variables
from toolkit.models.caption_decoding import CaptionDecoder
from toolkit.models.captioner import Captioner
from toolkit.models.text_generator import TextGenerator
from toolkit.models.token_step import TokenStep


def _named(states: list[tf.Tensor], prefix: str = "") -> dict[str, tf.Tensor]:
    return {f"{prefix}state_{index}": state for index, state in enumerate(states)}


def captioner_cores(model: Captioner) -> list[NumericCore]:
    """`encoder`: uint8 images → the decoding states; `step`: `tokens` int64 `(batch,)` and the states → `scores`
    (each word's log-probability, plus any word-presence bonus), `attention` (the weights over the image grid this
    step attends with, for a decoder with attention) and the next states."""
    decoder = CaptionDecoder(model.network, model.presence_weight, model.context_weight)
    image_shape = list(model.network.image_shape)
    images = tf.TensorSpec([None, *image_shape], tf.uint8)
    sizes = [int(state.shape[-1]) for state in decoder.start(tf.zeros([1, *image_shape], tf.uint8))]
    layers = [model.network]

    def encode(images):
        return _named(decoder.start(images))

    def step(tokens, **states):
        states = [states[f"state_{index}"] for index in range(len(sizes))]
        outputs = {"attention": decoder.attention(states)} if decoder.attention_cell is not None else {}
        scores, states = decoder.step(tokens, states)
        return {"scores": scores, **outputs, **_named(states, "next_")}

    def example_images(batch: int) -> dict[str, np.ndarray]:
        return {"images": np.random.default_rng(0).integers(0, 256, (batch, *image_shape)).astype("uint8")}

    def example_step(batch: int) -> dict[str, np.ndarray]:
        states = {name: value.numpy() for name, value in encode(tf.constant(example_images(batch)["images"])).items()}
        tokens = np.random.default_rng(1).integers(0, model.network.vocabulary_size, batch).astype("int64")
        return {"tokens": tokens, **states}

    step_inputs = {"tokens": tf.TensorSpec([None], tf.int64)}
    step_inputs.update({f"state_{index}": tf.TensorSpec([None, size], tf.float32) for index, size in enumerate(sizes)})
    return [
        NumericCore(
            "encoder",
            "the captioner's image encoder",
            {"images": images},
            encode,
            tensorflow_variables(layers),
            example_images,
        ),
        NumericCore(
            "step", "the captioner's decoding step", step_inputs, step, tensorflow_variables(layers), example_step
        ),
    ]


def state_sizes(model: TextGenerator) -> list[int]:
    """The sizes of a language model's states, in order: `[h₁, c₁, h₂, c₂, …]`."""
    return [size for sizes in _token_step(model).state_sizes for size in sizes]


def _token_step(model: TextGenerator) -> TokenStep:
    network = model.network
    return TokenStep(network.embedding, network.lstm_layers, network.head)


def text_generator_core(model: TextGenerator) -> NumericCore:
    """`step`: `ids` int64 `(batch,)` (one character each) and the states → `logits` over the characters and the
    next states. Generation starts from states of zeros."""
    token_step = _token_step(model)
    sizes = state_sizes(model)

    def step(ids, **states):
        logits, states = token_step(ids, [states[f"state_{index}"] for index in range(len(sizes))])
        return {"logits": logits, **_named(states, "next_")}

    def example(batch: int) -> dict[str, np.ndarray]:
        random = np.random.default_rng(0)
        states = {
            f"state_{index}": random.normal(0, 0.5, (batch, size)).astype("float32") for index, size in enumerate(sizes)
        }
        return {"ids": random.integers(0, model.network.vocabulary_size, batch).astype("int64"), **states}

    inputs = {"ids": tf.TensorSpec([None], tf.int64)}
    inputs.update({f"state_{index}": tf.TensorSpec([None, size], tf.float32) for index, size in enumerate(sizes)})
    return NumericCore(
        "step", "the language model's step", inputs, step, tensorflow_variables([model.network]), example
    )
