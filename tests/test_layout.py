"""tests/ mirrors the code: each module has its test file at the matching path, and each test file a module or a listed reason."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TESTS = ROOT / "tests"
PACKAGES = ("toolkit", "pipelines")
# Test files about several modules at once, each kept whole rather than split by module.
CROSS_CUTTING = {
    "tests/test_bad_inputs.py",
    "tests/layers/test_serialization.py",
    "tests/layers/test_lstm_parity.py",
    "tests/test_release_fixtures.py",
    "tests/test_docs.py",
    "tests/test_package.py",
    "tests/test_docstring_examples.py",
    "tests/test_keras_private.py",
    "tests/test_layout.py",
}
# Test files that train to a quality, start processes or run default configs: left out of `make test-fast`.
SLOW_FILES = [
    *sorted(str(path.relative_to(ROOT)) for path in (TESTS / "pipelines").glob("test_*.py")),
    "tests/test_distribution.py",
    "tests/test_cli.py",
    "tests/test_release_fixtures.py",
]


def modules() -> list[Path]:
    """Every module of toolkit/ and pipelines/, `__init__.py` aside."""
    return sorted(
        path
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if path.name != "__init__.py" and "__pycache__" not in path.parts
    )


def test_file_of(module: Path) -> Path:
    """toolkit/<sub>/<name>.py → tests/<sub>/test_<name>.py; toolkit/<name>.py → tests/test_<name>.py; pipelines/<name>.py → tests/pipelines/test_<name>.py."""
    parts = module.relative_to(ROOT).parts
    folders = parts[1:-1] if parts[0] == "toolkit" else parts[:-1]
    return TESTS.joinpath(*folders, f"test_{parts[-1]}")


test_file_of.__test__ = False  # a helper, not a test


def relative(path: Path) -> str:
    return str(path.relative_to(ROOT))


def test_the_mirrored_path_of_each_kind_of_module():
    assert test_file_of(ROOT / "toolkit" / "io" / "image_files.py") == TESTS / "io" / "test_image_files.py"
    assert test_file_of(ROOT / "toolkit" / "api.py") == TESTS / "test_api.py"
    assert test_file_of(ROOT / "pipelines" / "stock.py") == TESTS / "pipelines" / "test_stock.py"
    assert ROOT / "toolkit" / "api.py" in modules() and ROOT / "toolkit" / "__init__.py" not in modules()


def test_every_module_has_its_test_file_at_the_matching_path():
    missing = [f"{relative(test_file_of(module))} (for {relative(module)})" for module in modules()
               if not test_file_of(module).is_file()]
    assert not missing, "modules without their test file:\n" + "\n".join(missing)


def test_every_test_file_tests_a_module_or_is_a_listed_cross_cutting_one():
    mirrored = {test_file_of(module) for module in modules()}
    strays = [relative(path) for path in sorted(TESTS.rglob("test_*.py"))
              if path not in mirrored and relative(path) not in CROSS_CUTTING]
    assert not strays, (
        "test files that match no module (move each to its module's file, or add a cross-cutting one to CROSS_CUTTING):\n"
        + "\n".join(strays)
    )
    stale = sorted(name for name in CROSS_CUTTING if not (ROOT / name).is_file())
    assert not stale, f"CROSS_CUTTING lists files that are gone: {stale}"


def marks_slow(path: Path) -> bool:
    """Whether the file's module-level `pytestmark` is or includes `pytest.mark.slow`."""
    for node in ast.parse(path.read_text()).body:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
        if any(isinstance(target, ast.Name) and target.id == "pytestmark" for target in targets):
            return any(ast.unparse(part) == "pytest.mark.slow" for part in ast.walk(node.value))
    return False


def test_the_slow_files_carry_a_module_level_slow_mark():
    assert len(SLOW_FILES) >= 8, "the five pipelines' files, distribution, the command line and the release fixtures"
    unmarked = [name for name in SLOW_FILES if not marks_slow(ROOT / name)]
    assert not unmarked, "files without `pytestmark = pytest.mark.slow`:\n" + "\n".join(unmarked)


def test_the_slow_mark_is_read_from_the_module_level_assignment_only(tmp_path):
    cases = {
        "pytestmark = pytest.mark.slow\n": True,
        "pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings('ignore')]\n": True,
        "pytestmark = pytest.mark.filterwarnings('ignore')\n": False,
        "def test():\n    pytestmark = pytest.mark.slow\n": False,
        "@pytest.mark.slow\ndef test():\n    pass\n": False,
    }
    for source, expected in cases.items():
        (tmp_path / "test_case.py").write_text("import pytest\n" + source)
        assert marks_slow(tmp_path / "test_case.py") == expected, source
