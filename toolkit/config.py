"""Typed run configurations: strict YAML loading, dotted overrides, and saving.

A pipeline's configuration is a tree of dataclasses. Each field has a type
hint and a `help` text in its metadata, and may have `min`, `max` or
`choices`. Loading checks every key, type and range, and an error names the
key path, such as `trainer.epochs`.
"""

from __future__ import annotations

import copy
import dataclasses
import difflib
import math
import types
import typing
import warnings
from pathlib import Path
from typing import Any, Literal, TypeVar, get_args, get_origin, get_type_hints

import yaml

from toolkit.config_upgrades import CONFIG_SCHEMA, upgrade_config
from toolkit.config_yaml import YamlError, preview, read_yaml
from toolkit.errors import InputError, Notice

ConfigT = TypeVar("ConfigT")
# The keys a resolved config records besides its settings: the toolkit and the config schema that wrote it.
TOOLKIT_VERSION_KEY = "toolkit_version"
SCHEMA_KEY = "config_schema"
# How every run's config.yaml begins, from toolkit 0.1 on (see `toolkit.run_directory`).
RESOLVED_CONFIG_HEADER = "# The resolved config of a "


class ConfigError(InputError):
    """A configuration key, type or value is not valid; the message names it."""


def option(
    default: Any, help: str, *, min: float | None = None, max: float | None = None, above: float | None = None  # noqa: A002
):
    """A documented config field with an optional range: inclusive `min` and `max`, or a value strictly `above` a bound."""
    factory = {"default_factory": lambda: list(default)} if isinstance(default, list) else {"default": default}
    return dataclasses.field(metadata={"help": help, "min": min, "max": max, "above": above}, **factory)


def section(factory, help: str):  # noqa: A002
    """A documented nested config section; `factory` makes its default (a config class, say)."""
    return dataclasses.field(default_factory=factory, metadata={"help": help})


def from_dict(cls: type[ConfigT], values: dict | None, path: str = "", complete: bool = False) -> ConfigT:
    """Builds config dataclass `cls` from a nested dict, checking every key and value.

    Args:
        cls: The config dataclass.
        values: Nested keys and values; a missing key takes its default.
        path: The key path of `values`, for messages.
        complete: Require every key, in every section: for a resolved config
            written by toolkit, where a missing key means a damaged file.
    """
    values = {} if values is None else values
    if not isinstance(values, dict):
        raise ConfigError(f"{path or 'config'}: expected a mapping of keys, got {type(values).__name__}.")
    hints = get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = [key for key in values if key not in fields]
    if unknown:
        raise ConfigError(_unknown_key_message(unknown[0], path, list(fields)))
    missing = [name for name in fields if name not in values]
    if complete and missing:
        key_paths = ", ".join(repr(f"{path}.{name}" if path else name) for name in missing)
        raise ConfigError(f"missing key(s) {key_paths}; a resolved config lists every key.")
    kwargs = {}
    for name, value in values.items():
        key_path = f"{path}.{name}" if path else name
        if dataclasses.is_dataclass(hints[name]) and value is None:
            # YAML `trainer:` with nothing under it, or `--set trainer=null`: taking the
            # section class's bare defaults would quietly drop the pipeline's own.
            raise ConfigError(
                f"{key_path}: a section cannot be null; leave the key out to keep its defaults, "
                f"or give its keys (`toolkit describe` lists them)."
            )
        if dataclasses.is_dataclass(hints[name]) and isinstance(value, dict):
            if complete:
                kwargs[name] = from_dict(hints[name], value, key_path, complete=True)
                continue
            # A partly given section keeps this parent's defaults for it (such as a
            # pipeline's own trainer epochs), not the section class's bare defaults.
            value = _merged(to_dict(fields[name].default_factory()), value)
        kwargs[name] = _convert(value, hints[name], key_path)
        _check_range(kwargs[name], fields[name], key_path)
    return cls(**kwargs)


def to_dict(config: Any) -> dict:
    """The config as plain nested dicts and lists, ready for YAML."""
    return dataclasses.asdict(config)


def dotted(values: dict, prefix: str = "") -> dict[str, Any]:
    """Nested dicts as one dict keyed by dotted paths, such as `{"trainer.epochs": 3}`."""
    flat = {}
    for key, value in values.items():
        if isinstance(value, dict):
            flat.update(dotted(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def load_config(
    cls: type[ConfigT],
    path: str | Path | None = None,
    overrides: list[str] | dict | None = None,
    complete: bool = False,
    pipeline: str | None = None,
) -> ConfigT:
    """Loads a config: the YAML file at `path` (or the defaults), then the overrides.

    A file that records its `config_schema` (every resolved config toolkit
    writes) is upgraded to this toolkit's schema first, in memory; so is a
    `complete` one without it, written by toolkit 0.1 (see
    `toolkit.config_upgrades`). A file of a newer schema is refused.

    Args:
        cls: The config dataclass.
        path: A YAML file, or `None` for the defaults of `cls`.
        overrides: Dotted assignments such as `["trainer.epochs=3"]`, whose
            values are parsed as YAML, or a dict `{"trainer.epochs": 3}`.
        complete: Require every key (see `from_dict`): a resolved config.
        pipeline: The pipeline's name, which upgrades need.

    Returns:
        An instance of `cls`.

    Warns:
        Notice: If the file holds no settings at all (then the defaults apply).

    Raises:
        ConfigError: On an unknown key, a wrong type, a value out of range, a
            number that is not finite or a section set to null, naming the
            file and key path.
        FileNotFoundError: If `path` does not exist.
    """
    values: dict = {}
    if path is not None:
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"Config file not found: {path}")
        try:
            text = path.read_text()
            values = read_yaml(text)
        except YamlError as error:
            raise ConfigError(f"{path}: {error}") from None
        except UnicodeDecodeError as error:
            raise ConfigError(f"{path}: not UTF-8 text ({error.reason} at byte {error.start}); a config is YAML text.") from None
        if values is None:
            warnings.warn(f"{path} holds no settings: the pipeline's defaults apply.", Notice, stacklevel=2)
            values = {}
        # A run's config.yaml, given to `toolkit run --config`, is resolved too, whichever toolkit wrote it.
        values = _upgraded(values, path, complete or text.startswith(RESOLVED_CONFIG_HEADER), pipeline)
    values = apply_overrides(values, overrides)
    try:
        return from_dict(cls, values, complete=complete)
    except ConfigError as error:
        # Blame the file only for what the file says, not for a value the overrides set.
        overridden = [key for key in _override_keys(overrides) if str(error).startswith(key) or f"'{key}'" in str(error)]
        where = ("overrides" if overridden else path) if path else None
        raise ConfigError(f"{where}: {error}" if where else str(error)) from None


def _upgraded(values, path: Path, resolved: bool, pipeline: str | None):
    """`values` without the version keys toolkit writes, upgraded to this toolkit's schema if they are from an older one.

    A `resolved` config that records no schema was written by toolkit 0.1.
    """
    if not isinstance(values, dict):
        return values
    values = dict(values)
    version, schema = values.pop(TOOLKIT_VERSION_KEY, None), values.pop(SCHEMA_KEY, None)
    if pipeline is None or (schema is None and not resolved):
        return values
    try:
        return upgrade_config(pipeline, values, schema, version)
    except InputError as error:
        raise ConfigError(f"{path}: {error}") from None


def apply_overrides(values: dict, overrides: list[str] | dict | None) -> dict:
    """Returns a copy of nested `values` with dotted overrides applied."""
    result = copy.deepcopy(values) or {}
    if not overrides:
        return result
    if isinstance(overrides, dict):
        pairs = list(overrides.items())
    else:
        pairs = []
        for assignment in overrides:
            key, sep, raw = assignment.partition("=")
            if not sep or not key.strip():
                raise ConfigError(f"Override {preview(assignment)} is not of the form key.path=value.")
            try:
                pairs.append((key.strip(), read_yaml(raw)))
            except YamlError as error:
                raise ConfigError(f"Override {preview(assignment)}: {error}") from None
    for dotted, value in pairs:
        node = result
        *parents, leaf = dotted.split(".")
        for part in parents:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ConfigError(f"Override {preview(dotted)}: {preview(part)} is not a section.")
        node[leaf] = value
    return result


def _override_keys(overrides: list[str] | dict | None) -> list[str]:
    if isinstance(overrides, dict):
        return list(overrides)
    return [assignment.partition("=")[0].strip() for assignment in overrides or []]


def save_config(config: Any, path: str | Path, comment: str = "") -> None:
    """Writes the resolved config as YAML, after `comment` as `#` lines, if any, and the toolkit and schema that wrote it."""
    from toolkit import __version__

    header = "".join(f"# {line}\n" for line in comment.splitlines())
    versions = {TOOLKIT_VERSION_KEY: __version__, SCHEMA_KEY: CONFIG_SCHEMA}
    Path(path).write_text(header + yaml.safe_dump({**versions, **to_dict(config)}, sort_keys=False))


def describe(cls: type, indent: str = "", defaults: Any = None) -> str:
    """Documents every field of a config class: key, type, default and help.

    Defaults are those of `cls()` itself, so a section shows the values its
    parent gives it (a pipeline's own trainer epochs, say).
    """
    defaults = cls() if defaults is None else defaults
    lines = []
    hints = get_type_hints(cls)
    for field in dataclasses.fields(cls):
        kind = hints[field.name]
        help_text = field.metadata.get("help", "")
        default = getattr(defaults, field.name)
        if dataclasses.is_dataclass(kind):
            lines.append(f"{indent}{field.name}: {help_text}")
            lines.append(describe(kind, indent + "  ", default))
        else:
            lines.append(f"{indent}{field.name} ({_type_name(kind)}, default {default!r}): {help_text}")
    return "\n".join(lines)


def _unknown_key_message(key: str, path: str, valid: list[str]) -> str:
    key_path = f"{path}.{key}" if path else key
    message = f"unknown key {preview(key_path)}."
    close = difflib.get_close_matches(key, valid, n=1)
    if close:
        message += f" Did you mean {close[0]!r}?"
    return message + f" Valid keys{' in ' + repr(path) if path else ''}: {', '.join(sorted(valid))}."


def _merged(defaults: dict, values: dict) -> dict:
    merged = dict(defaults)
    for key, value in values.items():
        merged[key] = _merged(defaults[key], value) if isinstance(defaults.get(key), dict) and isinstance(value, dict) else value
    return merged


def _convert(value: Any, kind: Any, path: str) -> Any:
    origin = get_origin(kind)
    if dataclasses.is_dataclass(kind):
        return from_dict(kind, value, path)
    if origin in (typing.Union, types.UnionType):
        options = get_args(kind)
        if value is None and type(None) in options:
            return None
        errors = []
        for candidate in (o for o in options if o is not type(None)):
            try:
                return _convert(value, candidate, path)
            except ConfigError as error:
                errors.append(str(error))
        raise ConfigError(errors[0])
    if origin is Literal:
        if value not in get_args(kind):
            choices = ", ".join(repr(c) for c in get_args(kind))
            raise ConfigError(f"{path}: {preview(value)} is not one of {choices}.")
        return value
    if origin is list:
        if not isinstance(value, list):
            raise ConfigError(f"{path}: expected a list, got {preview(value)}.")
        (item_kind,) = get_args(kind)
        return [_convert(item, item_kind, f"{path}[{index}]") for index, item in enumerate(value)]
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if kind is float and isinstance(value, float) and not math.isfinite(value):
        # Range checks cannot catch these: every comparison with NaN is false.
        raise ConfigError(f"{path}: expected a finite number, got {preview(value)}.")
    if kind in (int, float, str, bool) and (type(value) is not kind):
        raise ConfigError(f"{path}: expected {kind.__name__}, got {type(value).__name__} {preview(value)}.")
    if kind is int and not -(2**63) <= value < 2**63:
        raise ConfigError(f"{path}: {preview(value)} is too large a whole number for TensorFlow (at most 2^63 - 1).")
    return value


def _check_range(value: Any, field: dataclasses.Field, path: str) -> None:
    low, high, above = field.metadata.get("min"), field.metadata.get("max"), field.metadata.get("above")
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return
    if above is not None and value <= above:
        turned_off = "; null turns it off" if "null turns it off" in field.metadata.get("help", "") else ""
        raise ConfigError(f"{path}: {preview(value)} must be above {above!r}{turned_off}.")
    if low is not None and value < low:
        raise ConfigError(f"{path}: {preview(value)} is below the minimum {low!r}.")
    if high is not None and value > high:
        raise ConfigError(f"{path}: {preview(value)} is above the maximum {high!r}.")


def _type_name(kind: Any) -> str:
    return getattr(kind, "__name__", None) or str(kind).replace("typing.", "")
