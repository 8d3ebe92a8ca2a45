"""Configs read as users write them: YAML 1.2 numbers, duplicate keys and hostile documents refused, short messages."""

from __future__ import annotations

import pytest

from toolkit import config as config_lib
from toolkit.config_yaml import MAX_DEPTH, YamlError, preview, read_yaml
from toolkit.registry import get_pipeline
from toolkit_cli import run as main

ALIAS_BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + level)}: &{chr(98 + level)} [{', '.join(['*' + chr(97 + level)] * 9)}]\n" for level in range(9)
) + "trainer:\n  epochs: *j\n"

# What a user writes in a config file, and what loading it gives: a value at a key, or a refusal with its message.
CASES = {
    "an exponent is a float": ("trainer:\n  learning_rate: 1e-3\n", ("trainer.learning_rate", 0.001)),
    "an exponent without a sign": ("trainer:\n  learning_rate: 5E4\n", ("trainer.learning_rate", 50000.0)),
    "a leading-dot float": ("trainer:\n  learning_rate: .5\n", ("trainer.learning_rate", 0.5)),
    "base 60 is not a number": ("trainer:\n  epochs: 1:30\n", r"trainer\.epochs: expected int, got str '1:30'"),
    "hex is not a number": ("trainer:\n  epochs: 0x1F\n", r"trainer\.epochs: expected int, got str '0x1F'"),
    "yes is not a boolean": ("model:\n  test_time_flip: yes\n", r"model\.test_time_flip: expected bool, got str 'yes'"),
    "a key given twice": ("trainer:\n  epochs: 2\n  epochs: 3\n", r"key 'epochs' is given twice, on lines 2 and 3"),
    "an alias bomb": (ALIAS_BOMB, r"expands to more than 100000 values"),
    "nesting too deep": ("a: " + "[" * (MAX_DEPTH + 5) + "]" * (MAX_DEPTH + 5) + "\n", rf"nested more than {MAX_DEPTH} levels"),
    "nesting thousands deep": ("a: " + "[" * 5000 + "]" * 5000 + "\n", rf"nested more than {MAX_DEPTH} levels"),
    "a seed beyond 2^32": ("trainer:\n  seed: 1099511627776\n", r"trainer\.seed: 1099511627776 is above the maximum 4294967295"),
    "a seed beyond 2^64": ("trainer:\n  seed: 18446744073709551617\n", r"trainer\.seed: 18446744073709551617 is too large a whole number"),
    "a batch beyond int32": ("trainer:\n  batch_size: 4294967296\n", r"trainer\.batch_size: 4294967296 is above the maximum 2147483647"),
    "a learning rate of 0": ("trainer:\n  learning_rate: 0\n", r"trainer\.learning_rate: 0\.0 must be above 0\.0\."),
    "a negative learning rate": ("trainer:\n  learning_rate: -1e-3\n", r"trainer\.learning_rate: -0\.001 must be above 0\.0"),
    "clipnorm 0 rather than null": ("trainer:\n  clipnorm: 0\n", r"trainer\.clipnorm: 0\.0 must be above 0\.0; null turns it off"),
    "a huge value is shown short": ("trainer:\n  epochs: " + "9" * 5000 + "x\n", r"trainer\.epochs: expected int, got str '9{50,60}…\.$"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_config_file_reads_as_users_write_it(case, tmp_path):
    text, expected = CASES[case]
    path = tmp_path / "config.yaml"
    path.write_text(text)
    config_class = get_pipeline("image_classification").config_class
    if isinstance(expected, tuple):
        key, value = expected
        assert config_lib.dotted(config_lib.to_dict(config_lib.load_config(config_class, path)))[key] == value
        return
    with pytest.raises(config_lib.ConfigError, match=rf"^{path}: .*{expected}" if not expected.startswith("key") else expected) as raised:
        config_lib.load_config(config_class, path)
    assert len(str(raised.value)) < 400, "a message shows a short preview of a value, never all of it"


@pytest.mark.parametrize("case", ["a key given twice", "an alias bomb", "a learning rate of 0", "hex is not a number"])
def test_the_command_line_refuses_it_in_one_line_with_exit_2(case, tmp_path, capsys):
    path = tmp_path / "config.yaml"
    path.write_text(CASES[case][0])
    assert main(["run", "image_classification", "--config", str(path)]) == 2
    error = capsys.readouterr().err
    assert error.startswith("toolkit run: error: ") and error.count("\n") == 1 and "Traceback" not in error


@pytest.mark.parametrize(
    ("assignment", "expected"),
    [
        ("trainer.learning_rate=3e-3", 0.003),
        ("trainer.epochs=7", 7),
        ("data.seed=12", 12),
    ],
)
def test_overrides_read_numbers_as_yaml_1_2_does(assignment, expected):
    config = config_lib.load_config(get_pipeline("image_classification").config_class, overrides=[assignment])
    key = assignment.partition("=")[0]
    assert config_lib.dotted(config_lib.to_dict(config))[key] == expected


def test_an_override_of_zero_learning_rate_is_refused_as_in_fine_tune(capsys):
    assert main(["run", "stock", "--set", "trainer.learning_rate=0"]) == 2
    assert capsys.readouterr().err == "toolkit run: error: trainer.learning_rate: 0.0 must be above 0.0.\n"


def test_null_booleans_and_strings_read_as_yaml_1_2_does():
    assert read_yaml("a: ~\nb: null\nc:\nd: true\ne: on\nf: NO\ng: '1e3'\nh: 017\n") == {
        "a": None, "b": None, "c": None, "d": True, "e": "on", "f": "NO", "g": "1e3", "h": 17,
    }
    assert read_yaml("x: .inf\ny: -.Inf\n") == {"x": float("inf"), "y": float("-inf")}


def test_invalid_yaml_says_where():
    with pytest.raises(YamlError, match=r"(?s)not valid YAML: .*line 3"):
        read_yaml("a: 1\nb: [\n")


def test_a_preview_never_expands_a_value():
    shared = ["x"] * 10
    for _ in range(30):
        shared = [shared] * 10
    assert len(preview(shared)) <= 61
    assert preview("y" * 1000).endswith("…") and len(preview("y" * 1000)) == 60
