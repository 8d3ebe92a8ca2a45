"""Captioner settings that cannot work together are refused with a message naming the keys."""

from __future__ import annotations

import pytest

from toolkit.config import ConfigError, load_config
from toolkit.models.captioner import ShowAndTell
from toolkit.models.image_classifier import ImageClassifierConfig
from toolkit.models.image_encoder import ImageEncoderConfig
from toolkit.pipelines.captioning import CaptioningConfig, CaptioningPipeline


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


def test_an_image_classifier_refuses_the_grid_output():
    with pytest.raises(ConfigError, match="model.encoder.output: grid keeps the feature map"):
        ImageClassifierConfig(encoder=ImageEncoderConfig(output="grid"))
