"""Class labels as names or ids, checked against a classifier's classes, with messages naming the label at fault."""

from __future__ import annotations

import numpy as np
import pytest

from toolkit.data.labels import check_class_names, class_ids, require_two_classes
from toolkit.errors import InputError

CLASSES = ["negative", "positive"]


def test_names_and_integer_ids_of_any_integer_type_become_int64_ids():
    assert class_ids(["positive", "negative", "positive"], CLASSES).tolist() == [1, 0, 1]
    for labels in ([1, 0], np.array([1, 0], "int8"), np.array([1, 0], "uint64"), (np.int32(1), np.int64(0))):
        ids = class_ids(labels, CLASSES)
        assert ids.dtype == np.int64 and ids.tolist() == [1, 0]
    assert class_ids([], CLASSES).tolist() == []


def test_an_unknown_name_or_an_id_out_of_range_is_named_with_the_classes():
    with pytest.raises(InputError, match=r"^labels: 'neutral' is not a class name; the classes are negative, positive\.$"):
        class_ids(["positive", "neutral", "meh"], CLASSES, "labels")
    for wrong in (2, -1):
        with pytest.raises(InputError, match=rf"^targets: class id {wrong} is out of range: there are 2 classes \(negative, positive\)\.$"):
            class_ids([0, wrong], CLASSES)


def test_labels_of_mixed_or_other_kinds_are_refused_naming_the_first_odd_one():
    for labels, found in ((["positive", 1], "'positive' (str)"), ([1, 0.0], "0.0 (float)"), ([0, None], "None (NoneType)")):
        with pytest.raises(InputError) as raised:
            class_ids(labels, CLASSES)
        assert str(raised.value) == (
            f"targets: expected class names (negative, positive) or integer ids, all of one kind; found {found} among them."
        )


def test_labels_must_be_one_per_example():
    with pytest.raises(InputError, match=r"expected one label per example, got an array of shape \(2, 1\)\."):
        class_ids([[0], [1]], CLASSES)
    with pytest.raises(InputError, match=r"got an array of shape \(\)\."):
        class_ids("positive", CLASSES)


def test_class_names_become_strings_and_fewer_than_two_blank_or_repeated_ones_are_refused():
    assert check_class_names([0, 1, "cat"], "data.class_names") == ["0", "1", "cat"]
    with pytest.raises(InputError, match=r"^data.class_names: \['cat'\] holds 1 class name\(s\); a classifier needs at least two\.$"):
        check_class_names(["cat"], "data.class_names")
    with pytest.raises(InputError, match=r"class names must not be blank; got \['cat', ' '\]\."):
        check_class_names(["cat", " "], "x")
    with pytest.raises(InputError, match=r"class names must differ; 'cat', 'dog' appear more than once\."):
        check_class_names(["dog", "cat", "dog", "cat", "cow"], "x")


def test_training_labels_need_two_distinct_classes():
    require_two_classes(np.array([0, 1, 1]), CLASSES, "train.csv: label")
    with pytest.raises(InputError, match=r"^train.csv: label: found only the class 'positive'; a classifier needs examples "
                                         r"of at least two classes\.$"):
        require_two_classes(np.array([1, 1, 1]), CLASSES, "train.csv: label")
    with pytest.raises(InputError, match=r"^train.csv: found no labels; a classifier needs"):
        require_two_classes(np.array([], "int64"), CLASSES, "train.csv")


def test_boolean_labels_are_refused_as_labels_of_another_kind():
    with pytest.raises(InputError, match=r"found True \(bool\) among them"):
        class_ids(np.array([True, False]), CLASSES)
