"""A search space: dotted config keys, each with a `float` or `int` range (maybe `log`) or a `choice`; Optuna draws them.

In YAML, under `search.space`:

    trainer.learning_rate: {float: [0.0003, 0.01], log: true}
    model.recurrent.units: {int: [16, 64], log: true}
    model.encoder.filters: {choice: [[16, 32], [32, 64]]}

Optuna's choices are plain values (numbers, strings, booleans, null); a
choice of lists is offered to it as their JSON text, and decoded back.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

import optuna

from toolkit.config import ConfigError
from toolkit.config_yaml import preview

_RANGE_KINDS = ("float", "int")
_PLAIN = (str, int, float, bool, type(None))


@dataclass(frozen=True)
class Range:
    """Numbers from `low` to `high`, both included; whole numbers for `kind` int; drawn on a log scale if `log`."""

    key: str
    kind: str
    low: float
    high: float
    log: bool = False

    def suggest(self, trial: optuna.Trial) -> float | int:
        if self.kind == "int":
            return trial.suggest_int(self.key, int(self.low), int(self.high), log=self.log)
        return trial.suggest_float(self.key, self.low, self.high, log=self.log)

    def values_to_check(self) -> list:
        """The values that bound every suggestion: both ends."""
        return [self.low, self.high]

    def as_dict(self) -> dict:
        """As written in YAML, `log` always given: what a study records and compares."""
        return {self.kind: [self.low, self.high], "log": self.log}

    def describe(self) -> str:
        return f"{self.kind} [{self.low}, {self.high}]" + (", log" if self.log else "")


@dataclass(frozen=True)
class Choice:
    """One of `values`, each a value the key takes (a list too, for a key that takes a list)."""

    key: str
    values: tuple

    def suggest(self, trial: optuna.Trial) -> Any:
        offered = trial.suggest_categorical(self.key, [_as_plain(value) for value in self.values])
        return self.decode(offered)

    def decode(self, offered: Any) -> Any:
        """The value of `values` that Optuna's plain `offered` stands for."""
        return self.values[[_as_plain(value) for value in self.values].index(offered)]

    def values_to_check(self) -> list:
        return list(self.values)

    def as_dict(self) -> dict:
        return {"choice": list(self.values)}

    def describe(self) -> str:
        return f"choice {json.dumps(list(self.values))}"


Parameter = Range | Choice


def parse_space(entries: Any, where: str = "search.space") -> tuple[Parameter, ...]:
    """Reads a space from its YAML mapping, checking each entry's own form (not yet the config's keys).

    Raises:
        ConfigError: For a space that is not a mapping or is empty; an entry
            that is not one of `{float: [low, high]}`, `{int: [low, high]}`
            (either with `log: true`) or `{choice: [...]}`; a range whose low
            end is not below its high end; a log range that reaches 0 or
            below; a whole-number range of other numbers; a choice of fewer
            than two values, or of a value twice.
    """
    if entries is None or entries == {}:
        raise ConfigError(
            f"{where}: empty; give at least one config key to search, such as "
            "`trainer.learning_rate: {float: [0.0003, 0.01], log: true}`."
        )
    if not isinstance(entries, dict):
        raise ConfigError(
            f"{where}: expected a mapping of dotted config keys to ranges or choices, got {preview(entries)}."
        )
    return tuple(_parameter(str(key), entry, f"{where}: {str(key)!r}") for key, entry in entries.items())


def _parameter(key: str, entry: Any, where: str) -> Parameter:
    kinds = [kind for kind in (*_RANGE_KINDS, "choice") if isinstance(entry, dict) and kind in entry]
    if len(kinds) != 1:
        raise ConfigError(
            f"{where}: expected one of {{float: [low, high]}}, {{int: [low, high]}} (either with log: true) or "
            f"{{choice: [a, b, ...]}}, got {preview(entry)}."
        )
    (kind,) = kinds
    allowed = {kind, "log"} if kind in _RANGE_KINDS else {kind}
    extra = sorted(str(name) for name in entry if name not in allowed)
    if extra:
        takes = " and ".join(sorted(allowed))
        raise ConfigError(f"{where}: unknown {', '.join(map(repr, extra))} in a {kind}; it takes {takes}.")
    if kind == "choice":
        return _choice(key, entry["choice"], where)
    return _range(key, kind, entry[kind], entry.get("log", False), where)


def _range(key: str, kind: str, bounds: Any, log: Any, where: str) -> Range:
    if not isinstance(log, bool):
        raise ConfigError(f"{where}: log: expected true or false, got {preview(log)}.")
    numbers = isinstance(bounds, list) and len(bounds) == 2 and all(_is_number(bound) for bound in bounds)
    if not numbers:
        raise ConfigError(f"{where}: {kind}: expected [low, high], two numbers, got {preview(bounds)}.")
    low, high = bounds
    if kind == "int" and not all(isinstance(bound, int) for bound in bounds):
        raise ConfigError(
            f"{where}: int: expected whole numbers [low, high], got {preview(bounds)}; use float for other numbers."
        )
    if not low < high:
        same = " (one value: set it in the config instead of searching it)" if low == high else ""
        raise ConfigError(f"{where}: {kind}: the low end {low!r} must be below the high end {high!r}{same}.")
    if log and low <= 0:
        raise ConfigError(
            f"{where}: a log range must lie above 0, but [{low!r}, {high!r}] includes {low!r}; "
            "give a low end above 0, or drop log: true."
        )
    return Range(key, kind, float(low) if kind == "float" else low, float(high) if kind == "float" else high, log)


def _choice(key: str, values: Any, where: str) -> Choice:
    if not isinstance(values, list):
        raise ConfigError(f"{where}: choice: expected a list of values, got {preview(values)}.")
    if len(values) < 2:
        raise ConfigError(
            f"{where}: choice: {len(values)} value(s), {preview(values)}; a choice needs two or more "
            "(a single value belongs in the config, not in the search)."
        )
    plain = [_as_plain(value) for value in values]
    twice = [value for index, value in enumerate(values) if plain[index] in plain[:index]]
    if twice:
        raise ConfigError(f"{where}: choice: {preview(twice[0])} is given twice; give each value once.")
    return Choice(key, tuple(values))


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _as_plain(value: Any) -> Any:
    """`value` if Optuna takes it as a choice, else its JSON text (a list, say)."""
    return value if isinstance(value, _PLAIN) else json.dumps(value)
