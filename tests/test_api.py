"""The Python API: `toolkit.load` of a recorded run, configs resolved from any form, and `toolkit.run` on a tiny stock run."""

from __future__ import annotations

import json
import shutil

import keras
import numpy as np
import pytest

import toolkit
from pipelines.stock import StockConfig
from tests.fixtures.releases import LATEST
from toolkit import config as config_lib
from toolkit.api import RunResult, resolve_config
from toolkit.config import ConfigError
from toolkit.errors import InputError, UnknownPipelineError
from toolkit.trained_run import TrainedRun

STOCK = LATEST / "stock"
TINY = json.loads((STOCK / "overrides.json").read_text())  # what the recorded run was trained with: one small epoch


def test_load_restores_a_recorded_run_that_answers_as_it_did(tmp_path):
    run = shutil.copytree(STOCK / "run", tmp_path / "run")
    trained = toolkit.load(run)
    assert isinstance(trained, TrainedRun) and trained.pipeline.name == "stock" and trained.source == run
    answers = np.load(STOCK / "answers.npz")
    predicted = trained.predict(np.load(STOCK / "inputs.npy"))
    for name in answers.files:
        np.testing.assert_allclose(predicted[name], answers[name], rtol=1e-5, atol=1e-5)
    assert toolkit.load(str(run)).source == run, "a path given as a string"


def test_a_config_is_resolved_from_the_defaults_a_dict_an_instance_or_a_file_then_overridden(tmp_path):
    defaults = resolve_config("stock")
    assert isinstance(defaults, StockConfig) and defaults == StockConfig()
    from_dict = resolve_config("stock", {"data": {"window": 7}}, ["trainer.epochs=2"])
    assert (from_dict.data.window, from_dict.trainer.epochs) == (7, 2)
    from_instance = resolve_config("stock", from_dict, {"model.dropout": 0.5})
    assert (from_instance.data.window, from_instance.model.dropout) == (7, 0.5)
    assert from_dict.model.dropout != 0.5, "the instance given is not changed"
    path = tmp_path / "stock.yaml"
    config_lib.save_config(from_instance, path)
    from_file = resolve_config("stock", path, ["data.window=9"])
    assert from_file.data.window == 9 and from_file.model.dropout == 0.5
    assert resolve_config("stock", str(path)).data.window == 7


def test_a_bad_config_or_pipeline_is_refused_by_name():
    with pytest.raises(ConfigError, match="window"):
        resolve_config("stock", {"data": {"window": "eleven"}})
    with pytest.raises(ConfigError, match="no_such_key"):
        resolve_config("stock", None, ["data.no_such_key=1"])
    with pytest.raises(UnknownPipelineError, match="Unknown pipeline 'stocks'"):
        resolve_config("stocks")


def test_multi_worker_training_needs_a_run_name_and_nothing_is_written_without_one(tmp_path):
    with pytest.raises(InputError, match=r"trainer.distribution=multi_worker: give a run name \(--run-name, or run_name= in "
                                         r"Python\), the same on every worker"):
        toolkit.run("stock", overrides={**TINY, "trainer.distribution": "multi_worker"}, output_dir=tmp_path)
    assert list(tmp_path.iterdir()) == []


class EpochCounter(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.epochs = 0

    def on_epoch_end(self, epoch, logs=None):
        self.epochs += 1


def test_a_run_trains_evaluates_and_writes_a_run_that_loads(tmp_path):
    counter = EpochCounter()
    result = toolkit.run("stock", overrides=TINY, run_name="tiny", output_dir=tmp_path, group="trials", callbacks=[counter])
    assert isinstance(result, RunResult)
    assert result.run_dir == tmp_path / "stock" / "trials" / "tiny"
    assert {"model.keras", "serving", "metrics.json", "config.yaml", "run.json", "history.json"} <= {
        path.name for path in result.run_dir.iterdir()
    }
    assert counter.epochs == 1, "the callbacks given are added to the fit"
    assert len(result.history["loss"]) == 1 and result.seconds > 0
    metrics = result.metrics
    assert metrics["epochs_trained"] == 1 and metrics["fit_seconds"] >= 0
    assert metrics["distribution"] == {"strategy": "default (one device)", "workers": 1, "replicas_in_sync": 1}
    assert "walk_forward" not in metrics, "the run was asked for no folds"
    assert metrics["test"]["headline"]["verdict"].startswith("The model ")
    assert json.loads((result.run_dir / "metrics.json").read_text())["epochs_trained"] == 1
    assert result.model is result.trained_run.model and result.trained_run.source == result.run_dir
    assert result.worker.is_chief
    inputs = np.load(STOCK / "inputs.npy")
    reloaded = toolkit.load(result.run_dir)
    np.testing.assert_allclose(reloaded.predict(inputs)["prices"], result.trained_run.predict(inputs)["prices"], rtol=1e-6)
    assert reloaded.config == result.trained_run.config == resolve_config("stock", None, TINY)
