"""Image loaders: Debian's Fashion-MNIST through Keras' cache, class folders, tfds (mocked) and digits."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds

from toolkit.data import images as images_lib
from toolkit.data.images import (
    FASHION_MNIST_FILES,
    ImageDataConfig,
    ImageFiles,
    cache_fashion_mnist,
    load_digits_images,
    load_image_directory,
    load_image_splits,
    load_tfds_images,
)


@pytest.fixture
def keras_home(tmp_path, monkeypatch):
    from keras.src.backend import config

    home = tmp_path / "keras-home"
    home.mkdir()
    monkeypatch.setattr(config, "_KERAS_DIR", str(home))
    return home


def test_fashion_mnist_files_are_cached_without_touching_other_cached_files(keras_home, tmp_path):
    debian = tmp_path / "debian"
    debian.mkdir()
    for name in FASHION_MNIST_FILES:
        (debian / name).write_bytes(b"from debian")
    cache = keras_home / "datasets" / "fashion-mnist"
    cache.mkdir(parents=True)
    (cache / FASHION_MNIST_FILES[0]).write_bytes(b"downloaded earlier")
    (keras_home / "datasets" / "mnist.npz").write_bytes(b"someone else's")

    cache_fashion_mnist(debian)
    assert (cache / FASHION_MNIST_FILES[0]).read_bytes() == b"downloaded earlier"
    for name in FASHION_MNIST_FILES[1:]:
        assert (cache / name).read_bytes() == b"from debian"
    assert (keras_home / "datasets" / "mnist.npz").read_bytes() == b"someone else's"
    cache_fashion_mnist(debian)  # a second call changes nothing and does not fail


def test_missing_debian_package_says_how_to_install_it(keras_home, tmp_path):
    with pytest.raises(FileNotFoundError, match="apt-get install dataset-fashion-mnist"):
        cache_fashion_mnist(tmp_path / "absent")


def test_real_fashion_mnist_loads_through_keras_offline(keras_home):
    train, test = images_lib.load_fashion_mnist()
    assert train.inputs.shape == (60_000, 28, 28) and test.inputs.shape == (10_000, 28, 28)
    assert train.inputs.dtype == np.uint8
    assert np.bincount(test.targets).tolist() == [1000] * 10


def test_class_folders_load_with_sorted_class_names(tmp_path):
    for class_index, name in enumerate(["cat", "dog"]):
        (tmp_path / name).mkdir()
        for index in range(3):
            image = np.full((10, 12, 3), 40 * class_index + index, dtype=np.uint8)
            tf.io.write_file(str(tmp_path / name / f"{index}.png"), tf.io.encode_png(image))
    files, labels, classes = load_image_directory(tmp_path, (8, 8))
    assert classes == ["cat", "dog"] and labels.tolist() == [0, 0, 0, 1, 1, 1]
    assert [Path(path).relative_to(tmp_path).as_posix() for path in files[3:]] == ["dog/0.png", "dog/1.png", "dog/2.png"]
    images = files.decoded()
    assert images.shape == (6, 8, 8, 3) and images.dtype == np.uint8
    assert images[4, 0, 0, 0] == 41


def test_images_in_files_are_read_as_keras_directory_loader_reads_them(tmp_path):
    rng = np.random.default_rng(0)
    for name in ["cat", "dog"]:
        (tmp_path / name).mkdir()
        for index in range(2):
            tf.io.write_file(str(tmp_path / name / f"{index}.png"), tf.io.encode_png(rng.integers(0, 256, (13, 9, 3), "uint8")))
    files, _, _ = load_image_directory(tmp_path, (8, 6), color_mode="grayscale")
    keras_images = keras.utils.image_dataset_from_directory(
        tmp_path, image_size=(8, 6), color_mode="grayscale", batch_size=None, shuffle=False, verbose=False
    )
    expected = np.stack([np.clip(np.round(image), 0, 255).astype("uint8") for image, _ in keras_images.as_numpy_iterator()])
    np.testing.assert_array_equal(files.decoded(), expected)
    assert files[1:].image_shape == (8, 6, 1), "a part of the files knows their shape too"


def test_a_folder_of_images_splits_into_files_that_stay_on_disk(tmp_path):
    for name in ["cat", "dog"]:
        (tmp_path / name).mkdir()
        for index in range(20):
            tf.io.write_file(str(tmp_path / name / f"{index}.png"), tf.io.encode_png(np.zeros((5, 5, 3), "uint8")))
    data = load_image_splits(ImageDataConfig(source="directory", directory=str(tmp_path), image_size=[4, 4]))
    for split in (data.train, data.validation, data.test):
        assert isinstance(split.inputs, ImageFiles) and split.inputs.dtype == object
    assert len(data.train) + len(data.validation) + len(data.test) == 40
    assert data.metadata == {"class_names": ["cat", "dog"], "image_shape": [4, 4, 3]}


def test_folder_errors_name_the_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="Image folder not found: .*nowhere"):
        load_image_directory(tmp_path / "nowhere", (8, 8))
    (tmp_path / "only").mkdir()
    with pytest.raises(ValueError, match="one sub-folder of images per class, and at least two"):
        load_image_directory(tmp_path, (8, 8))


@pytest.mark.parametrize("name, shape", [("mnist", (28, 28, 1)), ("fashion_mnist", (28, 28, 1)), ("cifar10", (32, 32, 3))])
def test_tfds_loaders_offline_with_mock_data(name, shape):
    with tfds.testing.mock_data(num_examples=100):
        train, test, classes = load_tfds_images(name)
        data = load_image_splits(ImageDataConfig(source="tfds", tfds_name=name, validation_fraction=0.2))
    assert train.inputs.shape == (100, *shape) and test.inputs.shape == (100, *shape) and train.inputs.dtype == np.uint8
    assert len(classes) == 10
    assert len(data.train) == 80 and len(data.validation) == 20 and data.metadata["image_shape"] == list(shape)


def test_digits_are_small_uint8_images_split_three_ways():
    images, labels = load_digits_images()
    assert images.shape == (1797, 8, 8) and images.dtype == np.uint8 and images.max() == 255
    assert np.bincount(labels).min() > 170  # about 180 of each digit
    data = load_image_splits(ImageDataConfig(source="digits"))
    assert len(data.train) + len(data.validation) + len(data.test) == 1797
    assert data.metadata == {"class_names": [str(d) for d in range(10)], "image_shape": [8, 8]}
