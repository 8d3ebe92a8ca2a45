"""The sentiment pipeline end to end on the smoke config: train, evaluate, export, load, serve, fine-tune."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import toolkit
from toolkit.baselines.classical import text_baseline
from toolkit.data.splits import holdout_split
from toolkit.data.text import load_movie_reviews, load_text_splits
from toolkit.models.classifier import choose_branch_weights

pytestmark = pytest.mark.slow

SMOKE = Path(__file__).resolve().parents[2] / "configs" / "sentiment_smoke.yaml"
REVIEWS = [
    "One of the best films I have seen in years. Wonderful acting, a moving story, I loved every minute.",
    "A boring, stupid mess. The worst movie I have ever seen; a complete waste of time and money.",
    "Brilliant, funny and beautifully shot. Highly recommended!",
    "Awful script, terrible acting. I hated it and walked out.",
]
EXPECTED = ["positive", "negative", "positive", "negative"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    output_dir = tmp_path_factory.mktemp("runs")
    return toolkit.run("sentiment", SMOKE, run_name="smoke", output_dir=output_dir)


def test_run_learns_clearly_above_chance(trained):
    test = trained.metrics["test"]
    assert test["examples"] == 300
    assert test["accuracy"] > 0.68, test
    assert test["roc_auc"] > 0.75, test
    assert 0.0 < test["f1"] <= 1.0
    assert np.array(test["confusion_matrix"]).sum() == 300
    assert trained.metrics["epochs_trained"] == {"recurrent": 3, "ngram_bag": 3}


def test_each_branch_is_fitted_alone_and_reported_beside_the_ensemble(trained):
    test = trained.metrics["test"]
    assert set(test["branches"]) == {"recurrent", "ngram_bag"}
    for branch in test["branches"].values():
        assert branch["accuracy"] > 0.6
    assert "recurrent alone" in test["headline"]["branches"] and "ngram_bag alone" in test["headline"]["branches"]
    history = json.loads((trained.run_dir / "history.json").read_text())
    assert len(history["recurrent_val_loss"]) == len(history["ngram_bag_val_loss"]) == 3
    assert "branch" in (trained.run_dir / "training_log.csv").read_text().splitlines()[0]
    # The ensemble's head takes a weighted mean of the branch heads' logits, the weights chosen on the
    # validation reviews: its probabilities are the softmax of the same mean of each branch's
    # log-probabilities, which differ from its logits by a constant per review.
    weights = {name: branch["weight"] for name, branch in test["branches"].items()}
    assert np.isclose(sum(weights.values()), 1.0) and "weighted recurrent" in test["headline"]["branches"]
    model = trained.trained_run.model
    assert model.head.weights_by_branch() == weights
    # They are the ones the validation reviews choose, not the equal weights the head starts with.
    task = trained.trained_run
    validation = task.pipeline.dataset(load_text_splits(task.config.data).validation, model, 64, shuffle=False)
    assert choose_branch_weights(model, validation) == weights != {"recurrent": 0.5, "ngram_bag": 0.5}
    alone = model.branch_probabilities(np.array(REVIEWS, dtype=object))
    mean_log = sum(weights[name] * np.log(p) for name, p in alone.items())
    expected = np.exp(mean_log) / np.exp(mean_log).sum(axis=-1, keepdims=True)
    np.testing.assert_allclose(trained.trained_run.predict(REVIEWS)["probabilities"], expected, atol=1e-5)


def test_baseline_stands_beside_the_network_on_the_same_test_reviews(trained):
    test = trained.metrics["test"]
    baseline = test["baseline"]
    assert baseline["examples"] == test["examples"] and baseline["accuracy"] == test["accuracy"]
    # Fitted afresh on the training split alone, the baseline scores the same on the same test reviews.
    data = load_text_splits(toolkit.api.resolve_config("sentiment", SMOKE).data)
    refitted = text_baseline().fit(data.train, data.validation)
    assert refitted.chosen_c == baseline["chosen_c"]
    assert np.mean(refitted.predict(data.test.inputs) == data.test.targets) == baseline["baseline_accuracy"] > 0.65
    # Paired: the examples only one of them gets right make up the whole difference.
    difference = (baseline["only_model_correct"] - baseline["only_baseline_correct"]) / test["examples"]
    assert np.isclose(difference, test["accuracy"] - baseline["baseline_accuracy"])
    assert test["headline"]["verdict"].startswith("The network ")
    assert test["headline"]["verdict"].split(":")[0].endswith(baseline["name"])


def test_metrics_time_the_fit_and_the_whole_run(trained):
    assert 0 < trained.metrics["fit_seconds"] < trained.metrics["run_seconds"] <= round(trained.seconds, 1)


def test_run_directory_holds_everything(trained):
    run_dir = trained.run_dir
    assert run_dir.name == "smoke" and run_dir.parent.name == "sentiment"
    for name in ("model.keras", "serving/saved_model.pb", "config.yaml", "metrics.json", "run.json",
                 "plots/learning_curves.png", "plots/confusion_matrix.png", "training_log.csv", "history.json"):
        assert (run_dir / name).is_file(), name
    assert json.loads((run_dir / "metrics.json").read_text())["test"]["accuracy"] == trained.metrics["test"]["accuracy"]
    assert toolkit.load(run_dir).pipeline.name == "sentiment"
    assert not [p for p in run_dir.parent.iterdir() if p.name.startswith(".")], "no work or staging folders left"


def test_loaded_task_predicts_what_the_trained_one_did(trained):
    loaded = toolkit.load(trained.run_dir)
    expected = trained.trained_run.predict(REVIEWS)
    actual = loaded.predict(REVIEWS)
    np.testing.assert_allclose(actual["probabilities"], expected["probabilities"], atol=1e-6)
    assert list(actual["label"]) == list(expected["label"])
    np.testing.assert_allclose(actual["probability"], actual["probabilities"].max(axis=-1))


def test_obvious_reviews_get_the_right_label(trained):
    assert list(trained.trained_run.predict(REVIEWS)["label"]) == EXPECTED


def test_serving_signature_takes_raw_strings_in_a_process_without_toolkit(trained, run_without_toolkit):
    served = run_without_toolkit(
        f"""
        import json
        import tensorflow as tf
        serving = tf.saved_model.load({str(trained.run_dir / "serving")!r}).signatures["serving_default"]
        outputs = serving(text=tf.constant({REVIEWS!r}))
        print(json.dumps({{
            "label": [label.decode() for label in outputs["label"].numpy()],
            "probabilities": outputs["probabilities"].numpy().tolist(),
        }}))
        """
    )
    expected = trained.trained_run.predict(REVIEWS)
    assert served["label"] == list(expected["label"])
    np.testing.assert_allclose(served["probabilities"], expected["probabilities"], atol=1e-5)


def test_keras_load_model_after_import_toolkit_serves_like_the_saved_model(trained, loaded_by_keras):
    served = loaded_by_keras(trained.run_dir, np.array(REVIEWS, dtype=object))
    assert served["class"] == "TextClassifier"
    assert served["label"] == list(trained.trained_run.predict(REVIEWS)["label"])


def test_saved_model_cli_lists_the_signature(trained):
    cli = Path(sys.executable).parent / "saved_model_cli"
    shown = subprocess.run(
        [str(cli), "show", "--dir", str(trained.run_dir / "serving"), "--all"],
        capture_output=True, text=True, check=True, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    ).stdout
    assert "signature_def['serving_default']" in shown
    for name in ("text", "label", "probability", "probabilities"):
        assert f"['{name}']" in shown


def test_fine_tuning_on_rotten_tomatoes_raises_accuracy_there(trained, tmp_path):
    texts, labels = load_movie_reviews("rotten_tomatoes")
    train, held_out = holdout_split(texts, labels, fraction=0.2, seed=0)
    task = toolkit.load(trained.run_dir)
    before = task.evaluate((held_out.inputs, held_out.targets))["accuracy"]
    task.fine_tune((train.inputs, train.targets), epochs=2, learning_rate=3e-3)
    after = task.evaluate((held_out.inputs, held_out.targets))["accuracy"]
    # 2,133 held-out reviews: a gain of 3 points is more than twice its standard error.
    assert after > before + 0.03, (before, after)

    exported = task.export(tmp_path / "fine_tuned")
    reloaded = toolkit.load(exported)
    np.testing.assert_allclose(
        reloaded.predict(held_out.inputs[:20])["probabilities"], task.predict(held_out.inputs[:20])["probabilities"], atol=1e-6
    )


def test_freezing_keeps_named_layers_fixed(trained):
    task = toolkit.load(trained.run_dir)
    embedding = task.network.get_layer("embedding").get_weights()[0].copy()
    task.fine_tune((np.array(REVIEWS * 8), np.array([1, 0, 1, 0] * 8)), epochs=1, freeze=["embedding"], validation_fraction=0)
    np.testing.assert_array_equal(task.network.get_layer("embedding").get_weights()[0], embedding)
    with pytest.raises(ValueError, match="no layer named 'encoder' to freeze. Layers: .*embedding"):
        task.fine_tune((np.array(REVIEWS), np.array([1, 0, 1, 0])), epochs=1, freeze=["encoder"])


def test_new_class_names_of_another_count_replace_the_head_and_travel_with_the_model(trained, tmp_path):
    task = toolkit.load(trained.run_dir)
    texts = np.array(REVIEWS * 6)
    task.fine_tune((texts, np.array([0, 1, 2, 1] * 6)), epochs=1, class_names=["bad", "mixed", "good"], validation_fraction=0)
    outputs = task.predict(REVIEWS)
    assert outputs["probabilities"].shape == (4, 3)
    assert set(outputs["label"]) <= {"bad", "mixed", "good"}

    reloaded = toolkit.load(task.export(tmp_path / "three_classes"))
    assert reloaded.model.class_names == ["bad", "mixed", "good"]
    np.testing.assert_allclose(reloaded.predict(REVIEWS)["probabilities"], outputs["probabilities"], atol=1e-6)


def test_new_class_names_of_the_same_count_rename_the_classes_and_keep_the_head(trained):
    renamed = trained.trained_run.model.with_classes(["bad", "good"])
    before, after = trained.trained_run.model.serve(REVIEWS), renamed.serve(REVIEWS)
    np.testing.assert_array_equal(after["probabilities"].numpy(), before["probabilities"].numpy())
    expected = [{"negative": b"bad", "positive": b"good"}[label.decode()] for label in before["label"].numpy()]
    assert list(after["label"].numpy()) == expected
    assert renamed.head is trained.trained_run.model.head


def test_labels_may_be_class_names_and_bad_labels_leave_the_task_as_it_was(trained):
    task = toolkit.load(trained.run_dir)
    by_name = task.evaluate((REVIEWS, EXPECTED))
    assert by_name["accuracy"] == task.evaluate((REVIEWS, [1, 0, 1, 0]))["accuracy"]
    with pytest.raises(ValueError, match="class id 7 is out of range: there are 2 classes"):
        task.evaluate((REVIEWS, [0, 1, 7, 0]))
    model = task.model
    with pytest.raises(ValueError, match="'mixed' is not a class name; the classes are bad, good"):
        task.fine_tune((REVIEWS, ["bad", "mixed", "good", "bad"]), class_names=["bad", "good"])
    with pytest.raises(ValueError, match="epochs must be at least 1, got 0"):
        task.fine_tune((REVIEWS, EXPECTED), epochs=0)
    with pytest.raises(ValueError, match="4 inputs but 3 targets"):
        task.fine_tune((REVIEWS, EXPECTED[:3]))
    assert task.model is model and task.model.class_names == ["negative", "positive"]


def test_vocabulary_is_adapted_on_the_training_split_only():
    from toolkit.data.splits import DataSplits, Split
    from toolkit.registry import get_pipeline

    pipeline = get_pipeline("sentiment")
    data = DataSplits(
        train=Split(np.array(["good film", "bad film"], dtype=object), np.array([1, 0])),
        validation=Split(np.array(["zzvalidationword"], dtype=object), np.array([1])),
        test=Split(np.array(["zztestword"], dtype=object), np.array([0])),
        metadata={"class_names": ["negative", "positive"]},
    )
    config = pipeline.config_class()
    model = pipeline.build_task(config, data, pipeline.build_preprocessor(config, data))
    for vectorizer in (model.preprocessor.token_ids, model.preprocessor.ngram_ids):
        vocabulary = {str(token) for token in vectorizer.vectorization.get_vocabulary()}
        assert {"good", "bad", "film"} <= vocabulary
        assert not any("zzvalidationword" in term or "zztestword" in term for term in vocabulary)
    assert "good film" in {str(token) for token in model.preprocessor.ngram_ids.vectorization.get_vocabulary()}
