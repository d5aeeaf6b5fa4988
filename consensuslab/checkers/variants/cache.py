"""Scenario results kept between runs, so that CI re-checks only what changed.

An entry is keyed on everything its verdict depends on: the tool (its
version and a digest of its own source files, so a changed checker never
reuses an old verdict), the protocol's source (the file that defines the
class and every module of the author's it imports, transitively; the
standard library and installed packages excluded), the protocol class and
the scenario (its whole declaration: parameters, variant, kind, bounds).
Only passes are kept: a failure, an incomplete or interrupted run and a crash
are run again, so their traces and reports are fresh.

Entries are JSON files in one folder (``.consensuslab-cache`` by default),
written atomically; one that does not parse, or whose key does not match,
is a miss and is overwritten.  Nothing is ever unpickled.  Clearing the cache
is deleting the folder (``check-all --clear-cache``).
"""

from __future__ import annotations

import ast
import hashlib
import importlib.metadata
import importlib.util
import inspect
import json
import os
import shutil
import sys
import tempfile
from typing import Any

from consensuslab.checkers.variants.expect import DEFAULT, PASS, Outcome, trace_file_name
from consensuslab.checkers.variants.locate import PACKAGE_DIR, authored

DEFAULT_DIR = ".consensuslab-cache"
#: the layout of an entry; a change makes every older entry a miss
FORMAT = 1


def tool_digest(root: str | None = None) -> str:
    """The package's version and a digest of every one of its source files (those below ``root``)."""
    root = root or PACKAGE_DIR
    h = hashlib.sha256(f"{_version()}|{sys.version_info[:2]}".encode())
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(files):
            if name.endswith(".py"):
                path = os.path.join(folder, name)
                h.update(os.path.relpath(path, root).encode() + b"\0")
                with open(path, "rb") as f:
                    h.update(hashlib.sha256(f.read()).digest())
    return h.hexdigest()


def _version() -> str:
    try:
        return importlib.metadata.version("consensuslab")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def source_files(cls) -> list[str]:
    """The file defining ``cls`` and every file of the author's that it (or its bases) imports, transitively.

    Imports are read from the source (``ast``), lazy ones included, so ``from helper import LIMIT``
    counts even though the value it brings has no module of its own.
    """
    queue = [f for f in (_class_file(cls),) if f] + [f for f in map(authored, map(_class_file, cls.__mro__[1:])) if f]
    files: set[str] = set()
    while queue:
        path = os.path.abspath(queue.pop())
        if path in files:
            continue
        files.add(path)
        for name in _imported_names(path):
            found = authored(_module_file(name))
            if found and found not in files:
                queue.append(found)
    return sorted(files)


def _class_file(cls) -> str | None:
    try:
        return inspect.getsourcefile(cls) if cls is not object else None
    except TypeError:
        return None


def _imported_names(path: str) -> set[str]:
    """Every module name the file imports (``from a import b`` gives ``a`` and ``a.b``)."""
    try:
        with open(path, encoding="utf-8") as f:
            tree = ast.parse(f.read(), path)
    except (OSError, SyntaxError, ValueError):
        return set()
    package = next((m.__package__ for m in list(sys.modules.values())
                    if getattr(m, "__file__", None) and os.path.abspath(m.__file__) == path), None) or ""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: max(len(package.split(".")) - node.level + 1, 0)]
                base = ".".join([p for p in parts if p] + ([node.module] if node.module else []))
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return {n for n in names if n}


def _module_file(name: str) -> str | None:
    module = sys.modules.get(name)
    if module is not None:
        return getattr(module, "__file__", None)
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError, AttributeError):
        return None
    return spec.origin if spec is not None else None


def source_digest(cls) -> str:
    h = hashlib.sha256()
    for path in source_files(cls):
        h.update(os.path.basename(path).encode() + b"\0")  # not the folder: a checkout elsewhere still hits
        try:
            with open(path, "rb") as f:
                h.update(hashlib.sha256(f.read()).digest())
        except OSError:
            h.update(b"unreadable")
    return h.hexdigest()


class ResultCache:
    """Passing scenario outcomes, on disk as JSON, keyed as the module's docstring says."""

    def __init__(self, directory: str = DEFAULT_DIR):
        self.directory = directory
        self._tool: str | None = None
        self._sources: dict[type, str] = {}

    def key(self, cls, scenario: str) -> dict[str, Any]:
        if self._tool is None:
            self._tool = tool_digest()
        if cls not in self._sources:
            self._sources[cls] = source_digest(cls)
        declared = repr(cls.scenario_named(scenario)) if scenario != DEFAULT else ""
        return {"format": FORMAT, "tool": self._tool, "source": self._sources[cls], "protocol": cls.name,
                "class": f"{cls.__module__}.{cls.__qualname__}", "scenario": scenario, "declared": declared}

    def _path(self, key: dict[str, Any]) -> str:
        digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()
        return os.path.join(self.directory, f"{digest}.json")

    def get(self, cls, scenario: str, traces_dir: str | None = None) -> Outcome | None:
        """The stored outcome (its trace rewritten into ``traces_dir``), or None: absent, corrupt or stale."""
        key = self.key(cls, scenario)
        try:
            with open(self._path(key), encoding="utf-8") as f:
                entry = json.load(f)
            if not isinstance(entry, dict) or entry.get("key") != key:
                return None
            out = Outcome.from_json(entry["outcome"])
            itf = entry.get("itf")
            if out.verdict != PASS or (itf is not None and not isinstance(itf, dict)):
                return None
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None
        out.cached, out.trace_file = True, None
        if traces_dir and itf is not None:
            out.trace_file = _write_json(trace_file_name(traces_dir, out.name), itf)
        return out

    def put(self, cls, outcome: Outcome, itf: dict | None = None) -> bool:
        """Keep ``outcome`` if it is a pass of a finished run; True when it was written."""
        if outcome.verdict != PASS or outcome.cached:
            return False
        entry = {"key": self.key(cls, outcome.scenario), "outcome": outcome.to_json(), "itf": itf}
        entry["outcome"]["trace_file"] = None
        try:
            _write_json(self._path(entry["key"]), entry)
        except OSError:  # a read-only or full disk: the run goes on uncached
            return False
        return True

    def clear(self) -> int:
        """Delete the cache folder; the number of entries it held."""
        if not os.path.isdir(self.directory):
            return 0
        count = sum(1 for n in os.listdir(self.directory) if n.endswith(".json"))
        shutil.rmtree(self.directory)
        return count


def _write_json(path: str, doc: Any) -> str:
    """Write ``doc`` to ``path`` atomically (parallel runs never see half a file)."""
    folder = os.path.dirname(path) or "."
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".json")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(doc, f)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path
