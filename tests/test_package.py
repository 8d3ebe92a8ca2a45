"""The package's shape: no import cycles, no imports outside the library, every custom object registered."""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
import sys
from pathlib import Path

import keras

import toolkit

ROOT = Path(toolkit.__file__).parent


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
    local = {path.stem for path in ROOT.parent.iterdir()} - {"toolkit"}
    assert not third_party & local, "modules of the checkout outside toolkit/ (such as pipelines or benchmarks)"


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
        if name != "toolkit.__main__":  # which runs the command line
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
