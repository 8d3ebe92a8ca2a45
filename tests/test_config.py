"""Strict config loading: unknown keys, wrong types and ranges fail with messages that name them."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import yaml

from pipelines.sentiment import SentimentConfig
from toolkit import config as config_lib
from toolkit.config import ConfigError, load_config
from toolkit.registry import get_pipeline, pipeline_names

CONFIGS = Path(__file__).resolve().parents[1] / "configs"


def write_yaml(tmp_path: Path, values: dict) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(values))
    return path


def test_unknown_key_names_its_path_the_closest_key_and_the_valid_ones(tmp_path):
    path = write_yaml(tmp_path, {"trainer": {"epoch": 3}})
    with pytest.raises(ConfigError) as error:
        load_config(SentimentConfig, path)
    message = str(error.value)
    assert str(path) in message
    assert "unknown key 'trainer.epoch'" in message
    assert "Did you mean 'epochs'?" in message
    assert "Valid keys in 'trainer':" in message and "learning_rate" in message


def test_unknown_top_level_section_is_rejected():
    with pytest.raises(ConfigError, match="unknown key 'modle'. Did you mean 'model'?"):
        load_config(SentimentConfig, overrides=["modle.units=3"])


@pytest.mark.parametrize(
    "override, message",
    [
        ("trainer.epochs=three", "trainer.epochs: expected int, got str 'three'"),
        ("trainer.epochs=0", "trainer.epochs: 0 is below the minimum 1"),
        ("trainer.learning_rate=-0.1", "trainer.learning_rate: -0.1 must be above 0.0"),
        ("model.recurrent.dropout=1.5", "model.recurrent.dropout: 1.5 is above the maximum 1.0"),
        ("trainer.optimizer=adum", "trainer.optimizer: 'adum' is not one of 'adam', 'adamw', 'rmsprop', 'sgd'"),
        ("model.recurrent.bidirectional=3", "model.recurrent.bidirectional: expected bool, got int 3"),
        ("data.source=kaggle", "data.source: 'kaggle' is not one of"),
        ("trainer=5", "trainer: expected a mapping of keys, got int"),
    ],
)
def test_wrong_types_and_ranges_name_the_field(override, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_config(SentimentConfig, overrides=[override])


def test_dotted_overrides_set_nested_values_with_yaml_types():
    config = load_config(
        SentimentConfig, overrides=["trainer.epochs=3", "model.recurrent.units=32", "trainer.clipnorm=null", "trainer.metrics=[accuracy]"]
    )
    assert config.trainer.epochs == 3
    assert config.model.recurrent.units == 32
    assert config.trainer.clipnorm is None
    assert config.trainer.metrics == ["accuracy"]
    assert config.trainer.learning_rate == SentimentConfig().trainer.learning_rate


def test_integers_are_accepted_for_float_fields():
    assert load_config(SentimentConfig, overrides={"trainer.learning_rate": 1}).trainer.learning_rate == 1.0


def test_malformed_override_and_missing_file_are_explained(tmp_path):
    with pytest.raises(ConfigError, match="not of the form key.path=value"):
        load_config(SentimentConfig, overrides=["trainer.epochs"])
    with pytest.raises(FileNotFoundError, match="Config file not found: .*missing.yaml"):
        load_config(SentimentConfig, tmp_path / "missing.yaml")


def test_invalid_yaml_names_the_file(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("trainer: [epochs: 3\n")
    with pytest.raises(ConfigError, match="broken.yaml: not valid YAML"):
        load_config(SentimentConfig, path)


def test_saved_config_loads_back_equal(tmp_path):
    config = load_config(SentimentConfig, overrides=["trainer.epochs=7"])
    config_lib.save_config(config, tmp_path / "saved.yaml")
    assert load_config(SentimentConfig, tmp_path / "saved.yaml") == config


@pytest.mark.parametrize("name", ["sentiment", "stock", "image_classification", "captioning", "text_generation"])
def test_each_pipelines_yaml_is_exactly_its_defaults(name):
    pipeline = get_pipeline(name)
    assert load_config(pipeline.config_class, CONFIGS / f"{name}.yaml") == pipeline.config_class()
    # Every key written out, none left to the code's defaults: the file is what the run uses.
    assert yaml.safe_load((CONFIGS / f"{name}.yaml").read_text()) == dataclasses.asdict(pipeline.config_class())


def test_every_yaml_in_configs_loads():
    names = pipeline_names()
    for path in CONFIGS.glob("*.yaml"):
        pipeline_name = next(name for name in names if path.stem.startswith(name))
        load_config(get_pipeline(pipeline_name).config_class, path)


def test_describe_documents_every_key():
    text = config_lib.describe(SentimentConfig)
    assert "epochs (int, default 8): Maximum number of epochs." in text  # SentimentConfig's, not TrainerConfig's 5
    assert "clipnorm" in text and "exploding gradients" in text


def test_a_partly_given_section_keeps_the_pipelines_own_defaults_for_it():
    pipeline = get_pipeline("sentiment")
    config = load_config(pipeline.config_class, overrides=["trainer.learning_rate=0.01"])
    assert config.trainer.learning_rate == 0.01
    assert (config.trainer.epochs, config.trainer.optimizer) == (8, "adamw")  # SentimentConfig's, not TrainerConfig's
    stock = load_config(get_pipeline("stock").config_class, overrides={"model.recurrent.units": 8})
    assert stock.model.recurrent.units == 8 and stock.model.recurrent.bidirectional is False
