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
from types import ModuleType

from consensuslab.errors import UsageError
from consensuslab.models.blame import where
from consensuslab.models.definition import tag


def looks_like_path(text: str) -> bool:
    """``x.py``, ``x.py:Class`` or anything with a directory separator names a file."""
    head = text.rpartition(":")[0] if ".py:" in text else text
    return head.endswith(".py") or os.sep in head or "/" in head


def split_target(text: str) -> tuple[str, str | None]:
    if ".py:" in text:
        path, _, cls = text.rpartition(":")
        return path, cls or None
    return text, None


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
                         f"(at {where(exc, full)})") from None
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
                         f"(at {where(exc, None)})") from None


def protocol_classes(module: ModuleType) -> dict[str, type]:
    """Class name -> class for every named Spec/Protocol subclass *defined* in ``module``."""
    from consensuslab.models.definition import Definition

    out = {}
    for attr, value in vars(module).items():
        if (isinstance(value, type) and issubclass(value, Definition)
                and value.__module__ == module.__name__ and value.name):
            out[attr] = value
    return out


def _pick(module: ModuleType, what: str, class_name: str | None, source_for) -> type:
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
    tag(cls, source_for(class_name))
    return cls


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


def model_for_trace(meta: dict, protocol: str | None = None):
    """The model a trace's ``#meta`` names: its protocol (``protocol`` overrides it: a registry name
    or a user's file), configured with the trace's parameters, variant and scenario."""
    params = meta.get("params") or {}
    if not isinstance(params, dict):
        raise UsageError("'#meta.params' must be an object")
    source = meta.get("protocol_source")
    if protocol is not None:
        cls = resolve(protocol)
    elif isinstance(source, str) and source:
        # a user's protocol: the class recorded at check time, never a registry name it may shadow
        cls = load_source(source)
    else:
        from consensuslab.protocols import protocol_class

        cls = protocol_class(meta["protocol"])
    if cls.name != meta["protocol"]:
        raise UsageError(f"the trace is of {meta['protocol']}, not {cls.name}")
    return cls.configure(params, meta.get("variant"), meta.get("scenario")).compile()


def selected_classes(names: list[str], modules: list[str]) -> list[type]:
    """The protocol classes to run: the named ones, or every registered and ``--module`` one."""
    from consensuslab.protocols import available, protocol_class

    if names:
        return [resolve(n, modules) for n in names]
    classes = [protocol_class(n) for n in available()]
    for mod in modules:
        classes.extend(module_protocols(mod).values())
    return classes
