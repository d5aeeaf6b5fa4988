"""Loading a user's own protocol from a file (``path.py[:Class]``) or a module (``pkg.mod[:Class]``).

Loading executes the user's code, as ``python path.py`` would; nothing is
unpickled.  Every class loaded here is tagged with ``__consensuslab_source__``
so that ``Model.meta()`` records where it came from and ``replay`` can load
it again.  Mistakes in the user's code become one-line ``UsageError`` or
``ModelError`` messages (exit 2) naming the file, protocol, role and method,
because a traceback into the checker's internals tells a protocol author
nothing.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import os
import sys
import traceback
from types import ModuleType

from consensuslab.errors import ModelError, UsageError

SOURCE_ATTR = "__consensuslab_source__"
#: exploration budget of ``lint``: enough to reach the first step of every action
LINT_STATES = 2000


def looks_like_path(text: str) -> bool:
    """``x.py``, ``x.py:Class`` or anything with a directory separator names a file."""
    head = text.rpartition(":")[0] if ".py:" in text else text
    return head.endswith(".py") or os.sep in head or "/" in head


def split_target(text: str) -> tuple[str, str | None]:
    if ".py:" in text:
        path, _, cls = text.rpartition(":")
        return path, cls or None
    return text, None


def _where(exc: BaseException, filename: str | None) -> str:
    """``file:line in function`` of the innermost frame in the user's file (or the innermost)."""
    frames = traceback.extract_tb(exc.__traceback__)
    mine = [f for f in frames if filename and os.path.abspath(f.filename) == filename] or frames[-1:]
    if not mine:
        return ""
    f = mine[-1]
    func = "" if f.name == "<module>" else f" in {f.name}"
    return f"{os.path.relpath(f.filename)}:{f.lineno}{func}"


def _module_name(path: str) -> str:
    stem = os.path.splitext(os.path.basename(path))[0]
    digest = hashlib.sha1(path.encode()).hexdigest()[:10]
    return f"_consensuslab_user_{''.join(c if c.isalnum() else '_' for c in stem)}_{digest}"


def import_file(path: str) -> ModuleType:
    """Execute ``path`` as a module (once per process); its directory goes on ``sys.path``
    so that it can import its siblings, as it could when run as a script."""
    full = os.path.abspath(path)
    if not os.path.isfile(full):
        raise UsageError(f"protocol file {path!r} does not exist")
    name = _module_name(full)
    if name in sys.modules:
        return sys.modules[name]
    folder = os.path.dirname(full)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    spec = importlib.util.spec_from_file_location(name, full)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except SyntaxError as exc:
        del sys.modules[name]
        raise UsageError(f"{path}:{exc.lineno}: syntax error: {exc.msg}") from None
    except Exception as exc:
        del sys.modules[name]
        raise UsageError(f"{path}: loading it raised {type(exc).__name__}: {exc} "
                         f"(at {_where(exc, full)})") from None
    return module


def import_module(name: str) -> ModuleType:
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name and name.startswith(exc.name):
            raise UsageError(f"module {name!r} not found (is it installed, or on PYTHONPATH?)") from None
        raise UsageError(f"module {name}: importing it raised ModuleNotFoundError: {exc}") from None
    except SyntaxError as exc:
        raise UsageError(f"{exc.filename}:{exc.lineno}: syntax error: {exc.msg}") from None
    except Exception as exc:
        raise UsageError(f"module {name}: importing it raised {type(exc).__name__}: {exc} "
                         f"(at {_where(exc, None)})") from None


def protocol_classes(module: ModuleType) -> dict[str, type]:
    """Class name -> class for every named Spec/Protocol subclass *defined* in ``module``."""
    from consensuslab.models.definition import Definition

    out = {}
    for attr, value in vars(module).items():
        if (isinstance(value, type) and issubclass(value, Definition)
                and value.__module__ == module.__name__ and value.name):
            out[attr] = value
    return out


def _pick(module: ModuleType, what: str, class_name: str | None, source_of) -> type:
    found = protocol_classes(module)
    if class_name is not None:
        cls = getattr(module, class_name, None)
        from consensuslab.models.definition import Definition

        if not (isinstance(cls, type) and issubclass(cls, Definition)):
            valid = ", ".join(sorted(found)) or "none"
            raise UsageError(f"{what} has no protocol class {class_name!r}; protocol classes: {valid}")
        if not cls.name:
            raise UsageError(f"{what}: {class_name} has no `name` (the name traces and reports use)")
    elif len(found) == 1:
        class_name, cls = next(iter(found.items()))
    elif not found:
        raise UsageError(f"{what} defines no protocol class (a Spec or Protocol subclass with a `name`)")
    else:
        raise UsageError(f"{what} defines {len(found)} protocol classes ({', '.join(sorted(found))}); "
                         f"pick one with {what}:ClassName")
    tag(cls, source_of(class_name))
    return cls


def tag(cls: type, source: str) -> None:
    """Record where ``cls`` came from, on the class itself (not inherited by subclasses)."""
    setattr(cls, SOURCE_ATTR, source)


def source_of(cls: type) -> str | None:
    return vars(cls).get(SOURCE_ATTR)


def _portable(path: str) -> str:
    """The path relative to the working directory when it lies below it, else absolute."""
    full = os.path.abspath(path)
    rel = os.path.relpath(full)
    return full if rel.startswith("..") else rel


def load_file(target: str) -> type:
    """The protocol class of ``path.py`` or ``path.py:ClassName``."""
    path, class_name = split_target(str(target))
    module = import_file(path)
    return _pick(module, path, class_name, lambda c: f"{_portable(path)}:{c}")


def load_module_target(target: str) -> type:
    """The protocol class of ``pkg.mod:ClassName`` (or ``pkg.mod`` defining one)."""
    name, _, class_name = target.partition(":")
    module = import_module(name)
    return _pick(module, name, class_name or None, lambda c: f"{name}:{c}")


def module_protocols(name: str) -> dict[str, type]:
    """Protocol name -> class for every protocol class ``--module name`` defines."""
    module = import_module(name)
    found = protocol_classes(module)
    if not found:
        raise UsageError(f"module {name} defines no protocol class (a Spec or Protocol subclass with a `name`)")
    out = {}
    for class_name, cls in found.items():
        tag(cls, f"{name}:{class_name}")
        out[cls.name] = cls
    return out


def load_source(source: str) -> type:
    """The class a trace's ``#meta.source`` names (``path.py:Class`` or ``module:Class``)."""
    return load_file(source) if looks_like_path(source) else load_module_target(source)


def resolve(protocol: str, modules: list[str] | None = None) -> type:
    """The class for a command line's PROTOCOL: a path, a ``--module`` protocol, or a registry name."""
    from consensuslab.protocols import REGISTRY, protocol_class

    if looks_like_path(protocol):
        return load_file(protocol)
    extra: dict[str, type] = {}
    for mod in modules or ():
        extra.update(module_protocols(mod))
    if protocol in extra:
        return extra[protocol]
    if extra and protocol not in REGISTRY:
        from consensuslab.protocols import available

        valid = ", ".join(sorted(set(available()) | set(extra)))
        raise UsageError(f"unknown protocol {protocol!r}; valid: {valid}")
    return protocol_class(protocol)


# -- checking a user's model before the checker runs it ------------------------------------
def lint(model, limit: int = LINT_STATES) -> None:
    """Explore the first ``limit`` states with every framework rule checked, so that a user's
    mistake (a mutable state, an action returning the wrong shape, a handler that raises)
    is one ``ModelError`` naming protocol, role and method instead of a traceback from
    deep inside the checker, whose hot loop does not check these things."""
    from collections import deque

    where = _source_file(model)
    try:
        initial = model.initial_states()
    except ModelError:
        raise
    except Exception as exc:
        raise _crash(model, exc, where, "computing the initial states") from None
    if not initial:
        raise ModelError(f"{model.protocol}: no initial state")
    kind = type(initial[0])
    for s in initial:
        _hashable(model, s, "init", kind)
        _properties(model, s)
    seen = set(initial)
    queue = deque(initial)
    while queue and len(seen) < limit:
        state = queue.popleft()
        try:
            out = model.successors(state)
        except ModelError:
            raise
        except Exception as exc:
            raise _crash(model, exc, where, "computing successors") from None
        for act, nxt in out:
            _hashable(model, nxt, act.name, kind)
            for prop in model.step_properties:
                model.step_holds(prop, state, act, nxt)
            if nxt not in seen:
                _properties(model, nxt)
                seen.add(nxt)
                queue.append(nxt)


def _hashable(model, state, method: str, kind: type) -> None:
    if type(state) is not kind:
        raise ModelError(f"{model.protocol}: action {method} returned a {type(state).__name__}, not a "
                         f"{kind.__name__} state (return the next state, or None where the guard is false)")
    try:
        hash(state)
    except TypeError:
        field = ""
        if hasattr(state, "_fields"):
            bad = [f for f, v in zip(state._fields, state) if not _can_hash(v)]
            field = f" (field {bad[0]!r} is a {type(getattr(state, bad[0])).__name__})" if bad else ""
        raise ModelError(f"{model.protocol}: action {method}: state {kind.__name__} is mutable or unhashable"
                         f"{field}; use tuple/frozenset fields") from None


def _properties(model, state) -> None:
    """Evaluate every state property once: ``Model.holds`` turns an exception into a ModelError."""
    for prop in model.invariants + model.witnesses:
        model.holds(prop, state)


def _can_hash(value) -> bool:
    try:
        hash(value)
        return True
    except TypeError:
        return False


def _source_file(model) -> str | None:
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
    at = f" (at {_where(exc, os.path.abspath(path))})" if frames else ""
    return ModelError(f"{cls.name}: method {method} raised {type(exc).__name__}: {exc}{at}")


def _crash(model, exc: Exception, filename: str | None, doing: str) -> ModelError:
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
    at = f" (at {_where(exc, filename)})" if frames else ""
    return ModelError(f"{model.protocol}: {who} raised {type(exc).__name__}: {exc}{at}")
