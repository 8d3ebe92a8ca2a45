"""The data splits a pipeline hands around, and seeded, stratified ways to cut them."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.model_selection import train_test_split

from toolkit.errors import InputError, InputTypeError


@dataclass
class Split:
    """Raw inputs and their targets, such as review strings and label ids."""

    inputs: Any
    targets: Any

    def __len__(self) -> int:
        return len(self.targets)

    def holdout(self, fraction: float, seed: int) -> tuple[Split, Split | None]:
        """Holds out a random `fraction` of the examples, for validation while fine-tuning.

        Returns:
            `(kept, held_out)`; `held_out` is `None` when `fraction` rounds to no example.
        """
        return self._cut(np.random.default_rng(seed).permutation(len(self)), fraction)

    def _cut(self, order: np.ndarray, fraction: float) -> tuple[Split, Split | None]:
        count = int(round(len(self) * fraction))
        if count == 0:
            return self, None
        held, kept = np.sort(order[:count]), np.sort(order[count:])
        return Split(_rows(self.inputs, kept), _rows(self.targets, kept)), Split(_rows(self.inputs, held), _rows(self.targets, held))


@dataclass
class TimeOrderedSplit(Split):
    """Examples in time order, oldest first, such as price windows.

    Held-out examples are the latest ones: a random sample would train on the future.
    """

    def holdout(self, fraction: float, seed: int) -> tuple[Split, Split | None]:
        return self._cut(np.argsort(self.times(), kind="stable")[::-1], fraction)

    def times(self) -> np.ndarray:
        """When each example happened, in any sortable unit; by default its row number."""
        return np.arange(len(self))


@dataclass
class DataSplits:
    """What a pipeline's loader returns.

    Attributes:
        train: Fitted on, and the only split preprocessing is adapted on.
        validation: Watched for early stopping and the best checkpoint.
        test: Held out; reported in `metrics.json`.
        metadata: Facts about the data that the model is built from, such
            as `class_names` or `image_shape`.
        extra_tests: Further held-out splits reported beside `test`.
    """

    train: Split
    validation: Split
    test: Split
    metadata: dict = field(default_factory=dict)
    extra_tests: dict[str, Split] = field(default_factory=dict)

    def held_out(self) -> dict[str, Split]:
        """Every split a run reports, by its name in `metrics.json`: `test`, then the `extra_tests`."""
        return {"test": self.test, **self.extra_tests}

    def fingerprint(self) -> str:
        """A SHA-256 of the training and validation examples: what a resumed run must train on again."""
        digest = hashlib.sha256()
        for split in (self.train, self.validation):
            for values in (split.inputs, split.targets):
                _hash_values(digest, values)
        return digest.hexdigest()


def _hash_values(digest, values) -> None:
    if hasattr(values, "content_digest"):  # inputs kept on disk (`ImageFiles`) say what is in their files
        digest.update(values.content_digest())
        return
    if hasattr(values, "to_numpy"):
        values = values.to_numpy()
    if isinstance(values, np.ndarray) and values.dtype != object:
        digest.update(f"{values.dtype}{values.shape}".encode())
        digest.update(np.ascontiguousarray(values).tobytes())
    elif isinstance(values, (list, tuple, np.ndarray)):
        digest.update(f"[{len(values)}".encode())
        for value in values:
            _hash_values(digest, value)
        digest.update(b"]")
    else:
        text = str(values).encode()
        digest.update(f"{len(text)}:".encode() + text)


def _rows(values, rows: np.ndarray):
    return values.iloc[rows] if hasattr(values, "iloc") else values[rows]


def holdout_split(inputs: np.ndarray, targets: np.ndarray, fraction: float, seed: int) -> tuple[Split, Split]:
    """Shuffles and holds out `fraction` of the examples, stratified by target.

    Returns:
        `(kept, held_out)`.

    Raises:
        InputError: If the examples are too few for both parts to hold every class.
    """
    classes, counts = np.unique(targets, return_counts=True)
    held = int(np.ceil(fraction * len(targets)))  # as scikit-learn rounds a fractional test_size
    if counts.min() < 2 or held < len(classes) or len(targets) - held < len(classes):
        raise InputError(
            f"{len(targets)} examples, {counts.min()} of the rarest class, are too few to hold out {fraction:.0%} "
            f"stratified by class: each part needs examples of all {len(classes)} classes. Give more examples "
            "(data.max_examples), or hold out a larger share."
        )
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


def inputs_and_targets(data, takes: str) -> tuple[Any, Any]:
    """`data` as `(inputs, targets)`, refusing a file or anything that is not a pair, saying what is taken.

    Args:
        data: What `TrainedRun.evaluate` or `TrainedRun.fine_tune` was given.
        takes: What the pipeline takes, for messages, such as `"(images, labels)"`.

    Raises:
        InputError: For a file path, which this pipeline does not read here.
        InputTypeError: For anything else that is not a pair.
    """
    if isinstance(data, (str, Path)):
        raise InputError(f"data: {data} is a file, but this pipeline takes {takes} here, not a file.")
    if not isinstance(data, (tuple, list)) or len(data) != 2:
        raise InputTypeError(f"data: expected {takes}; got {type(data).__name__}.")
    return data[0], data[1]
