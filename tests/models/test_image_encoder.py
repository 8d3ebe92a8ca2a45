"""The shared image encoder: conv blocks, heads, augmentation in training only, and a keras.applications backbone."""

from __future__ import annotations

import dataclasses

import keras
import numpy as np
import pytest

from tests.helpers import RED, SAME_LUMA_BLUE
from toolkit.config import ConfigError
from toolkit.models.image_encoder import AugmentationConfig, ImageEncoderConfig, build_image_encoder, image_input_stage


def test_blocks_pool_by_two_and_heads_shape_the_features():
    encoder = build_image_encoder((32, 32, 3), ImageEncoderConfig(filters=[4, 8], convolutions_per_block=2))
    assert encoder.output.shape == (None, 8)
    assert [layer.name for layer in encoder.layers if "conv" in layer.name and layer.name.endswith(("1", "2"))][:2] == [
        "block1_conv1", "block1_conv2"]
    flat = build_image_encoder((32, 32, 3), ImageEncoderConfig(filters=[4, 8], output="flatten", pooling="average"))
    assert flat.output.shape == (None, 8 * 8 * 8)


def test_input_stage_rescales_adds_a_channel_and_augments_only_in_training():
    raw = keras.Input((6, 6), dtype="uint8")
    stage = keras.Model(raw, image_input_stage(raw, AugmentationConfig(flip="horizontal", translation=0.2, contrast=0.3)))
    images = np.random.default_rng(0).integers(0, 256, (16, 6, 6)).astype("uint8")
    np.testing.assert_allclose(stage(images, training=False).numpy()[..., 0], images / 255, atol=1e-6)
    assert not np.allclose(stage(images, training=True).numpy()[..., 0], images / 255)


def test_random_erasing_fills_a_rectangle_of_some_training_images_only():
    raw = keras.Input((12, 12), dtype="uint8")
    stage = keras.Model(raw, image_input_stage(raw, AugmentationConfig(flip="none", erasing=1.0)))
    images = np.full((64, 12, 12), 128, "uint8")
    np.testing.assert_allclose(stage(images, training=False).numpy()[..., 0], images / 255, atol=1e-6)
    changed = ~np.isclose(stage(images, training=True).numpy()[..., 0], 128 / 255, atol=1e-6)
    erased = changed.any(axis=(1, 2))
    assert 0 < erased.sum() < 64  # each image's chance is drawn up to 1
    assert changed[erased].mean(axis=(1, 2)).max() < 0.36  # a rectangle of about a third of the image at most, in whole pixels


def test_a_keras_applications_backbone_can_replace_the_blocks():
    config = ImageEncoderConfig(backbone="mobilenet_v2", backbone_weights=None)  # imagenet weights need a download
    encoder = build_image_encoder((64, 64, 1), config)
    assert encoder(np.zeros((2, 64, 64, 1), "float32")).shape == (2, 1280)


def test_separate_colour_keeps_hue_out_of_the_blocks_and_in_the_colour_stream():
    config = ImageEncoderConfig(filters=[4, 8], output="grid", colour="separate", colour_filters=3, batch_norm=False)
    encoder = build_image_encoder((16, 16, 3), config)
    assert encoder.output.shape == (None, 4, 4, 8 + 3)
    images = np.full((2, 16, 16, 3), 0.3, "float32")
    images[0, 4:12, 4:12], images[1, 4:12, 4:12] = RED, SAME_LUMA_BLUE  # one square, in two hues
    features = encoder(images).numpy()
    np.testing.assert_allclose(features[0, ..., :8], features[1, ..., :8], atol=1e-5)  # the blocks: the same
    assert not np.allclose(features[0, ..., 8:], features[1, ..., 8:])  # the colour stream: not
    # Valid padding leaves a 10x10 grid of a 46x46 image: cells of 4 pixels, and a last partial row and column.
    odd = build_image_encoder((46, 46, 3), dataclasses.replace(config, padding="valid"))
    assert odd.output.shape == (None, 10, 10, 8 + 3)


def test_separate_colour_refuses_a_backbone_and_grey_images():
    config = ImageEncoderConfig(colour="separate")
    with pytest.raises(ConfigError, match=r"'model.encoder.colour' is 'separate', but 'model.encoder.backbone' is "
                                          r"'mobilenet_v2', which takes the colour image as it is"):
        build_image_encoder((32, 32, 3), dataclasses.replace(config, backbone="mobilenet_v2", backbone_weights=None))
    with pytest.raises(ConfigError, match=r"'model.encoder.colour' is 'separate', which needs colour images of 3 "
                                          r"channels; these have 1. Set it to 'mixed'."):
        build_image_encoder((28, 28, 1), config)
