"""Pipelines register here by name; an unknown name fails loudly with the known ones.

A pipeline registers with `@register_pipeline` when its module is imported.
A name not registered yet is looked up in the `toolkit.pipelines` entry-point
group of the installed packages (toolkit's own five are declared in
`setup.cfg`), and its module imported then: so `import toolkit` imports no
pipeline, and a package of a user's own pipelines is found the same way.
"""

from __future__ import annotations

import importlib.metadata

from toolkit.errors import UnknownPipelineError

ENTRY_POINT_GROUP = "toolkit.pipelines"

_PIPELINES: dict[str, type] = {}


def register_pipeline(cls: type) -> type:
    """Class decorator: registers a `Pipeline` subclass under its `name`.

    Raises:
        ValueError: If another class is already registered under that name.
    """
    if cls.name in _PIPELINES and _PIPELINES[cls.name] is not cls:
        raise ValueError(f"A pipeline named {cls.name!r} is already registered by {_PIPELINES[cls.name].__module__}.")
    _PIPELINES[cls.name] = cls
    return cls


def get_pipeline(name: str):
    """Returns a new instance of the pipeline registered as `name`, importing its entry point's module if need be.

    Raises:
        UnknownPipelineError: A `KeyError` and an `InputError`, if no pipeline has that name; the message
            lists the known ones.
    """
    if name not in _PIPELINES:
        entry_point = _entry_points().get(name)
        if entry_point is not None:
            pipeline = entry_point.load()
            if getattr(pipeline, "name", None) != name:
                raise UnknownPipelineError(
                    f"The entry point {name!r} of group {ENTRY_POINT_GROUP!r} ({entry_point.value}) loads a pipeline named "
                    f"{getattr(pipeline, 'name', None)!r}; an entry point's name must be its pipeline's name."
                )
            register_pipeline(pipeline)
    if name not in _PIPELINES:
        raise UnknownPipelineError(f"Unknown pipeline {name!r}. Known pipelines: {', '.join(pipeline_names()) or 'none'}.")
    return _PIPELINES[name]()


def pipeline_names() -> list[str]:
    """The names of every registered pipeline and every one an installed entry point offers, sorted; none is imported."""
    return sorted({*_PIPELINES, *_entry_points()})


def _entry_points() -> dict[str, importlib.metadata.EntryPoint]:
    return {entry_point.name: entry_point for entry_point in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)}
