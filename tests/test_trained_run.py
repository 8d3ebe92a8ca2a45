"""A trained run from Python, on a copy of a recorded stock run: predict as recorded, evaluate, fine-tune, export, and refusals."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

import toolkit
from tests.fixtures.releases import LATEST
from toolkit.errors import InputError
from toolkit.run_directory import RunDirectoryError
from toolkit.trained_run import TrainedRun

STOCK = LATEST / "stock"
INPUTS = np.load(STOCK / "inputs.npy")
ANSWERS = np.load(STOCK / "answers.npz")


@pytest.fixture
def stock(tmp_path) -> TrainedRun:
    return TrainedRun.load(shutil.copytree(STOCK / "run", tmp_path / "run"))


def log_changes(count: int) -> np.ndarray:
    return np.random.default_rng(0).normal(0, 0.01, (count, 1)).astype("float32")


def test_a_loaded_run_knows_its_pipeline_config_and_source(stock, tmp_path):
    assert stock.pipeline.name == "stock" and stock.source == tmp_path / "run"
    assert stock.config.data.window == 11 and stock.model.window == 11
    assert stock.network is stock.model.network and stock.preprocessor is stock.model.preprocessor
    assert stock.layer_names() == [layer.name for layer in stock.network.layers] == ["features", "lstm_1", "dropout", "head",
                                                                                     "unscale"]


def test_predictions_are_those_recorded_in_any_batch_size(stock):
    for batch_size in (256, 4, 1):
        predicted = stock.predict(INPUTS, batch_size=batch_size)
        assert sorted(predicted) == sorted(ANSWERS.files)
        for name in ANSWERS.files:
            np.testing.assert_allclose(predicted[name], ANSWERS[name], rtol=1e-5, atol=1e-5, err_msg=name)
    empty = stock.predict([])
    assert empty["prices"].shape == (0, 1) and empty["log_changes"].shape == (0, 1)


def test_attention_is_refused_for_a_model_without_it(stock):
    with pytest.raises(InputError, match=r"^return_attention: this PriceForecaster has no attention weights to return; its "
                                         r"outputs are prices, log_changes\. A captioner has them with model.decoder: attention\.$"):
        stock.predict(INPUTS, return_attention=True)


def test_evaluating_given_windows_reports_the_model_beside_persistence(stock):
    report = stock.evaluate((INPUTS, log_changes(len(INPUTS))))
    assert report["examples"] == len(INPUTS)
    assert sorted(report["overall"]) == ["linear", "model", "persistence"]
    assert report["headline"]["verdict"].startswith("The model ")


def test_fine_tuning_trains_on_the_data_for_the_epochs_asked_and_keeps_frozen_layers(stock):
    before = {layer.name: [w.copy() for w in layer.get_weights()] for layer in stock.network.layers}
    history = stock.fine_tune((INPUTS, log_changes(len(INPUTS))), epochs=2, learning_rate=1e-2, freeze=["lstm_1"],
                              batch_size=2, validation_fraction=0.34)
    assert sorted(history) == ["loss", "mae", "val_loss", "val_mae"] and len(history["loss"]) == 2
    for name in ("lstm_1", "head"):
        after = stock.network.get_layer(name).get_weights()
        changed = any(not np.array_equal(a, b) for a, b in zip(after, before[name]))
        assert changed == (name == "head"), name
    assert not stock.network.get_layer("lstm_1").trainable


BAD_SETTINGS = [
    ({"epochs": 0}, r"^fine_tune: epochs must be at least 1, got 0\.$"),
    ({"learning_rate": 0.0}, r"^fine_tune: learning_rate must be a positive finite number, got 0.0\.$"),
    ({"learning_rate": float("nan")}, r"got nan\.$"),
    ({"class_names": ["up", "down"]}, (r"^fine_tune: class_names applies to classifiers; a stock task "
                                       r"\(PriceForecaster\) has no classes\.$")),
    ({"freeze": ["lstm_1", "embedding"]}, (r"^fine_tune: no layer named 'embedding' to freeze\. Layers: features, "
                                           r"lstm_1, dropout, head, unscale\.$")),
]


def test_bad_fine_tuning_settings_are_refused_and_leave_the_run_as_it_was(stock):
    model, weights = stock.model, [w.copy() for w in stock.model.get_weights()]
    for arguments, message in BAD_SETTINGS:
        with pytest.raises(InputError, match=message):
            stock.fine_tune((INPUTS, log_changes(len(INPUTS))), **arguments)
        assert stock.model is model and all(layer.trainable for layer in stock.network.layers), arguments
    for after, before in zip(stock.model.get_weights(), weights):
        np.testing.assert_array_equal(after, before)


def test_data_without_one_target_per_input_is_refused(stock):
    with pytest.raises(InputError, match=r"^data: 6 inputs but 5 targets; give one target per input\.$"):
        stock.fine_tune((INPUTS, log_changes(5)))
    with pytest.raises(InputError, match=r"^data: no examples; give at least one input and its target\.$"):
        stock.fine_tune(([], np.zeros((0, 1), "float32")))


def test_an_export_is_a_new_run_that_loads_and_answers_the_same_but_never_the_source(stock, tmp_path):
    stock.fine_tune((INPUTS, log_changes(len(INPUTS))), epochs=1, batch_size=3, validation_fraction=0.34)
    tuned = stock.predict(INPUTS)
    exported = stock.export(tmp_path / "tuned", metrics={"note": "fine-tuned on six windows"})
    assert exported == tmp_path / "tuned"
    assert {"model.keras", "serving", "config.yaml", "metrics.json", "run.json"} <= {p.name for p in exported.iterdir()}
    reloaded = toolkit.load(exported)
    np.testing.assert_allclose(reloaded.predict(INPUTS)["prices"], tuned["prices"], rtol=1e-6)
    assert reloaded.source == exported
    with pytest.raises(RunDirectoryError, match=r"that is the run being fine-tuned, or a folder inside it"):
        stock.export(stock.source)
    with pytest.raises(RunDirectoryError, match="that is the run being fine-tuned"):
        stock.export(stock.source / "inside")


def test_new_class_names_of_another_count_give_a_classifier_a_new_head(tmp_path):
    sentiment = toolkit.load(shutil.copytree(LATEST / "sentiment" / "run", tmp_path / "sentiment"))
    texts = [str(text) for text in np.load(LATEST / "sentiment" / "inputs.npy", allow_pickle=True)]
    assert sentiment.model.class_names == ["negative", "positive"]
    labels = ["bad", "good", "meh", "good", "bad", "meh"][: len(texts)]
    history = sentiment.fine_tune((texts, labels), epochs=1, class_names=["bad", "meh", "good"], batch_size=4,
                                  validation_fraction=0.0)
    assert sentiment.model.class_names == ["bad", "meh", "good"]
    assert {key.split("_")[0] for key in history} <= {"recurrent", "ngram"}, "each branch fitted alone"
    predicted = sentiment.predict(texts)
    assert predicted["probabilities"].shape == (len(texts), 3)
    assert set(predicted["label"]) <= {"bad", "meh", "good"} and isinstance(predicted["label"][0], str)
    with pytest.raises(InputError, match=r"labels: 'great' is not a class name; the classes are bad, meh, good\."):
        sentiment.fine_tune((texts[:1], ["great"]))
