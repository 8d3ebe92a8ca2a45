"""The verdict word: beats or loses to only when the difference is significant, else ties."""

from __future__ import annotations

from toolkit.evaluation.verdict import verdict_verb


def test_a_significant_difference_beats_or_loses_by_which_model_is_better():
    assert verdict_verb(True, 0.01) == "beats"
    assert verdict_verb(False, 0.01) == "loses to"


def test_a_p_value_at_or_above_alpha_ties_whichever_is_better():
    for better in (True, False):
        assert verdict_verb(better, 0.05) == "ties"  # alpha itself is not significant
        assert verdict_verb(better, 0.9) == "ties"
    assert verdict_verb(True, 0.049999) == "beats"


def test_alpha_can_be_chosen():
    assert verdict_verb(True, 0.03, alpha=0.01) == "ties"
    assert verdict_verb(False, 0.005, alpha=0.01) == "loses to"
    assert verdict_verb(True, 0.07, alpha=0.1) == "beats"
