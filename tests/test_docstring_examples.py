"""Every runnable example in toolkit's docstrings runs and prints what it says."""

from __future__ import annotations

import doctest
import importlib
import pkgutil
from pathlib import Path

import pytest

import toolkit

MODULES = sorted(
    module.name
    for module in pkgutil.walk_packages(toolkit.__path__, "toolkit.")
    if ">>> " in Path(importlib.util.find_spec(module.name).origin).read_text()
)


def test_the_examples_are_found():
    assert {"toolkit.layers.lstm", "toolkit.preprocessing.text", "toolkit.baselines.ngram"} <= set(MODULES)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    results = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert results.attempted > 0
    assert results.failed == 0
