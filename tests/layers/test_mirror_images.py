"""Test-time flips: an image classifier that averages each image with its mirror image answers both alike."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from toolkit.config import ConfigError
from toolkit.layers import MeanOverMirrorImages, WithMirrorImages
from toolkit.models.classifier import softmax_head
from toolkit.models.image_classifier import ImageClassifier, ImageClassifierConfig, build_image_backbone
from toolkit.models.image_encoder import AugmentationConfig, ImageEncoderConfig

IMAGES = np.random.default_rng(0).integers(0, 256, (5, 12, 12)).astype("uint8")


def classifier(test_time_flip: bool) -> ImageClassifier:
    keras.utils.set_random_seed(0)
    config = ImageClassifierConfig(
        encoder=ImageEncoderConfig(filters=[4, 8], output="flatten"), dense_units=8, test_time_flip=test_time_flip
    )
    return ImageClassifier(build_image_backbone((12, 12), config), softmax_head(3), ["a", "b", "c"])


def test_with_test_time_flip_an_image_and_its_mirror_image_get_the_same_answer():
    model = classifier(test_time_flip=True)
    probabilities = model.serve(IMAGES)["probabilities"].numpy()
    np.testing.assert_allclose(model.serve(IMAGES[:, :, ::-1].copy())["probabilities"], probabilities, atol=1e-6)
    np.testing.assert_allclose(probabilities.sum(axis=-1), 1.0, atol=1e-6)
    # Without it, the same weights tell the two apart.
    plain = classifier(test_time_flip=False)
    plain.set_weights(model.get_weights())
    assert not np.allclose(plain.serve(IMAGES[:, :, ::-1].copy())["probabilities"], plain.serve(IMAGES)["probabilities"], atol=1e-4)


def test_the_answer_is_the_mean_of_the_image_and_mirror_image_features_and_training_sees_each_image_once():
    images = np.random.default_rng(1).normal(size=(3, 4, 6, 2)).astype("float32")
    doubled = WithMirrorImages()(images, training=False).numpy()
    np.testing.assert_array_equal(doubled[3:], images[:, :, ::-1])
    features = np.arange(12.0).reshape(6, 2)
    np.testing.assert_allclose(MeanOverMirrorImages()(features, training=False), (features[:3] + features[3:]) / 2)
    assert WithMirrorImages()(images, training=True).shape == images.shape
    np.testing.assert_array_equal(MeanOverMirrorImages()(features, training=True), features)


def test_test_time_flip_without_flips_in_training_is_refused():
    with pytest.raises(ConfigError, match=r"model.test_time_flip: .* model.augmentation.flip is 'none'"):
        ImageClassifierConfig(augmentation=AugmentationConfig(flip="none"))
    assert not ImageClassifierConfig(augmentation=AugmentationConfig(flip="none"), test_time_flip=False).test_time_flip
