"""Splits: random and time-ordered holdouts, and the fingerprint a resumed run is checked against."""

from __future__ import annotations

import numpy as np

from toolkit.data.prices import WindowSplit
from toolkit.data.splits import DataSplits, Split, TimeOrderedSplit


def test_a_random_holdout_is_seeded_and_disjoint():
    split = Split(np.arange(100) * 10, np.arange(100))
    kept, held = split.holdout(0.2, seed=3)
    assert len(held) == 20 and len(kept) == 80
    assert not set(kept.targets) & set(held.targets)
    np.testing.assert_array_equal(held.inputs, held.targets * 10)
    assert list(held.targets) == list(split.holdout(0.2, seed=3)[1].targets)
    assert list(held.targets) != list(range(80, 100)), "random, not the last rows"
    assert split.holdout(0.001, seed=3) == (split, None)


def test_a_time_ordered_holdout_takes_the_latest_examples():
    kept, held = TimeOrderedSplit(np.arange(10), np.arange(10)).holdout(0.3, seed=3)
    assert list(held.targets) == [7, 8, 9] and list(kept.targets) == list(range(7))


def test_windows_are_held_out_by_date_not_by_row():
    dates = np.array(["2020-01-05", "2020-01-01", "2020-01-04", "2020-01-02"], dtype="datetime64[D]")
    split = WindowSplit(np.zeros((4, 3, 5)), np.arange(4.0)[:, None], dates=dates)
    kept, held = split.holdout(0.5, seed=0)
    assert sorted(held.targets[:, 0]) == [0.0, 2.0], "the windows of Jan 5 and Jan 4"
    undated = WindowSplit(np.zeros((4, 3, 5)), np.arange(4.0)[:, None])
    assert list(undated.holdout(0.5, seed=0)[1].targets[:, 0]) == [2.0, 3.0]


def test_the_fingerprint_changes_with_any_training_or_validation_example_only():
    def splits(train_labels, test_texts=("c",)):
        texts = np.array(["a good film", "a bad one"], dtype=object)
        return DataSplits(
            Split(texts, np.array(train_labels)),
            Split(np.array(["b"], dtype=object), np.array([1])),
            Split(np.array(test_texts, dtype=object), np.array([0])),
        )

    assert splits([1, 0]).fingerprint() == splits([1, 0]).fingerprint()
    assert splits([1, 0]).fingerprint() != splits([1, 1]).fingerprint()
    assert splits([1, 0]).fingerprint() == splits([1, 0], test_texts=("other",)).fingerprint(), "test data is not trained on"
    nested = DataSplits(Split(np.zeros((2, 4, 4, 3), "uint8"), [["a red circle"], ["a blue square"]]), Split([], []), Split([], []))
    changed = DataSplits(Split(np.zeros((2, 4, 4, 3), "uint8"), [["a red circle"], ["a blue circle"]]), Split([], []), Split([], []))
    assert nested.fingerprint() != changed.fingerprint()
