"""Decoders as one step each: `portable.py`'s NumPy loops over the exported steps give the captions and text of the
task's own loops in TensorFlow, on models whose outputs vary (weights scrambled, so that greedy and beam differ)."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

import toolkit
from tests.fixtures.releases import LATEST
from toolkit.export import portable
from toolkit.export.decoder_cores import captioner_cores, state_sizes, text_generator_core
from toolkit.export.spec import task_spec
from toolkit.models.caption_decoding import CaptionDecoder


class TensorFlowSession:
    """A numeric core called as `portable.Session` is: named arrays in and out, computed by TensorFlow."""

    def __init__(self, core):
        self.core = core

    def __call__(self, **inputs):
        return self.core.expected(inputs)


def _scrambled(run: str, layer_names: tuple[str, ...], seed: int, scale: float):
    """A recorded run's task model with the weights of some layers drawn anew, so that its outputs vary."""
    import pipelines  # noqa: F401

    model = toolkit.load(LATEST / run / "run").model
    random = np.random.default_rng(seed)
    for name in layer_names:
        for variable in model.network.get_layer(name).weights:
            variable.assign(random.normal(0, scale, variable.shape).astype("float32"))
    return model


@pytest.fixture(scope="module")
def captioner():
    return _scrambled("captioning", ("initial_state", "embedding", "decoder_1", "head"), seed=0, scale=0.5)


def test_the_captioner_exports_an_encoder_and_a_step_with_named_states(captioner):
    encoder, step = captioner_cores(captioner)
    assert (encoder.name, step.name) == ("encoder", "step")
    assert list(encoder.inputs) == ["images"]
    assert list(step.inputs) == ["tokens", "state_0", "state_1", "state_2", "state_3"]  # h, c, memory, keys
    outputs = step.expected(step.example(2))
    assert sorted(outputs) == ["attention", "next_state_0", "next_state_1", "next_state_2", "next_state_3", "scores"]
    assert outputs["scores"].shape == (2, captioner.network.vocabulary_size)
    np.testing.assert_allclose(np.exp(outputs["scores"]).sum(axis=-1), 1.0, rtol=1e-5)  # log-probabilities


def test_numpy_greedy_and_beam_search_over_the_step_give_the_captioners_own_captions(captioner):
    spec = task_spec(captioner)
    encoder, step = captioner_cores(captioner)
    ported = portable.Captioner(spec, {"encoder": TensorFlowSession(encoder), "step": TensorFlowSession(step)})
    images = np.random.default_rng(3).integers(0, 256, (5, *captioner.network.image_shape), dtype="uint8")
    decoder = CaptionDecoder(captioner.network, captioner.presence_weight, captioner.context_weight)
    greedy = decoder.greedy(tf.constant(images), captioner.max_length)
    beam = decoder.beam_search(
        tf.constant(images), captioner.max_length, captioner.beam_width, captioner.length_penalty
    )
    for ours, theirs in ((ported.greedy(images), greedy), (ported.beam_search(images), beam)):
        np.testing.assert_array_equal(ours[0], theirs.ids.numpy())
        np.testing.assert_allclose(ours[1], theirs.log_probability.numpy(), atol=1e-4)
        np.testing.assert_allclose(ours[2], theirs.attention.numpy(), atol=1e-5)
    # The search is tested, not only its first beam, on captions that differ from image to image.
    assert (greedy.ids.numpy() != beam.ids.numpy()).any(axis=1).all()
    assert len({tuple(row) for row in greedy.ids.numpy()}) > 1
    captions = ported.detokenize(ported.beam_search(images)[0])
    assert captions == [text.decode() for text in captioner.preprocessor.detokenize(beam.ids).numpy()]


def test_numpy_greedy_generation_over_the_step_gives_the_text_generators_own_text():
    generator = _scrambled("text_generation", ("head",), seed=1, scale=2.0)
    spec = task_spec(generator)
    ported = portable.TextGenerator(spec, {"step": TensorFlowSession(text_generator_core(generator))})
    prompts = ["The", "", "a longer prompt, with ünïcode ✓"]
    expected = generator.generate(prompts, length=15, temperature=0.0)
    assert ported.generate(prompts, length=15) == expected
    assert len(set(expected)) == 3 and all(len(text) == 15 for text in expected)
    assert spec["state_sizes"] == state_sizes(generator) == [16, 16]


def test_sampling_is_numpys_draws_from_the_same_characters():
    generator = _scrambled("text_generation", ("head",), seed=1, scale=2.0)
    ported = portable.TextGenerator(task_spec(generator), {"step": TensorFlowSession(text_generator_core(generator))})
    first, again = (ported.generate(["The"], length=30, temperature=1.0, top_k=5, seed=4) for _ in range(2))
    assert first == again and len(first[0]) == 30
    assert set(first[0]) <= set(ported.vocabulary[2:])  # never padding or the unknown character
    with pytest.raises(ValueError, match="length, temperature and top_k must be 0 or more"):
        ported.generate(["The"], temperature=-1.0)
