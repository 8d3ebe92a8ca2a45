"""The image classifier: its config's refusals, the test-time flip, and serving uint8 images by class name."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from toolkit.config import ConfigError
from toolkit.errors import InputError, InputTypeError
from toolkit.models.classifier import softmax_head
from toolkit.models.image_classifier import ImageClassifier, ImageClassifierConfig, build_image_backbone
from toolkit.models.image_encoder import AugmentationConfig, ImageEncoderConfig

SMALL = ImageEncoderConfig(filters=[4], output="flatten", batch_norm=False)
CLASSES = ["shirt", "shoe", "bag"]


def classifier(test_time_flip: bool = True, image_shape=(8, 8)) -> ImageClassifier:
    config = ImageClassifierConfig(encoder=SMALL, dense_units=6, dropout=0.0, test_time_flip=test_time_flip)
    backbone = build_image_backbone(image_shape, config)
    return ImageClassifier(backbone, softmax_head(len(CLASSES)), CLASSES, limits={"max_image_pixels": 100})


def test_an_image_classifier_refuses_the_grid_output():
    with pytest.raises(ConfigError, match="model.encoder.output: grid keeps the feature map"):
        ImageClassifierConfig(encoder=ImageEncoderConfig(output="grid"))


def test_the_test_time_flip_needs_training_with_horizontal_flips():
    with pytest.raises(ConfigError, match=r"model.test_time_flip: .*model.augmentation.flip is 'vertical'. Set "
                                          r"model.augmentation.flip to horizontal, or model.test_time_flip to false\."):
        ImageClassifierConfig(augmentation=AugmentationConfig(flip="vertical"))
    ImageClassifierConfig(augmentation=AugmentationConfig(flip="none"), test_time_flip=False)


def test_with_the_test_time_flip_an_image_and_its_mirror_image_get_the_same_answer():
    images = np.random.default_rng(0).integers(0, 256, (4, 8, 8), dtype=np.uint8)
    mirrored = images[:, :, ::-1]
    flipping = classifier(test_time_flip=True)
    np.testing.assert_allclose(flipping.predict(images, verbose=0), flipping.predict(mirrored, verbose=0), rtol=1e-5, atol=1e-6)
    names = [layer.name for layer in flipping.backbone.layers]
    assert names.index("with_mirror_images") < names.index("dense") < names.index("mean_over_mirror_images") < names.index("dropout")
    plain = classifier(test_time_flip=False)
    assert "with_mirror_images" not in [layer.name for layer in plain.backbone.layers]
    assert not np.allclose(plain.predict(images, verbose=0), plain.predict(mirrored, verbose=0))


def test_serving_names_the_most_likely_class_with_its_probability():
    model = classifier()
    images = np.random.default_rng(1).integers(0, 256, (5, 8, 8), dtype=np.uint8)
    outputs = model.serve(images)
    probabilities = outputs["probabilities"].numpy()
    assert probabilities.shape == (5, 3)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(outputs["probability"], probabilities.max(axis=1))
    assert [label.decode() for label in outputs["label"].numpy()] == [CLASSES[i] for i in probabilities.argmax(axis=1)]
    np.testing.assert_allclose(model.serve(images[..., None])["probabilities"], probabilities, rtol=1e-6)
    assert model.image_shape == (8, 8) and model.raw_input_spec().dtype.name == "uint8"


def test_raw_images_are_checked_and_files_read_within_the_pixel_limit(tmp_path):
    model = classifier(image_shape=(8, 8, 3))
    with pytest.raises(InputTypeError, match=r"expected uint8 images of shape \(batch, 8, 8, 3\), got float32"):
        model.raw_batch(np.zeros((1, 8, 8, 3), "float32"))
    Image.fromarray(np.zeros((12, 12, 3), np.uint8)).save(tmp_path / "big.png")
    with pytest.raises(InputError, match=r"big.png: 12x12 pixels, more than the 100 "):
        model.raw_batch([tmp_path / "big.png"])
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(tmp_path / "fits.png")
    assert model.raw_batch([str(tmp_path / "fits.png")]).shape == (1, 8, 8, 3)
