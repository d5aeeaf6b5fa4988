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


def crash_error(model, exc: BaseException, filename: str | None, doing: str) -> ModelError:
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
    return ModelError(f"{model.protocol}: {who} {_what(exc)}{at}")


def _what(exc: BaseException) -> str:
    """``raised ValueError: ...``, or for ``sys.exit()`` what the user's code really did."""
    if isinstance(exc, SystemExit):
        return f"called sys.exit({'' if exc.code is None else repr(exc.code)}) (a step must return, not end the process)"
    return f"raised {type(exc).__name__}: {exc}"


def _user_frames(exc: BaseException) -> list:
    """Frames of the traceback that run a user's protocol code (a tagged class's method, or its module)."""
    from consensuslab.models.definition import Definition, source_of

    user_modules = {m for m in list(sys.modules) if m.startswith("_consensuslab_user_")}
    out = []
    tb = exc.__traceback__
    while tb is not None:
        frame = tb.tb_frame
        owner = frame.f_locals.get("self")
        if isinstance(owner, Definition) and source_of(type(owner)) is not None:
            out.append((frame, tb.tb_lineno, owner))
        elif frame.f_globals.get("__name__") in user_modules:
            out.append((frame, tb.tb_lineno, None))
        tb = tb.tb_next
    return out


def escape_error(exc: BaseException) -> ModelError | None:
    """A ModelError naming protocol, role and method for an exception (``SystemExit`` too) that escaped
    a user's protocol code; None when no user code is on the traceback (the error is ours)."""
    frames = _user_frames(exc)
    if not frames:
        return None
    frame, line, _ = frames[-1]
    at = f"{os.path.relpath(frame.f_code.co_filename)}:{line}"
    methods = [(f, owner) for f, _, owner in frames if owner is not None]
    if not methods:
        return ModelError(f"a protocol's code {_what(exc)} (at {at})")
    f, owner = methods[-1]
    method = f.f_code.co_name
    mark = getattr(getattr(type(owner), method, None), "__consensuslab_actor__", None)
    who = (f"role {mark[1]}, " if mark else "") + f"method {method}"
    return ModelError(f"{owner.name}: {who} {_what(exc)} (at {at})")


def call_hook(protocol: str, hook: str, expected: str, fn, *args, check=None):
    """Call the protocol hook ``fn`` (``lanes``, ``explain``, ``canonical``, ``done``, ...).

    Whatever escapes it, or a result that ``check`` rejects, is one ModelError
    naming the protocol, the hook and the shape it must return.
    """
    from consensuslab.errors import ConsensuslabError

    try:
        out = fn(*args)
    except (ConsensuslabError, KeyboardInterrupt):
        raise
    except BaseException as exc:  # noqa: BLE001 - sys.exit() in a hook is named, not obeyed
        filename = getattr(getattr(fn, "__code__", None), "co_filename", None) or getattr(
            getattr(getattr(fn, "__func__", None), "__code__", None), "co_filename", None)
        at = where(exc, os.path.abspath(filename) if filename else None)
        raise ModelError(f"{protocol}: hook {hook} {_what(exc)}" + (f" (at {at})" if at else "")
                         + f"; it must return {expected}") from None
    if check is not None and not check(out):
        shown = repr(out)
        shown = shown if len(shown) <= 60 else shown[:57] + "..."
        raise ModelError(f"{protocol}: hook {hook} returned {shown} (a {type(out).__name__}); "
                         f"it must return {expected}")
    return out
