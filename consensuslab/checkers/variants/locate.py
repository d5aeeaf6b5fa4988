"""Where in a protocol's source a scenario's failure points: the property, the scenario, the crashing line.

CI annotations (``::error file=...,line=...``) and JUnit ``<error>`` elements
need a file and a line.  A property that failed unexpectedly points at its
function; an expectation that was not met (nothing found, a different count)
at the scenario's declaration; an exception raised by the protocol's own code
at the deepest frame of that code in the traceback.
"""

from __future__ import annotations

import inspect
import os
import re
import sysconfig
import traceback

#: the package's own folder (this file is consensuslab/checkers/variants/locate.py)
PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
_NOT_AUTHORED = tuple(os.path.abspath(p) + os.sep for p in {sysconfig.get_path(k) for k in (
    "stdlib", "platstdlib", "purelib", "platlib")} if p) + (PACKAGE_DIR + os.sep,)


def authored(path: str | None) -> str | None:
    """``path`` made absolute if the protocol's author wrote it: not this package, the standard
    library or an installed package."""
    if not path or not path.endswith(".py"):
        return None
    path = os.path.abspath(path)
    return None if path.startswith(_NOT_AUTHORED) else path


def place(file: str | None, line: int | None) -> dict | None:
    return {"file": file, "line": line} if file else None


def class_location(cls) -> dict | None:
    try:
        return place(inspect.getsourcefile(cls), inspect.getsourcelines(cls)[1])
    except (OSError, TypeError):
        return None


def scenario_location(cls, name: str) -> dict | None:
    """The line of ``Scenario("name", ...)`` in the class body, else the class statement."""
    try:
        lines, start = inspect.getsourcelines(cls)
        file = inspect.getsourcefile(cls)
    except (OSError, TypeError):
        return None
    quoted = re.compile(r"""Scenario\(\s*(?:name\s*=\s*)?["']""" + re.escape(name) + r"""["']""")
    for offset, line in enumerate(lines):
        if quoted.search(line):
            return place(file, start + offset)
    for offset, line in enumerate(lines):  # the name on the line after ``Scenario(``
        if line.rstrip().endswith("Scenario(") and offset + 1 < len(lines) and f'"{name}"' in lines[offset + 1]:
            return place(file, start + offset)
    return place(file, start)


def property_location(model, name: str) -> dict | None:
    """The ``def`` line of the property's function."""
    try:
        fn = inspect.unwrap(getattr(model.property_named(name).fn, "__func__", model.property_named(name).fn))
        return place(inspect.getsourcefile(fn), fn.__code__.co_firstlineno)
    except Exception:  # noqa: BLE001 - a location is a courtesy; no property object, no line
        return None


def crash_details(exc: BaseException, cls) -> dict:
    """Type, message, file and line, and the traceback of an exception raised while checking ``cls``.

    The line is the deepest frame of the protocol author's code along the
    exception and its causes (a ``ModelError`` raised for the user's own
    exception points at the user's line, and the type and traceback are that
    exception's); failing that, the protocol class.
    """
    chain, seen = [], set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        chain.append(current)
        current = current.__cause__ or current.__context__
    where, culprit = None, exc
    for err in chain:
        frames = [f for f in traceback.extract_tb(err.__traceback__) if authored(f.filename)]
        if frames:
            where, culprit = place(frames[-1].filename, frames[-1].lineno), err
            break
    where = where or class_location(cls) or {"file": None, "line": None}
    text = "".join(traceback.format_exception(type(culprit), culprit, culprit.__traceback__, chain=False))
    return {"type": type(culprit).__name__, "message": str(exc), **where, "traceback": text}
