"""A search space: its entries read and checked, and Optuna's suggestions within them."""

from __future__ import annotations

import optuna
import pytest

from toolkit.config import ConfigError
from toolkit.tuning.space import Choice, Range, parse_space


def suggestions(space, count: int = 30, seed: int = 0) -> list[dict]:
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=seed))
    drawn = []
    for _ in range(count):
        trial = study.ask()
        drawn.append({parameter.key: parameter.suggest(trial) for parameter in space})
        study.tell(trial, 0.0)
    return drawn


def test_entries_become_ranges_and_choices():
    space = parse_space({
        "trainer.learning_rate": {"float": [0.0003, 0.01], "log": True},
        "model.recurrent.units": {"int": [8, 64]},
        "model.recurrent.depth": {"choice": [1, 2]},
    })
    assert space == (
        Range("trainer.learning_rate", "float", 0.0003, 0.01, True),
        Range("model.recurrent.units", "int", 8, 64, False),
        Choice("model.recurrent.depth", (1, 2)),
    )
    assert space[0].as_dict() == {"float": [0.0003, 0.01], "log": True}
    assert space[0].describe() == "float [0.0003, 0.01], log"


def test_suggestions_stay_in_their_ranges_with_their_types():
    space = parse_space({
        "lr": {"float": [0.0001, 0.1], "log": True},
        "units": {"int": [2, 9], "log": True},
        "dropout": {"float": [0, 1]},
        "optimizer": {"choice": ["adam", "sgd", None]},
    })
    drawn = suggestions(space)
    assert all(0.0001 <= row["lr"] <= 0.1 and isinstance(row["lr"], float) for row in drawn)
    assert all(2 <= row["units"] <= 9 and isinstance(row["units"], int) for row in drawn)
    assert all(0.0 <= row["dropout"] <= 1.0 for row in drawn)
    assert {row["optimizer"] for row in drawn} == {"adam", "sgd", None}
    # A log range is drawn on a log scale: most draws of [1e-4, 1e-1] fall below 1e-2.
    assert sum(row["lr"] < 0.01 for row in drawn) > len(drawn) / 2


def test_a_choice_of_lists_is_offered_as_text_and_suggested_as_the_list():
    (choice,) = parse_space({"model.encoder.filters": {"choice": [[16, 32], [32, 64, 128]]}})
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=1))
    seen = set()
    for _ in range(10):
        trial = study.ask()
        value = choice.suggest(trial)
        assert value in ([16, 32], [32, 64, 128])
        assert trial.params["model.encoder.filters"] == str(value).replace("'", '"')
        seen.add(tuple(value))
        study.tell(trial, 0.0)
    assert seen == {(16, 32), (32, 64, 128)}


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        ({}, "search.space: empty; give at least one config key to search"),
        (None, "search.space: empty"),
        (["trainer.epochs"], "search.space: expected a mapping of dotted config keys"),
        ({"trainer.epochs": {"choice": [3]}}, "'trainer.epochs': choice: 1 value(s), [3]; a choice needs two or more"),
        ({"trainer.epochs": {"choice": [3, 3]}}, "'trainer.epochs': choice: 3 is given twice"),
        ({"trainer.epochs": {"choice": 3}}, "choice: expected a list of values, got 3"),
        (
            {"trainer.learning_rate": {"float": [0, 0.01], "log": True}},
            "'trainer.learning_rate': a log range must lie above 0, but [0, 0.01] includes 0",
        ),
        ({"model.units": {"int": [-4, 8], "log": True}}, "a log range must lie above 0, but [-4, 8] includes -4"),
        ({"model.units": {"int": [8, 8]}}, "the low end 8 must be below the high end 8 (one value: set it in the config"),
        ({"model.units": {"int": [64, 8]}}, "the low end 64 must be below the high end 8."),
        ({"model.units": {"int": [8, 64.5]}}, "int: expected whole numbers [low, high], got [8, 64.5]"),
        ({"model.units": {"float": [8]}}, "float: expected [low, high], two numbers, got [8]"),
        ({"model.units": {"float": [0.1, 0.2], "log": "yes"}}, "log: expected true or false, got 'yes'"),
        ({"model.units": {"float": [0.1, 0.2], "step": 0.1}}, "unknown 'step' in a float; it takes float and log"),
        ({"model.units": {"choice": [1, 2], "log": True}}, "unknown 'log' in a choice; it takes choice"),
        ({"model.units": 32}, "'model.units': expected one of {float: [low, high]}, {int: [low, high]}"),
        ({"model.units": {"float": [0.1, 0.2], "int": [1, 2]}}, "expected one of {float: [low, high]}"),
    ],
)
def test_malformed_entries_are_refused_naming_the_key(entries, message):
    with pytest.raises(ConfigError) as refused:
        parse_space(entries)
    assert message in str(refused.value)
