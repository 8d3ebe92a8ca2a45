"""YAML read as users write it: numbers as YAML 1.2 reads them, duplicate keys refused, nothing a config cannot need.

PyYAML reads YAML 1.1, whose surprises cost users: `1e-3` is a string
(1.1 needs `1.0e-3`), `1:30` is the base-60 integer 90, `0x1F` and `017`
are hex and octal integers, `on` and `no` are booleans, and a key given
twice silently keeps the last. Here:

- numbers are YAML 1.2's: decimal integers, and floats with or without a
  decimal point or an exponent (`1e-3`, `.5`, `.inf`, `.nan`); anything else
  (`1:30`, `0x1F`, `0o17`) stays a string, which a numeric key then refuses;
- booleans are `true` and `false` only, and null is `null`, `~` or nothing;
- a key given twice is refused, naming it and both lines;
- a document that expands to more values than a config can need (an alias
  bomb), or nests deeper, is refused before it is built.
"""

from __future__ import annotations

import re

import yaml

from toolkit.errors import InputError

# More values, or more levels of nesting, than any config (or a `--set` value) needs.
MAX_VALUES = 100_000
MAX_DEPTH = 32

_INT = re.compile(r"^[-+]?[0-9]+$")
_FLOAT = re.compile(r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$")
_BOOL = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")
_NULL = re.compile(r"^(?:~|null|Null|NULL|)$")


class YamlError(InputError):
    """A YAML document that is not valid, or not a config's; the message says where and why."""


class _Loader(yaml.SafeLoader):
    """PyYAML's safe loader with YAML 1.2's scalars and duplicate keys refused."""

    def construct_mapping(self, node, deep=False):
        seen: dict = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if isinstance(key, (str, int, float, bool)) and key in seen:
                raise YamlError(
                    f"key {preview(key)} is given twice, on lines {seen[key] + 1} and {key_node.start_mark.line + 1}; "
                    "give each key once."
                )
            if isinstance(key, (str, int, float, bool)):
                seen[key] = key_node.start_mark.line
        return super().construct_mapping(node, deep=deep)


# Only YAML 1.2's implicit scalars: every resolver of 1.1 is replaced.
_Loader.yaml_implicit_resolvers = {}
for tag, pattern, first in (
    ("tag:yaml.org,2002:bool", _BOOL, "tTfF"),
    ("tag:yaml.org,2002:int", _INT, "-+0123456789"),
    ("tag:yaml.org,2002:float", _FLOAT, "-+.0123456789"),
    ("tag:yaml.org,2002:null", _NULL, ["~", "n", "N", ""]),
):
    _Loader.add_implicit_resolver(tag, pattern, list(first))


def _construct_float(loader: _Loader, node) -> float:
    text = loader.construct_scalar(node).lower().lstrip("+")
    if text.endswith(".inf"):
        return float("-inf") if text.startswith("-") else float("inf")
    return float("nan") if text == ".nan" else float(text)


def _construct_int(loader: _Loader, node) -> int:
    return int(loader.construct_scalar(node), 10)  # decimal, as YAML 1.2 reads 017 (PyYAML would read octal)


_Loader.add_constructor("tag:yaml.org,2002:float", _construct_float)
_Loader.add_constructor("tag:yaml.org,2002:int", _construct_int)


def read_yaml(text: str):
    """The value of a YAML document, read as this module says.

    Raises:
        YamlError: For a document that is not valid YAML, gives a key twice,
            expands to more than `MAX_VALUES` values or nests deeper than `MAX_DEPTH`.
    """
    loader = _Loader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            return None
        _check_size(root)
        return loader.construct_document(root)
    except yaml.YAMLError as error:
        raise YamlError(f"not valid YAML: {error}") from None
    except RecursionError:
        # The parser recurses once a level: a document thousands deep ends it before `_check_size` can.
        raise YamlError(f"nested more than {MAX_DEPTH} levels deep; no config needs that many.") from None
    finally:
        loader.dispose()


def _check_size(root) -> None:
    """Counts the values `root` expands to (an alias counts each time it is used) and its depth, each node once."""
    sizes: dict[int, tuple[int, int]] = {}

    def size(node, depth: int) -> tuple[int, int]:
        if depth > MAX_DEPTH:
            raise YamlError(f"nested more than {MAX_DEPTH} levels deep; no config needs that many.")
        if id(node) in sizes:
            return sizes[id(node)]
        children = node.value if isinstance(node, yaml.SequenceNode) else (
            [child for pair in node.value for child in pair] if isinstance(node, yaml.MappingNode) else []
        )
        count, deepest = 1, 0
        for child in children:
            child_count, child_depth = size(child, depth + 1)
            count += child_count
            deepest = max(deepest, child_depth + 1)
            if count > MAX_VALUES:
                raise YamlError(
                    f"expands to more than {MAX_VALUES} values (through anchors and aliases, perhaps); no config "
                    "needs that many."
                )
        sizes[id(node)] = (count, deepest)
        return sizes[id(node)]

    size(root, 0)


def preview(value, limit: int = 60) -> str:
    """`repr(value)`, cut to about `limit` characters: what a message shows of a value that may be huge."""
    if isinstance(value, (list, tuple, dict)) and len(value) > limit:
        return f"a {type(value).__name__} of {len(value)} items"
    text = repr(value) if not isinstance(value, (list, tuple, dict)) else _short_repr(value, limit)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _short_repr(value, limit: int) -> str:
    """A repr of a container that stops once it is longer than `limit`, without expanding the rest of it."""
    parts, length = [], 0
    items = value.items() if isinstance(value, dict) else value
    for item in items:
        part = f"{preview(item[0], limit)}: {preview(item[1], limit)}" if isinstance(value, dict) else preview(item, limit)
        parts.append(part)
        length += len(part) + 2
        if length > limit:
            parts.append("…")
            break
    opening, closing = ("{", "}") if isinstance(value, dict) else ("(", ")") if isinstance(value, tuple) else ("[", "]")
    return opening + ", ".join(parts) + closing
