"""The image pipeline end to end on real Fashion-MNIST (smoke config): train, plots, serving, augmentation, fine-tuning."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

import toolkit
from toolkit.data.images import load_fashion_mnist
from toolkit.errors import Notice

pytestmark = pytest.mark.slow

SMOKE = Path(__file__).resolve().parents[2] / "configs" / "image_classification_smoke.yaml"


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    return toolkit.run("image_classification", SMOKE, run_name="smoke", output_dir=tmp_path_factory.mktemp("runs"))


@pytest.fixture(scope="module")
def fashion_test():
    return load_fashion_mnist()[1]


def test_run_learns_clearly_above_chance(trained):
    test = trained.metrics["test"]
    assert test["examples"] == 10_000  # the real Fashion-MNIST test set
    assert test["accuracy"] > 0.6, test["accuracy"]  # chance is 0.1
    assert set(test["per_class"]) >= {"T-shirt/top", "Ankle boot", "macro avg"}
    for name in ("plots/confusion_matrix.png", "plots/misclassified.png", "plots/learning_curves.png"):
        assert (trained.run_dir / name).is_file(), name


def test_hog_baseline_stands_beside_the_network_on_the_same_test_images(trained):
    test = trained.metrics["test"]
    baseline = test["baseline"]
    assert baseline["name"] == "HOG features + logistic regression"
    assert baseline["examples"] == test["examples"] == 10_000
    assert baseline["baseline_accuracy"] > 0.6
    difference = (baseline["only_model_correct"] - baseline["only_baseline_correct"]) / test["examples"]
    assert np.isclose(difference, test["accuracy"] - baseline["baseline_accuracy"])
    assert set(baseline["validation_accuracy_by_c"]) == {"0.1", "1.0"}
    assert test["headline"]["verdict"].startswith("The network ")


def test_augmentation_acts_in_training_only(trained, fashion_test):
    augmentation = trained.trained_run.network.get_layer("augmentation")
    images = fashion_test.inputs[:64].astype("float32")[..., None] / 255
    np.testing.assert_array_equal(augmentation(images, training=False).numpy(), images)
    assert not np.allclose(augmentation(images, training=True).numpy(), images)
    first = trained.trained_run.predict(fashion_test.inputs[:64])["probabilities"]
    np.testing.assert_array_equal(trained.trained_run.predict(fashion_test.inputs[:64])["probabilities"], first)


def test_serving_takes_uint8_images_in_a_process_without_toolkit(trained, fashion_test, run_without_toolkit):
    images = fashion_test.inputs[:8]
    served = run_without_toolkit(
        f"""
        import json
        import numpy as np
        import tensorflow as tf
        serving = tf.saved_model.load({str(trained.run_dir / "serving")!r}).signatures["serving_default"]
        images = tf.constant(np.array({images.tolist()!r}, dtype="uint8"))
        outputs = serving(images=images)
        errors = []
        for bad in (tf.cast(images, tf.float32), images[:, :20]):
            try:
                serving(images=bad)
            except Exception as error:
                errors.append(str(error))
        print(json.dumps({{
            "label": [label.decode() for label in outputs["label"].numpy()],
            "probabilities": outputs["probabilities"].numpy().tolist(),
            "errors": errors,
        }}))
        """
    )
    expected = trained.trained_run.predict(images)
    assert served["label"] == list(expected["label"])
    np.testing.assert_allclose(served["probabilities"], expected["probabilities"], atol=1e-5)
    assert len(served["errors"]) == 2
    assert "expected to be a uint8 tensor but is a float tensor" in served["errors"][0]
    assert "images: expected uint8 images of shape [batch, 28, 28] or [batch, 28, 28, 1], got shape] [8 20 28]" in served["errors"][1]
    assert "[8 20 28]" in served["errors"][1]


def test_keras_load_model_after_import_toolkit_serves_like_the_saved_model(trained, fashion_test, loaded_by_keras):
    served = loaded_by_keras(trained.run_dir, fashion_test.inputs[:8])
    assert served["class"] == "ImageClassifier"
    assert served["label"] == list(trained.trained_run.predict(fashion_test.inputs[:8])["label"])


def test_predict_rejects_a_wrong_shape_or_dtype_with_the_expected_one(trained, fashion_test):
    with pytest.raises(TypeError, match=r"images: expected uint8 images of shape \(batch, 28, 28\), got float64"):
        trained.trained_run.predict(fashion_test.inputs[:2] / 255)
    with pytest.raises(ValueError, match=r"images: expected uint8 images of shape \(batch, 28, 28\), got shape \(2, 28, 28, 3\)"):
        trained.trained_run.predict(np.repeat(fashion_test.inputs[:2, ..., None], 3, axis=-1))
    assert trained.trained_run.predict(fashion_test.inputs[0])["probabilities"].shape == (1, 10)
    with pytest.raises(TypeError, match="images: expected uint8 inputs, got float32"):
        trained.trained_run.model.serve((fashion_test.inputs[:2] / 255).astype("float32"))


def test_labels_may_be_class_names_or_ids_and_others_are_named(trained, fashion_test):
    images, ids = fashion_test.inputs[:20], fashion_test.targets[:20]
    names = [trained.trained_run.model.class_names[i] for i in ids]
    assert trained.trained_run.evaluate((images, names))["accuracy"] == trained.trained_run.evaluate((images, ids))["accuracy"]
    with pytest.raises(ValueError, match="labels: class id 15 is out of range: there are 10 classes"):
        trained.trained_run.evaluate((images[:2], [0, 15]))
    with pytest.raises(ValueError, match="labels: 'Sock' is not a class name"):
        trained.trained_run.evaluate((images[:2], ["Bag", "Sock"]))


def test_fine_tuning_to_a_two_class_subset(trained, fashion_test):
    train, _ = load_fashion_mnist()
    trouser, bag = 1, 8

    def subset(split, count):
        rows = np.flatnonzero(np.isin(split.targets, [trouser, bag]))[:count]
        return split.inputs[rows], (split.targets[rows] == bag).astype("int64")

    task = toolkit.load(trained.run_dir)
    task.fine_tune(subset(train, 1200), epochs=2, learning_rate=2e-3, class_names=["Trouser", "Bag"], freeze=["image_encoder"])
    images, labels = subset(fashion_test, 400)
    metrics = task.evaluate((images, labels))
    assert metrics["examples"] == 400 and len(metrics["confusion_matrix"]) == 2
    assert metrics["accuracy"] > 0.9, metrics["accuracy"]
    assert set(task.predict(images[:10])["label"]) <= {"Trouser", "Bag"}


def test_a_folder_of_image_files_streams_from_disk_as_it_would_from_memory(fashion_test, tmp_path):
    for label, name in [(1, "trouser"), (8, "bag")]:
        (tmp_path / "images" / name).mkdir(parents=True)
        for index, image in enumerate(fashion_test.inputs[fashion_test.targets == label][:100]):
            tf.io.write_file(str(tmp_path / "images" / name / f"{index}.png"), tf.io.encode_png(image[..., None]))
    settings = [
        "data.source=directory", f"data.directory={tmp_path / 'images'}", "data.image_size=[28,28]",
        "data.color_mode=grayscale", "data.max_examples=null", "trainer.epochs=3",
    ]
    in_memory = toolkit.run("image_classification", SMOKE, settings, run_name="in_memory", output_dir=tmp_path)
    with pytest.warns(Notice, match="preprocessed afresh each epoch"):
        streamed = toolkit.run(
            "image_classification", SMOKE, [*settings, "data.cache_limit_mb=0"], run_name="streamed", output_dir=tmp_path
        )
    assert streamed.history == in_memory.history
    assert streamed.metrics["test"]["accuracy"] == in_memory.metrics["test"]["accuracy"] > 0.8  # chance is 0.5
    assert streamed.trained_run.predict([str(tmp_path / "images" / "bag" / "0.png")])["label"].tolist() == ["bag"]
