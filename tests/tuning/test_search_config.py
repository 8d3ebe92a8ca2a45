"""A search config: the shipped spaces, and every mistake refused before any trial starts, naming the file and the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.tuning.conftest import TINY_DIGITS, TINY_STOCK, search_config, write_yaml
from toolkit import config as config_lib
from toolkit.config import ConfigError
from toolkit.config_yaml import read_yaml
from toolkit.tuning.search_config import load_search

SEARCH_CONFIGS = Path(__file__).resolve().parents[2] / "configs" / "search"
PIPELINES = ["captioning", "image_classification", "sentiment", "stock", "text_generation"]


@pytest.mark.parametrize("pipeline", PIPELINES)
def test_every_pipeline_has_a_search_config_that_loads(pipeline):
    search = load_search(pipeline, SEARCH_CONFIGS / f"{pipeline}.yaml")
    assert search.space and search.trials == 20
    assert not any(parameter.key.startswith("search") for parameter in search.space)
    for parameter in search.space:
        for value in parameter.values_to_check():
            search.trial_config({parameter.key: value})


def test_the_base_config_is_the_file_without_its_search_section(tmp_path):
    path = write_yaml(tmp_path / "search.yaml", search_config(TINY_STOCK, {"model.dropout": {"float": [0.0, 0.3]}}))
    search = load_search("stock", path, trials=7, timeout=1.5)
    assert search.base_config.data.tickers == ["IBM"] and search.base_config.trainer.epochs == 3
    assert (search.trials, search.timeout_minutes, search.source) == (7, 1.5, str(path))
    assert search.metric.name == "headline.skill_vs_persistence" and search.direction == "minimize"
    trial = search.trial_config({"model.dropout": 0.25})
    assert trial.model.dropout == 0.25 and trial.data.tickers == ["IBM"]
    assert search.identity()["space"] == {"model.dropout": {"float": [0.0, 0.3], "log": False}}
    assert search.identity()["config"]["trainer.epochs"] == 3


def test_a_resolved_run_config_with_its_versions_is_a_valid_base(tmp_path):
    search = load_search("stock", search_config(TINY_STOCK, {"model.dropout": {"float": [0.0, 0.3]}}))
    config_lib.save_config(search.base_config, tmp_path / "config.yaml")
    values = read_yaml((tmp_path / "config.yaml").read_text())
    values["search"] = {"space": {"model.dropout": {"float": [0.0, 0.3]}}}
    assert load_search("stock", values).base_config == search.base_config


def refused(pipeline: str, config: dict, *args) -> str:
    with pytest.raises(ConfigError) as error:
        load_search(pipeline, config, *args)
    return str(error.value)


@pytest.mark.parametrize(
    ("space", "message"),
    [
        ({"model.recurent.units": {"int": [4, 8]}}, "unknown key 'model.recurent'. Did you mean 'recurrent'?"),
        ({"trainer.epochz": {"int": [2, 4]}}, "unknown key 'trainer.epochz'. Did you mean 'epochs'?"),
        ({"model.recurrent": {"int": [4, 8]}}, "'model.recurrent' is a section, not a setting; search one of its keys"),
        ({"trainer.epochs": {"int": [0, 4]}}, "'trainer.epochs', int [0, 4]: trainer.epochs: 0 is below the minimum 1."),
        ({"model.dropout": {"float": [0.1, 0.5]}, "trainer.seed": {"int": [0, 2**33]}}, "is above the maximum 4294967295"),
        ({"model.recurrent.units": {"float": [4, 8.5]}}, "model.recurrent.units: expected int, got float 4.0."),
        ({"trainer.optimizer": {"choice": ["adam", "nadam"]}}, "trainer.optimizer: 'nadam' is not one of"),
        ({"data.validation_fraction": {"float": [0.1, 0.2]}}, "'data.validation_fraction' may decide which examples "
         "are trained, validated and tested on; trials are compared on the same examples, so a search cannot vary "
         "it. Set it in the config instead. The data keys a search may vary here: data.cache_limit_mb, data.window."),
        ({"data.tickers": {"choice": [["IBM"], ["MSFT"]]}}, "'data.tickers' may decide which examples"),
        ({"data.horizon": {"int": [1, 5]}}, "'data.horizon' may decide which examples"),
    ],
)
def test_a_space_key_is_checked_as_set_checks_it(space, message):
    assert message in refused("stock", search_config(TINY_STOCK, space))


def test_errors_name_the_file(tmp_path):
    path = write_yaml(tmp_path / "mine.yaml", search_config(TINY_STOCK, {}))
    assert refused("stock", path).startswith(f"{path}: search.space: empty")


def test_a_config_without_a_search_section_is_refused(tmp_path):
    path = write_yaml(tmp_path / "plain.yaml", TINY_STOCK)
    assert "no `search:` section. A search config is a pipeline config plus a search section" in refused("stock", path)


@pytest.mark.parametrize(
    ("pipeline", "base", "metric", "message"),
    [
        ("stock", TINY_STOCK, "accuracy", "search.metric: 'accuracy' is not a validation metric the stock pipeline"),
        ("image_classification", TINY_DIGITS, "test.accuracy", "A search chooses on the validation split only"),
        ("image_classification", TINY_DIGITS, "validation.accuracy", "It reports: accuracy (the share of examples"),
    ],
)
def test_a_metric_the_pipeline_does_not_report_is_refused(pipeline, base, metric, message):
    config = search_config(base, {"model.dropout": {"float": [0.0, 0.3]}}, metric=metric)
    assert message in refused(pipeline, config)


def test_a_direction_against_the_metric_is_refused():
    config = search_config(TINY_DIGITS, {"model.dropout": {"float": [0.0, 0.3]}}, metric="f1", direction="minimize")
    assert "search.direction: minimize, but a higher f1 is better; give maximize" in refused("image_classification", config)


def test_pruning_on_a_log_the_fit_does_not_write_is_refused():
    base = {**TINY_STOCK, "trainer": {**TINY_STOCK["trainer"], "metrics": ["mse"]}}
    config = search_config(base, {"model.dropout": {"float": [0.0, 0.3]}})
    message = refused("stock", config)
    assert "search.pruner: pruning watches val_mae after each epoch, but trainer.metrics ['mse']" in message


@pytest.mark.parametrize(
    ("search", "args", "message"),
    [
        ({"trials": 0}, (), "search.trials: 0 is below the minimum 1."),
        ({"timeout": 0}, (), "search.timeout: 0.0 must be above 0.0"),
        ({"pruner": {"kind": "patient"}}, (), "search.pruner.kind: 'patient' is not one of"),
        ({"sampler": "tpe"}, (), "unknown key 'search.sampler'"),
        ({}, (0,), "--trials: expected a whole number of at least 1, got 0."),
        ({}, (None, -1), "--timeout: expected minutes above 0, got -1."),
    ],
)
def test_search_settings_are_checked(search, args, message):
    config = search_config(TINY_STOCK, {"model.dropout": {"float": [0.0, 0.3]}}, **search)
    assert message in refused("stock", config, *args)
