"""Captioner settings that cannot work together are refused with a message naming the keys."""

from __future__ import annotations

import pytest

from pipelines.captioning import CaptioningConfig, CaptioningPipeline
from toolkit.config import ConfigError, load_config
from toolkit.models.captioner import ShowAndTell
from toolkit.models.image_classifier import ImageClassifierConfig
from toolkit.models.image_encoder import ImageEncoderConfig


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


def test_an_image_classifier_refuses_the_grid_output():
    with pytest.raises(ConfigError, match="model.encoder.output: grid keeps the feature map"):
        ImageClassifierConfig(encoder=ImageEncoderConfig(output="grid"))
