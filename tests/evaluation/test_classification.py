"""The network beside a baseline: McNemar's test and the verdict."""

from __future__ import annotations

import numpy as np
from scipy import stats

from toolkit.evaluation.classification import baseline_comparison, mcnemar_p_value


def test_mcnemar_counts_only_the_disagreements():
    targets = np.zeros(100, int)
    # Both right on 50, only the network on 15, only the baseline on 5, both wrong on 30.
    predictions = np.r_[np.zeros(65), np.ones(35)]
    baseline_predictions = np.r_[np.zeros(50), np.ones(15), np.zeros(5), np.ones(30)]
    comparison = baseline_comparison(targets, predictions, baseline_predictions, "B")
    assert (comparison["only_model_correct"], comparison["only_baseline_correct"]) == (15, 5)
    assert comparison["p_value"] == stats.binomtest(15, 20, 0.5).pvalue == mcnemar_p_value(15, 5)
    assert mcnemar_p_value(0, 0) == 1.0


def test_verdict_says_beats_ties_or_loses():
    targets = np.zeros(1000, int)
    better = baseline_comparison(targets, np.r_[np.zeros(950), np.ones(50)], np.r_[np.zeros(900), np.ones(100)], "B")
    assert better["verdict"].startswith("The network beats B: accuracy 0.9500 against 0.9000")
    assert (better["only_model_correct"], better["only_baseline_correct"]) == (50, 0)
    worse = baseline_comparison(targets, np.r_[np.zeros(900), np.ones(100)], np.r_[np.zeros(950), np.ones(50)], "B")
    assert worse["verdict"].startswith("The network loses to B")
    tie = baseline_comparison(targets, np.r_[np.zeros(905), np.ones(95)], np.r_[np.zeros(900), np.ones(100)], "B")
    assert tie["verdict"].startswith("The network ties B") and tie["p_value"] > 0.05
