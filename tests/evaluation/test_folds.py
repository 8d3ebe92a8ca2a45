"""Walk-forward folds: each labelled for people, and the mean and spread of each number, keyed by its dotted path."""

from __future__ import annotations

import numpy as np
import pytest

from toolkit.data.prices import WindowSplit
from toolkit.data.splits import Split, TimeOrderedSplit
from toolkit.evaluation.folds import describe_fold, summarize_folds


def test_mean_and_population_std_of_every_nested_number_by_dotted_path():
    folds = [
        {"overall": {"model": {"mae": 1.0, "examples": 10}}, "verdict": "beats", "significant": True},
        {"overall": {"model": {"mae": 3.0, "examples": 20}}, "verdict": "ties", "significant": False},
    ]
    summary = summarize_folds(folds)
    assert summary["folds"] is folds
    assert summary["mean"] == {"overall.model.mae": 2.0, "overall.model.examples": 15.0}
    # np.std over folds: sqrt(((1-2)² + (3-2)²) / 2) = 1; sqrt((25 + 25) / 2) = 5.
    assert summary["std"] == {"overall.model.mae": 1.0, "overall.model.examples": 5.0}


def test_a_number_undefined_in_some_folds_is_summarized_over_the_others_and_left_out_where_in_none():
    folds = [
        {"accuracy": 0.5, "p_value": None, "auc": None},
        {"accuracy": None, "p_value": None, "auc": 0.9},
        {"accuracy": 0.7, "p_value": None},
    ]
    summary = summarize_folds(folds)
    assert summary["mean"] == pytest.approx({"accuracy": 0.6, "auc": 0.9})
    assert summary["std"] == pytest.approx({"accuracy": 0.1, "auc": 0.0})
    assert "p_value" not in summary["mean"] and "p_value" not in summary["std"]


def test_keys_first_seen_in_a_later_fold_count_and_order_follows_first_appearance():
    summary = summarize_folds([{"b": 1}, {"a": 4, "b": 3}])
    assert list(summary["mean"]) == ["b", "a"]
    assert summary["mean"] == {"b": 2.0, "a": 4.0}


def test_no_folds_give_empty_summaries():
    assert summarize_folds([]) == {"folds": [], "mean": {}, "std": {}}


def test_a_fold_is_labelled_with_its_place_its_test_period_and_which_model_was_tested():
    dates = np.array(["2013-03-01", "2013-01-02", "2013-02-15"], dtype="datetime64[D]")
    test = WindowSplit(np.zeros((3, 2, 5), "float32"), np.zeros((3, 1), "float32"), dates=dates)
    assert describe_fold(0, 3, test, own_split=False) == {
        "fold": "1 of 3",
        "test_period": "2013-01-02 to 2013-03-01",  # the first and last date, whatever the rows' order
        "model": "a fresh one, trained on the days before",
    }
    assert describe_fold(2, 3, test, own_split=True)["model"] == "the run's own (this fold is its split)"


def test_a_test_split_without_times_has_no_period_to_name():
    assert describe_fold(1, 2, Split(np.zeros(3), np.zeros(3)), own_split=False)["test_period"] == "its test split"
    empty = TimeOrderedSplit(np.zeros((0, 2)), np.zeros(0))
    assert describe_fold(0, 1, empty, own_split=False)["test_period"] == "its test split"
