"""The message of a serving graph's own check, without TensorFlow's decorations.

A signature that refuses its inputs raises `InvalidArgumentError` whose
message wraps the check's words in "Graph execution error", node names,
stack lines and op names:

    Graph execution error: ... assertion failed: [text: a text needs at least one word;
    empty or blank texts at rows] [0] [[{{node Assert_1/AssertGuard/Assert}}]] [Op:...]

A client gets the check's words and values alone:
`text: a text needs at least one word; empty or blank texts at rows [0]`.
"""

from __future__ import annotations

import re

import tensorflow as tf

_ASSERTION = "assertion failed: "
# What `tf.debugging.assert_*` add after their own message: the condition, then `x (name) = ` and x's values.
_CONDITION = "Condition "
_FIRST_OPERAND = re.compile(r"^x \(.*\) = $")
_NOISE = re.compile(r"\{\{[^}]*\}\}|\[\[.*\]\]|\[Op:[^\]]*\]")
_NOT_THE_MESSAGE = ("Graph execution error", "Detected at node", "<stack traces")


def graph_error_message(error: tf.errors.OpError) -> str:
    """The words of the check that refused a call, with the values it printed, and nothing of TensorFlow's.

    Args:
        error: What the signature raised, usually an `InvalidArgumentError` from
            `tf.debugging.Assert` or a `tf.debugging.assert_*` check.

    Returns:
        For `Assert(condition, [message, values...])`: `"message [values] ..."`;
        for `assert_less_equal(x, y, message)` and its kind: `"message; got x"`;
        for any other error: its first line of its own, without node or op names.
    """
    text = error.message or ""
    if _ASSERTION in text:
        groups = _bracketed(text[text.rindex(_ASSERTION) + len(_ASSERTION) :].split("\n", 1)[0])
        if groups:
            return _assertion_message(groups)
    lines = [line.strip() for line in text.splitlines()]
    own = [line for line in lines if line and not line.startswith(_NOT_THE_MESSAGE) and not line.startswith("[[")]
    cleaned = _NOISE.sub("", own[0]).strip() if own else ""
    return cleaned or type(error).__name__


def _assertion_message(groups: list[str]) -> str:
    if any(group.startswith(_CONDITION) for group in groups):
        condition = next(index for index, group in enumerate(groups) if group.startswith(_CONDITION))
        message = " ".join(groups[:condition]).strip()
        for index, group in enumerate(groups[:-1]):
            if _FIRST_OPERAND.match(group):
                return f"{message}; got {groups[index + 1]}"
        return message
    return " ".join([groups[0], *(f"[{group}]" for group in groups[1:])])


def _bracketed(text: str) -> list[str]:
    """The top-level `[...]` groups of `text`, each without its outer brackets; brackets inside a group are kept."""
    groups, depth, start = [], 0, 0
    for index, character in enumerate(text):
        if character == "[":
            if depth == 0:
                start = index + 1
            depth += 1
        elif character == "]" and depth:
            depth -= 1
            if depth == 0:
                groups.append(text[start:index])
    return groups
