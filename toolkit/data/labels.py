"""Class labels given as class names or as integer ids, checked against a classifier's classes."""

from __future__ import annotations

import numbers

import numpy as np

from toolkit.errors import InputError


def class_ids(labels, class_names: list[str], argument: str = "targets") -> np.ndarray:
    """int64 class ids from labels that are all class names or all integer ids.

    Args:
        labels: One label per example: class names (mapped through
            `class_names`) or ids in `[0, len(class_names))`.
        class_names: The classifier's classes, in the order of their ids.
        argument: What the labels were given as, for messages.

    Raises:
        ValueError: Naming `argument`, the first label at fault and the classes.
    """
    values = list(np.asarray(labels, dtype=object).ravel()) if np.ndim(labels) == 1 else None
    if values is None:
        raise InputError(f"{argument}: expected one label per example, got an array of shape {np.shape(labels)}.")
    classes = ", ".join(class_names)
    if all(isinstance(value, str) for value in values):
        index = {name: position for position, name in enumerate(class_names)}
        unknown = [value for value in values if value not in index]
        if unknown:
            raise InputError(f"{argument}: {unknown[0]!r} is not a class name; the classes are {classes}.")
        return np.array([index[value] for value in values], dtype="int64")
    if not all(isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_)) for value in values):
        wrong = next(
            value for value in values
            if isinstance(value, (str, bool, np.bool_)) or not isinstance(value, numbers.Integral)
        )
        raise InputError(
            f"{argument}: expected class names ({classes}) or integer ids, all of one kind; found {wrong!r} "
            f"({type(wrong).__name__}) among them."
        )
    ids = np.array(values, dtype="int64")
    outside = ids[(ids < 0) | (ids >= len(class_names))]
    if len(outside):
        raise InputError(
            f"{argument}: class id {outside[0]} is out of range: there are {len(class_names)} classes ({classes})."
        )
    return ids


def check_class_names(class_names: list[str], source: str) -> list[str]:
    """`class_names` as strings, refusing fewer than two, blank names and duplicates.

    Raises:
        InputError: Naming `source` and the names at fault.
    """
    names = [str(name) for name in class_names]
    if len(names) < 2:
        raise InputError(f"{source}: {names} holds {len(names)} class name(s); a classifier needs at least two.")
    blank = [name for name in names if not name.strip()]
    if blank:
        raise InputError(f"{source}: class names must not be blank; got {names}.")
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise InputError(f"{source}: class names must differ; {', '.join(map(repr, repeated))} appear more than once.")
    return names


def require_two_classes(ids: np.ndarray, class_names: list[str], source: str) -> None:
    """Refuses training labels of fewer than two distinct classes, which no classifier can learn from.

    Args:
        ids: Class ids, one per example.
        class_names: The classes, in the order of their ids.
        source: Where the labels came from, for the message (a file and column, say).

    Raises:
        InputError: Naming `source` and the one class found, if any.
    """
    present = np.unique(ids)
    if len(present) < 2:
        found = f"only the class {class_names[int(present[0])]!r}" if len(present) else "no labels"
        raise InputError(f"{source}: found {found}; a classifier needs examples of at least two classes.")
