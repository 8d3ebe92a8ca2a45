"""The pruning callback: each epoch's validation log reported to Optuna, and a trial the pruner gives up on stopped."""

from __future__ import annotations

import keras
import numpy as np
import optuna
import pytest

from toolkit.errors import InputError
from toolkit.tuning.metrics import ValidationMetric
from toolkit.tuning.pruning import PruningCallback

MAE = ValidationMetric("overall.model.mae", "minimize", "val_mae", "minimize", "MAE")
DIRECTION = ValidationMetric("overall.model.directional_accuracy", "maximize", "val_mae", "minimize", "direction")


def fit(callback: PruningCallback, epochs: int = 5) -> dict:
    """Fits a one-layer regression on noise, which cannot learn it: its validation MAE stays near 0.8."""
    rng = np.random.default_rng(0)
    inputs, targets = rng.normal(size=(64, 3)), rng.normal(size=(64, 1))
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse", metrics=["mae"])
    history = model.fit(inputs, targets, validation_split=0.25, epochs=epochs, verbose=0, callbacks=[callback])
    return history.history


def study_with_one_good_trial(direction: str = "minimize") -> optuna.Study:
    pruner = optuna.pruners.MedianPruner(n_startup_trials=1, n_warmup_steps=0)
    study = optuna.create_study(direction=direction, pruner=pruner)
    good = study.ask()
    for step in range(5):
        good.report(0.01 if direction == "minimize" else -0.01, step)
    study.tell(good, 0.01)
    return study


def test_every_epoch_is_reported_and_a_trial_that_never_prunes_trains_to_its_end():
    study = optuna.create_study(pruner=optuna.pruners.NopPruner())
    trial = study.ask()
    callback = PruningCallback(trial, MAE)
    history = fit(callback)
    assert len(history["loss"]) == 5 and callback.pruned_at_epoch is None
    (frozen,) = study.get_trials()
    assert frozen.intermediate_values == dict(enumerate(history["val_mae"]))


def test_a_trial_worse_than_the_median_is_stopped_after_the_epoch_it_is_pruned_at():
    study = study_with_one_good_trial()
    callback = PruningCallback(study.ask(), MAE)
    history = fit(callback)
    assert callback.pruned_at_epoch == 1
    assert len(history["loss"]) == 1


def test_a_later_fit_of_a_pruned_trial_stops_at_once():
    study = study_with_one_good_trial()
    callback = PruningCallback(study.ask(), MAE)
    fit(callback)
    second_branch = fit(callback)
    assert len(second_branch["loss"]) == 1 and callback.pruned_at_epoch == 1


def test_a_log_that_improves_the_other_way_from_the_metric_is_reported_negated():
    study = study_with_one_good_trial("maximize")
    trial = study.ask()
    history = fit(PruningCallback(trial, DIRECTION), epochs=1)
    assert study.get_trials()[1].intermediate_values == {0: -history["val_mae"][0]}


def test_a_fit_without_the_watched_log_says_which_logs_it_has():
    accuracy = ValidationMetric("accuracy", "maximize", "val_accuracy", "maximize", "accuracy")
    callback = PruningCallback(optuna.create_study().ask(), accuracy)
    with pytest.raises(InputError) as missing:
        fit(callback)
    assert "pruning watches val_accuracy after each epoch, but the fit logged only loss, mae, val_loss, val_mae" in str(
        missing.value
    )
