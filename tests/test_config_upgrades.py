"""Config schema upgrades: each step alone, every earlier release's configs to today's keys, and newer configs refused."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from tests.fixtures import releases
from toolkit import config as config_lib
from toolkit import config_upgrades
from toolkit.config_upgrades import CONFIG_SCHEMA, STEPS, NewerConfigError, upgrade_config
from toolkit.registry import get_pipeline, pipeline_names

# Each pipeline's config keys in each schema, dotted; a new schema appends its keys here with its step.
KEYS_BY_SCHEMA = json.loads((Path(__file__).parent / "fixtures" / "config_keys.json").read_text())


def current_keys(pipeline: str) -> list[str]:
    return sorted(config_lib.dotted(config_lib.to_dict(get_pipeline(pipeline).config_class())))


def test_the_steps_are_numbered_in_order_and_each_says_what_it_does():
    assert [step.to for step in STEPS] == list(range(2, CONFIG_SCHEMA + 1))
    assert all(step.summary for step in STEPS)


@pytest.mark.parametrize("pipeline", pipeline_names())
def test_todays_keys_are_those_of_the_current_schema(pipeline):
    """A key added, renamed or removed without a schema step (and its keys here) fails this test."""
    assert current_keys(pipeline) == KEYS_BY_SCHEMA[str(CONFIG_SCHEMA)][pipeline], (
        "the config's keys changed: add a step in toolkit/config_upgrades.py and the new schema's keys to "
        "tests/fixtures/config_keys.json"
    )


@pytest.mark.parametrize("step", STEPS, ids=lambda step: f"to_{step.to}")
def test_each_step_alone_takes_its_schemas_keys_to_the_next(step):
    for pipeline, keys in KEYS_BY_SCHEMA[str(step.to - 1)].items():
        values = _nested({key: None for key in keys})
        step.apply(pipeline, values)
        assert sorted(config_lib.dotted(values)) == KEYS_BY_SCHEMA[str(step.to)][pipeline], pipeline


STEP_VALUES = {
    2: ("sentiment", {"model.ngram_bag.ngrams": 0, "model.ngram_bag.max_tokens": 200_000,
                      "model.ngram_bag.embedding_dim": 16, "model.pooling": "last", "model.spatial_dropout": 0.0}),
    3: ("stock", {"data.date_format": None}),
    4: ("sentiment", {"data.cache_limit_mb": config_upgrades.UNLIMITED_CACHE_MB}),
    5: ("captioning", {"trainer.truncated_bptt": None}),
    6: ("image_classification", {"model.test_time_flip": False, "trainer.label_smoothing": 0.0, "model.augmentation.erasing": 0.0}),
    7: ("captioning", {"model.decoder": "init_state", "model.attention_units": 64, "model.word_dropout": 0.0,
                       "model.word_presence_loss": 0.0, "data.selection_images": 0,
                       "model.augmentation.grayscale": 0.0, "decoding.presence_weight": 0.0}),
    8: ("captioning", {"model.encoder.colour": "mixed", "model.encoder.colour_filters": 16, "decoding.context_weight": 1.0}),
    9: ("text_generation", {"serving.max_batch": None, "serving.max_characters": None, "serving.max_generate_length": 10_000}),
}


@pytest.mark.parametrize("to", sorted(STEP_VALUES))
def test_an_added_key_gets_the_value_that_reproduces_the_earlier_release(to):
    pipeline, expected = STEP_VALUES[to]
    values = _nested({key: "kept" for key in KEYS_BY_SCHEMA[str(to - 1)][pipeline]})
    STEPS[to - 2].apply(pipeline, values)
    flat = config_lib.dotted(values)
    added = set(KEYS_BY_SCHEMA[str(to)][pipeline]) - set(KEYS_BY_SCHEMA[str(to - 1)][pipeline])
    assert set(expected) == added, "STEP_VALUES names every key the step adds"
    assert {key: flat[key] for key in expected} == expected
    assert all(flat[key] == "kept" for key in KEYS_BY_SCHEMA[str(to - 1)][pipeline]), "a step changes only what it adds"


def test_a_step_leaves_a_config_that_already_has_its_keys_as_it_is():
    values = _nested({key: "kept" for key in KEYS_BY_SCHEMA[str(CONFIG_SCHEMA)]["captioning"]})
    assert upgrade_config("captioning", values, schema=None) == values


def test_upgrading_does_not_change_what_it_was_given():
    values = {"data": {"source": "bokeh_sampledata"}}
    upgrade_config("stock", values, schema=2)
    assert values == {"data": {"source": "bokeh_sampledata"}}


@pytest.mark.parametrize("release", releases.RELEASES)
def test_every_recorded_releases_configs_load_as_complete_configs_of_today(release):
    for run in sorted((releases.RUNS / release).glob("*/run")):
        pipeline = run.parent.name
        config = config_lib.load_config(
            get_pipeline(pipeline).config_class, run / "config.yaml", complete=True, pipeline=pipeline
        )
        assert sorted(config_lib.dotted(config_lib.to_dict(config))) == current_keys(pipeline)


@pytest.mark.parametrize("release", releases.RELEASES)
def test_an_earlier_releases_run_config_given_to_run_config_is_upgraded(release):
    """`toolkit run NAME --config OLD_RUN/config.yaml`: a partial config, but a run's, so it is upgraded."""
    for run in sorted((releases.RUNS / release).glob("*/run")):
        pipeline = run.parent.name
        config = config_lib.load_config(get_pipeline(pipeline).config_class, run / "config.yaml", pipeline=pipeline)
        complete = config_lib.load_config(
            get_pipeline(pipeline).config_class, run / "config.yaml", complete=True, pipeline=pipeline
        )
        assert config == complete, pipeline


@pytest.mark.parametrize("schema", [True, 0, 2.5, "9"])
def test_a_schema_that_is_not_a_positive_whole_number_is_refused_naming_the_file(schema, tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump({"config_schema": schema, "trainer": {"epochs": 2}}))
    message = rf"{path}: config_schema: expected a positive whole number, got {re.escape(repr(schema))}\."
    with pytest.raises(config_lib.ConfigError, match=message):
        config_lib.load_config(get_pipeline("stock").config_class, path, pipeline="stock")


def test_a_config_of_a_newer_schema_is_refused_with_both_versions_and_upgrade_toolkit(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump({"toolkit_version": "9.0.0", "config_schema": CONFIG_SCHEMA + 1, "trainer": {"epochs": 2}}))
    message = (
        rf"{path}: written by toolkit 9\.0\.0 in config schema {CONFIG_SCHEMA + 1}; this is toolkit \S+, which reads "
        rf"config schemas up to {CONFIG_SCHEMA}\. Upgrade toolkit to open it\."
    )
    with pytest.raises(config_lib.ConfigError, match=message):
        config_lib.load_config(get_pipeline("stock").config_class, path, pipeline="stock")
    with pytest.raises(NewerConfigError):
        upgrade_config("stock", {}, CONFIG_SCHEMA + 1, "9.0.0")


def test_a_saved_config_records_its_toolkit_and_schema_and_loads_back_unchanged(tmp_path):
    import toolkit

    config = get_pipeline("stock").config_class()
    config_lib.save_config(config, tmp_path / "config.yaml")
    stored = yaml.safe_load((tmp_path / "config.yaml").read_text())
    assert (stored["toolkit_version"], stored["config_schema"]) == (toolkit.__version__, CONFIG_SCHEMA)
    loaded = config_lib.load_config(type(config), tmp_path / "config.yaml", complete=True, pipeline="stock")
    assert loaded == config


def _nested(flat: dict) -> dict:
    nested: dict = {}
    for key, value in flat.items():
        *sections, leaf = key.split(".")
        node = nested
        for section in sections:
            node = node.setdefault(section, {})
        node[leaf] = value
    return nested
