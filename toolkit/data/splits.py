"""Seeded, stratified train/validation/test splits."""

from __future__ import annotations

import numpy as np
from sklearn.model_selection import train_test_split

from toolkit.pipeline import Split


def holdout_split(inputs: np.ndarray, targets: np.ndarray, fraction: float, seed: int) -> tuple[Split, Split]:
    """Shuffles and holds out `fraction` of the examples, stratified by target.

    Returns:
        `(kept, held_out)`.
    """
    kept_inputs, held_inputs, kept_targets, held_targets = train_test_split(
        inputs, targets, test_size=fraction, random_state=seed, stratify=targets
    )
    return Split(kept_inputs, kept_targets), Split(held_inputs, held_targets)


def three_way_split(
    inputs: np.ndarray, targets: np.ndarray, validation_fraction: float, test_fraction: float, seed: int
) -> tuple[Split, Split, Split]:
    """Shuffles and splits into train, validation and test, stratified by target.

    Args:
        inputs: Raw inputs, one per example.
        targets: Class ids, one per example.
        validation_fraction: Share of all examples for validation.
        test_fraction: Share of all examples for test.
        seed: The same seed gives the same split.
    """
    rest, test = holdout_split(inputs, targets, test_fraction, seed)
    train, validation = holdout_split(rest.inputs, rest.targets, validation_fraction / (1.0 - test_fraction), seed)
    return train, validation, test


def seeded_sample(inputs: np.ndarray, targets: np.ndarray, max_examples: int | None, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """At most `max_examples` examples, drawn without replacement with `seed`; all of them for `None`."""
    if max_examples is None or max_examples >= len(inputs):
        return inputs, targets
    rows = np.random.default_rng(seed).choice(len(inputs), max_examples, replace=False)
    return inputs[rows], targets[rows]
