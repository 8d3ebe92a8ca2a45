"""Captioners: settings that cannot work together refused by name, the network's parts, and the task that serves captions."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from pipelines.captioning import CaptioningConfig, CaptioningPipeline
from toolkit.config import ConfigError, load_config
from toolkit.models.caption_decoding import CaptionDecoder
from toolkit.models.captioner import Captioner, CaptionerConfig, ShowAndTell
from toolkit.models.image_encoder import ImageEncoderConfig
from toolkit.preprocessing.captions import caption_tokenizer


def config_with(tmp_path, text: str) -> CaptioningConfig:
    path = tmp_path / "captioning.yaml"
    path.write_text(text)
    return load_config(CaptioningConfig, path)


def test_the_attention_decoder_needs_the_encoder_grid_and_only_it_takes_one(tmp_path):
    with pytest.raises(ConfigError, match="'model.decoder' is 'attention' and 'model.encoder.output' is 'flatten'"):
        config_with(tmp_path, "model:\n  encoder:\n    output: flatten\n")
    with pytest.raises(ConfigError, match="'model.decoder' is 'init_state' and 'model.encoder.output' is 'grid'"):
        config_with(tmp_path, "model:\n  decoder: init_state\n")


def test_presence_fusion_without_a_presence_head_is_refused_by_name(tmp_path):
    with pytest.raises(ConfigError, match="'decoding.presence_weight' is 1.0, but 'model.word_presence_loss' is 0"):
        config_with(tmp_path, "model:\n  word_presence_loss: 0.0\ndecoding:\n  presence_weight: 1.0\n")
    config = config_with(tmp_path, "model:\n  word_presence_loss: 0.0\n")
    network = ShowAndTell((16, 16, 3), 12, config.model)
    with pytest.raises(ConfigError, match="'decoding.presence_weight' is 1.0, but the network has no word-presence head"):
        CaptioningPipeline.task_class(network, preprocessor=None, presence_weight=1.0)


def test_a_context_weight_without_an_attended_context_beside_h_is_refused_by_name(tmp_path):
    with pytest.raises(ConfigError, match="'decoding.context_weight' is 2.0, but 'model.decoder' is 'attention' and "
                                          "'model.depth' 2: only an attention decoder of depth 1"):
        config_with(tmp_path, "model:\n  depth: 2\ndecoding:\n  context_weight: 2.0\n")
    with pytest.raises(ConfigError, match="'decoding.context_weight' is 1.5, but 'model.decoder' is 'init_state'"):
        config_with(tmp_path, "model:\n  decoder: init_state\n  encoder:\n    output: flatten\n")
    config = config_with(
        tmp_path, "model:\n  decoder: init_state\n  encoder:\n    output: flatten\ndecoding:\n  context_weight: 1.0\n"
    )
    network = ShowAndTell((16, 16, 3), 12, config.model)
    with pytest.raises(ConfigError, match="'decoding.context_weight' is 2.0, but the network's head reads no attended"):
        CaptioningPipeline.task_class(network, preprocessor=None, context_weight=2.0)


def test_a_network_saved_before_the_colour_option_is_rebuilt_mixing_colour(tmp_path):
    network = ShowAndTell((16, 16, 3), 12, config_with(tmp_path, "model:\n  encoder:\n    colour: mixed\n").model)
    saved = network.get_config()
    del saved["architecture"]["encoder"]["colour"], saved["architecture"]["encoder"]["colour_filters"]
    rebuilt = ShowAndTell.from_config(saved)
    assert rebuilt.architecture.encoder.colour == "mixed"
    assert [w.shape for w in rebuilt.weights] == [w.shape for w in network.weights]


CAPTIONS = ["a red circle", "a blue square above a green circle", "a small red square"]
IMAGES = np.random.default_rng(0).integers(0, 256, (2, 16, 16, 3), dtype=np.uint8)


def small_config(decoder: str = "attention", **settings) -> CaptionerConfig:
    output = "grid" if decoder == "attention" else "flatten"
    encoder = ImageEncoderConfig(filters=[4, 4], batch_norm=False, output=output, colour="mixed")
    return CaptionerConfig(decoder=decoder, encoder=encoder, units=8, embedding_dim=4, attention_units=4,
                           word_dropout=0.0, dropout=0.0, feature_dropout=0.0, **settings)


def captioner(decoder: str = "attention", **task_settings) -> Captioner:
    tokenizer = caption_tokenizer(CAPTIONS, max_tokens=20, max_length=6)
    network = ShowAndTell((16, 16, 3), tokenizer.vocabulary_size(), small_config(decoder))
    return Captioner(network, tokenizer, max_length=5, **task_settings)


def test_the_network_keeps_the_parts_decoding_steps_through():
    attention = ShowAndTell((16, 16, 3), 12, small_config("attention", depth=2))
    assert attention.attention_grid == (4, 4)
    assert [layer.name for layer in attention.decoder_layers] == ["decoder_1", "decoder_2"]
    # h and c of each layer, and the first layer's memory and keys.
    assert len(attention.state_encoder.outputs) == 2 * 2 + 2 and attention.word_presence is None
    plain = ShowAndTell((16, 16, 3), 12, small_config("init_state"))
    assert plain.attention_grid is None and len(plain.state_encoder.outputs) == 2
    presence = ShowAndTell((16, 16, 3), 12, small_config("attention", word_presence_loss=0.5))
    assert presence.word_presence(IMAGES).shape == (2, 12)


def test_the_network_is_rebuilt_from_its_config():
    network = ShowAndTell((16, 16, 3), 12, small_config())
    config = network.get_config()
    assert config["image_shape"] == [16, 16, 3] and config["vocabulary_size"] == 12
    rebuilt = ShowAndTell.from_config(config)
    assert rebuilt.architecture == network.architecture
    assert [w.shape for w in rebuilt.weights] == [w.shape for w in network.weights]


def test_the_task_graph_is_teacher_forced_on_raw_captions():
    model = captioner()
    probabilities = model([tf.constant(IMAGES), tf.constant(["a red circle", "a blue square"])]).numpy()
    # <start> a red circle <end>: the network reads all but the last token.
    assert probabilities.shape == (2, 4, model.preprocessor.vocabulary_size())
    np.testing.assert_allclose(probabilities.sum(axis=-1), 1.0, rtol=1e-5)


def test_serving_gives_the_beam_and_greedy_captions_with_their_attention_maps():
    model = captioner(beam_width=2)
    outputs = model.serve(IMAGES)
    assert sorted(outputs) == ["attention", "caption", "greedy_attention", "greedy_caption", "greedy_log_probability",
                               "log_probability"]
    assert outputs["attention"].shape == outputs["greedy_attention"].shape == (2, 5, 4, 4)
    greedy = CaptionDecoder(model.network).greedy(tf.constant(IMAGES), 5)
    assert outputs["greedy_caption"].numpy().tolist() == model.preprocessor.detokenize(greedy.ids).numpy().tolist()
    np.testing.assert_allclose(outputs["greedy_log_probability"], greedy.log_probability, rtol=1e-5)
    plain = captioner("init_state").serve(IMAGES)
    assert "attention" not in plain and plain["caption"].shape == (2,)


def test_the_decoding_settings_are_saved_with_the_task(tmp_path):
    model = captioner(beam_width=2, length_penalty=0.5, context_weight=1.5)
    config = model.get_config()
    assert {key: config[key] for key in ("beam_width", "max_length", "length_penalty", "presence_weight", "context_weight")} == {
        "beam_width": 2, "max_length": 5, "length_penalty": 0.5, "presence_weight": 0.0, "context_weight": 1.5,
    }
    model.save(tmp_path / "model.keras")
    loaded = keras.saving.load_model(tmp_path / "model.keras")
    assert isinstance(loaded, Captioner) and loaded.context_weight == 1.5
    assert loaded.serve(IMAGES)["caption"].numpy().tolist() == model.serve(IMAGES)["caption"].numpy().tolist()
