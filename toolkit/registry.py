"""Pipelines register here by name; an unknown name fails loudly with the known ones.

No package is scanned: `import toolkit` imports `toolkit.pipelines`, whose
modules register the built-in pipelines with `@register_pipeline`, and a
user's own pipeline registers the same way when its module is imported.
"""

from __future__ import annotations

from toolkit.errors import UnknownPipelineError

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
    """Returns a new instance of the pipeline registered as `name`.

    Raises:
        UnknownPipelineError: A `KeyError` and an `InputError`, if no pipeline has that name; the message
            lists the known ones.
    """
    if name not in _PIPELINES:
        raise UnknownPipelineError(f"Unknown pipeline {name!r}. Known pipelines: {', '.join(pipeline_names()) or 'none'}.")
    return _PIPELINES[name]()


def pipeline_names() -> list[str]:
    """The names of every registered pipeline, sorted."""
    return sorted(_PIPELINES)
