"""Naming the user's code that raised: its file and line, the method and, for actors, the role.

A traceback into the checker's internals tells a protocol author nothing, so
every exception that escapes a user's protocol becomes one ``ModelError``
line that points at the user's own code.
"""

from __future__ import annotations

import os
import sys
import traceback

from consensuslab.errors import ModelError


def where(exc: BaseException, filename: str | None) -> str:
    """``file:line in function`` of the innermost frame in the user's file (or the innermost)."""
    frames = traceback.extract_tb(exc.__traceback__)
    mine = [f for f in frames if filename and os.path.abspath(f.filename) == filename] or frames[-1:]
    if not mine:
        return ""
    f = mine[-1]
    func = "" if f.name == "<module>" else f" in {f.name}"
    return f"{os.path.relpath(f.filename)}:{f.lineno}{func}"


def source_file(model) -> str | None:
    module = sys.modules.get(type(model.definition).__module__)
    path = getattr(module, "__file__", None)
    return os.path.abspath(path) if path else None


def setup_error(cls: type, exc: Exception) -> ModelError:
    """A ModelError for a user's ``setup`` (or parameter handling) that raised."""
    module = sys.modules.get(cls.__module__)
    path = getattr(module, "__file__", None)
    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if path and os.path.abspath(f.filename) == os.path.abspath(path)]
    method = frames[-1].name if frames else "setup"
    at = f" (at {where(exc, os.path.abspath(path))})" if frames else ""
    return ModelError(f"{cls.name}: method {method} raised {type(exc).__name__}: {exc}{at}")


def crash_error(model, exc: Exception, filename: str | None, doing: str) -> ModelError:
    """A ModelError for user code that raised: the method and, for actors, its role."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if filename and os.path.abspath(f.filename) == filename]
    method = frames[-1].name if frames else None
    role = None
    if method:
        fn = getattr(type(model.definition), method, None)
        mark = getattr(fn, "__consensuslab_actor__", None)
        role = mark[1] if mark else None
    who = (f"role {role}, " if role else "") + (f"method {method}" if method else doing)
    at = f" (at {where(exc, filename)})" if frames else ""
    return ModelError(f"{model.protocol}: {who} raised {type(exc).__name__}: {exc}{at}")
