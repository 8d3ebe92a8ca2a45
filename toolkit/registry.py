"""Pipelines register here by name; an unknown name fails loudly with the known ones."""

from __future__ import annotations

import importlib
import pkgutil

_PIPELINES: dict[str, type] = {}


def register_pipeline(cls: type) -> type:
    """Class decorator: registers a `Pipeline` subclass under its `name`."""
    if cls.name in _PIPELINES and _PIPELINES[cls.name] is not cls:
        raise ValueError(f"A pipeline named {cls.name!r} is already registered by {_PIPELINES[cls.name].__module__}.")
    _PIPELINES[cls.name] = cls
    return cls


def get_pipeline(name: str):
    """Returns a new instance of the pipeline registered as `name`.

    Raises:
        KeyError: If no pipeline has that name; the message lists the known ones.
    """
    _discover()
    if name not in _PIPELINES:
        raise KeyError(f"Unknown pipeline {name!r}. Known pipelines: {', '.join(pipeline_names()) or 'none'}.")
    return _PIPELINES[name]()


def pipeline_names() -> list[str]:
    """The names of every registered pipeline, sorted."""
    _discover()
    return sorted(_PIPELINES)


def _discover() -> None:
    """Imports every module of the `pipelines` package, which registers them."""
    import pipelines

    for module in pkgutil.iter_modules(pipelines.__path__):
        importlib.import_module(f"pipelines.{module.name}")
