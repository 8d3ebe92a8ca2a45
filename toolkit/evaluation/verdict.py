"""The one word every comparison with a baseline is reported in: beats, ties or loses to."""

from __future__ import annotations


def verdict_verb(model_is_better: bool, p_value: float, alpha: float = 0.05) -> str:
    """`"beats"` or `"loses to"` when the difference is significant (`p_value < alpha`), else `"ties"`."""
    if p_value >= alpha:
        return "ties"
    return "beats" if model_is_better else "loses to"
