"""The package's shape: no import cycles, no imports of `pipelines` or anything else outside the library, every custom object registered and loadable after `import toolkit` alone."""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
import re
import sys
from pathlib import Path

import keras

import toolkit
from tests.fixtures import releases

ROOT = Path(toolkit.__file__).parent
BLOCKED = {"sklearn", "scipy", "nltk", "matplotlib", "optuna"}


def module_names() -> list[str]:
    return ["toolkit", *(info.name for info in pkgutil.walk_packages([str(ROOT)], prefix="toolkit."))]


def imported_modules(name: str) -> set[str]:
    """The toolkit modules that module `name` imports, at its top or inside functions."""
    spec = importlib.util.find_spec(name)
    tree = ast.parse(Path(spec.origin).read_text())
    package = name if spec.submodule_search_locations else name.rpartition(".")[0]
    found = set()
    known = set(module_names())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
            # `from package import submodule` imports the submodule; `from module import name` the module.
            found.update(f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names)
    return {module for module in found if module in known and module != name}


def test_no_module_of_the_library_imports_another_in_a_cycle():
    graph = {name: imported_modules(name) for name in module_names()}
    # A package imports its submodules to export them; a submodule reaching its package back
    # is the cycle to find, so the edges from a package to its own submodules are left out.
    graph = {name: {m for m in edges if not m.startswith(name + ".")} for name, edges in graph.items()}
    visiting, done, cycles = [], set(), []

    def visit(module):
        if module in visiting:
            cycles.append(visiting[visiting.index(module):] + [module])
            return
        if module in done:
            return
        visiting.append(module)
        for imported in sorted(graph[module]):
            visit(imported)
        visiting.pop()
        done.add(module)

    for module in sorted(graph):
        visit(module)
    assert cycles == [], cycles


def test_the_library_imports_no_application_package():
    third_party = set()
    for name in module_names():
        tree = ast.parse(Path(importlib.util.find_spec(name).origin).read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                third_party.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and not node.level:
                third_party.add(node.module.split(".")[0])
    local = {path.stem for path in ROOT.parent.iterdir() if not path.name.startswith(".")} - {"toolkit"}
    assert {"pipelines", "toolkit_cli", "benchmarks", "tests"} <= local
    assert not third_party & local, "modules of the checkout outside toolkit/ (such as pipelines or benchmarks)"


def test_the_library_names_no_pipelines_module_to_import_at_run_time():
    named = [
        (name, node.value)
        for name in module_names()
        for node in ast.walk(ast.parse(Path(importlib.util.find_spec(name).origin).read_text()))
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and re.match(r"pipelines(\.\w+)*(:\w+)?$", node.value)
    ]
    assert named == []


def test_the_pipelines_register_no_keras_object():
    sources = {path.name: path.read_text() for path in (ROOT.parent / "pipelines").glob("*.py")}
    assert len(sources) == 6
    assert [name for name, source in sources.items() if "register_keras_serializable" in source] == []


def test_every_pipelines_model_loads_after_import_toolkit_alone(run_python):
    """In a fresh process where scikit-learn, SciPy, NLTK, matplotlib and Optuna cannot be imported at all.

    Keras itself imports scikit-learn and matplotlib when they are installed
    (for its scikit-learn wrappers and plotting helpers) and does without them
    otherwise; blocking them shows that toolkit does not need them to load a model.
    """
    runs = sorted(releases.LATEST.glob("*/run/model.keras"))
    assert len(runs) == 5
    loaded = run_python(
        f"""
        import importlib.abc, json, sys

        class Blocked(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path=None, target=None):
                if name.partition(".")[0] in {sorted(BLOCKED)!r}:
                    raise ImportError(name + " is blocked in this test")

        sys.meta_path.insert(0, Blocked())
        import keras
        import toolkit

        classes = [type(keras.saving.load_model(path)).__name__ for path in {[str(run) for run in runs]!r}]
        imported = sorted(name for name in {sorted(BLOCKED | {"pipelines"})!r} if name in sys.modules)
        print(json.dumps({{"classes": classes, "imported": imported}}))
        """,
        allow_toolkit=True,
    )
    assert loaded == {
        "classes": ["Captioner", "ImageClassifier", "TextClassifier", "PriceForecaster", "TextGenerator"],
        "imported": [],
    }


def test_import_toolkit_alone_registers_every_custom_keras_object(run_python):
    registered = run_python(
        """
        import json
        import keras
        import toolkit
        print(json.dumps(sorted(keras.saving.get_custom_objects())))
        """,
        allow_toolkit=True,
    )
    for name in module_names():
        importlib.import_module(name)
    custom = {
        cls
        for module in list(sys.modules.values())
        if getattr(module, "__name__", "").startswith("toolkit")
        for _, cls in inspect.getmembers(module, inspect.isclass)
        if issubclass(cls, keras.layers.Layer) and cls.__module__.startswith("toolkit")
    }
    abstract = {toolkit.models.TaskModel, toolkit.models.Classifier}
    expected = sorted(f"toolkit>{cls.__name__}" for cls in custom - abstract)
    assert len(expected) >= 12
    assert sorted(set(expected) - set(registered)) == []
    assert "toolkit>standardize_text" in registered
