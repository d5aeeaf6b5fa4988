"""The package's layout rules (README "Layout"), checked on the code as it is.

The import contracts live in ``pyproject.toml`` (import-linter: layers, the
engines meeting only through ``checkers/run.py``, no cycles between
siblings); the rest are read here from the source with ``ast``: no import
cycle between modules (lazy imports inside functions count), no module
borrowing another's ``_private`` names, argparse only in the command line,
and modules and functions small enough to hold one idea.
"""

import ast
import os
import subprocess
import sys
from collections import defaultdict

import networkx as nx
import pytest

from paths import ROOT

PACKAGE = ROOT / "consensuslab"
#: a module holds one idea; a function reads in one screen unless it is a measured hot loop
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 80


def modules() -> dict[str, ast.Module]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        out[name.removesuffix(".__init__")] = ast.parse(path.read_text(encoding="utf-8"), str(path))
    return out


def imports(name: str, tree: ast.Module, known: set[str]):
    """(imported module, imported name or None) for every import anywhere in the module, lazy ones too."""
    is_package = (PACKAGE.parent / name.replace(".", "/") / "__init__.py").exists()
    base = name if is_package else name.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, None
        elif isinstance(node, ast.ImportFrom):
            target = node.module or ""
            if node.level:
                parts = base.split(".")[: len(base.split(".")) - node.level + 1]
                target = ".".join(parts + ([node.module] if node.module else []))
            for alias in node.names:
                full = f"{target}.{alias.name}"
                yield (full, None) if full in known else (target, alias.name)


def import_graph() -> tuple[nx.DiGraph, list[tuple[str, str, str]]]:
    mods = modules()
    known = set(mods)
    graph, private = nx.DiGraph(), []
    for name, tree in mods.items():
        for target, imported in imports(name, tree, known):
            while target and target not in known:
                target = target.rpartition(".")[0]
            if not target or target == name:
                continue
            if not (target.startswith(name + ".") or name.startswith(target + ".")):  # a package re-exporting
                graph.add_edge(name, target)
            if imported and imported.startswith("_") and not imported.startswith("__"):
                private.append((name, imported, target))
    return graph, private


def test_import_contracts_hold():
    """import-linter's contracts from pyproject.toml: the layers, the engines apart, no sibling cycles."""
    proc = subprocess.run([sys.executable, "-c", "import sys; from importlinter.cli import lint_imports; "
                                                 "sys.exit(lint_imports(no_logo=True, no_cache=True))"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "0 broken" in proc.stdout


def test_no_import_cycle_between_modules():
    graph, _ = import_graph()
    cycles = [sorted(c) for c in nx.strongly_connected_components(graph) if len(c) > 1]
    assert cycles == []


def test_no_module_borrows_private_names():
    _, private = import_graph()
    assert private == []


def test_argparse_lives_only_in_the_command_line():
    users = sorted(name for name, tree in modules().items()
                   for target, _ in imports(name, tree, set())
                   if target == "argparse" and not name.startswith(("consensuslab.commands", "consensuslab.cli")))
    assert users == []


def test_modules_hold_one_idea():
    long = {str(p.relative_to(ROOT)): n for p in PACKAGE.rglob("*.py")
            if (n := p.read_text(encoding="utf-8").count("\n")) > MAX_MODULE_LINES}
    assert long == {}


def test_functions_fit_one_screen_unless_a_measured_hot_loop():
    long = defaultdict(list)
    for name, tree in modules().items():
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                lines = node.end_lineno - node.lineno + 1
                doc = (ast.get_docstring(node) or "").lower()
                if lines > MAX_FUNCTION_LINES and not ("hot loop" in doc and "measured" in doc):
                    long[name].append((node.name, lines))
    assert dict(long) == {}


@pytest.mark.parametrize("folder", ["checkers", "models", "commands", "render", "traces", "protocols"])
def test_every_package_folder_is_a_package(folder):
    for path in (PACKAGE / folder).rglob("*"):
        if path.is_dir() and path.name != "__pycache__":
            assert (path / "__init__.py").exists(), path
    assert (PACKAGE / folder / "__init__.py").exists()


def test_the_rules_catch_what_they_are_for(tmp_path, monkeypatch):
    """The helpers above see a cycle made of lazy imports and a borrowed private name."""
    fake = tmp_path / "consensuslab"
    (fake / "a").mkdir(parents=True)
    (fake / "__init__.py").write_text("")
    (fake / "a" / "__init__.py").write_text("")
    (fake / "a" / "one.py").write_text("def f():\n    from consensuslab.a.two import _hidden\n")
    (fake / "a" / "two.py").write_text("_hidden = 1\ndef g():\n    import consensuslab.a.one\n")
    monkeypatch.setattr(sys.modules[__name__], "PACKAGE", fake)
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    graph, private = import_graph()
    assert [sorted(c) for c in nx.strongly_connected_components(graph) if len(c) > 1] == \
        [["consensuslab.a.one", "consensuslab.a.two"]]
    assert private == [("consensuslab.a.one", "_hidden", "consensuslab.a.two")]
    assert os.path.exists(fake / "a" / "one.py")
