"""Loading a user's own protocol from a file (``path.py[:Class]``) or a module (``pkg.mod[:Class]``).

Loading executes the user's code, as ``python path.py`` would; nothing is
unpickled.  Every class loaded here is tagged with where it came from (the
file's absolute path and class, and the file's SHA-256), so that
``Model.meta()`` records them in traces.  Mistakes in the user's code become
one-line ``UsageError`` or ``ModelError`` messages (exit 2) naming the file,
protocol, role and method, because a traceback into the checker's internals
tells a protocol author nothing.

A trace is data that people pass around; reading one never runs code the
user did not name.  ``model_for_trace`` builds a registry protocol by name,
and a user's protocol only from the ``--protocol`` the user gives: a trace
naming a file or module is refused, in one line saying what to pass.
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


def _pick(module: ModuleType, what: str, class_name: str | None, source_for, digest: str | None = None) -> type:
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
    tag(cls, source_for(class_name), digest)
    return cls


def load_file(target: str) -> type:
    """The protocol class of ``path.py`` or ``path.py:ClassName``."""
    path, class_name = split_target(str(target))
    module = import_file(path)
    full = os.path.abspath(path)
    return _pick(module, path, class_name, lambda c: f"{full}:{c}", file_digest(full))


def file_digest(path: str) -> str | None:
    """SHA-256 of a protocol file, recorded in traces so that a changed file is noticed on replay."""
    try:
        with open(path, "rb") as fh:
            return hashlib.sha256(fh.read()).hexdigest()
    except OSError:
        return None


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
    """The model a trace's ``#meta`` names, configured with the trace's parameters, variant and scenario.

    A registry protocol is found by name.  A user's protocol is loaded only from
    ``protocol`` (the command line's ``--protocol``: a name, ``path.py[:Class]`` or
    ``pkg.mod:Class``); a trace that names a source the user did not pass is
    refused, since loading it would run code the trace file chose.
    """
    params = meta.get("params") or {}
    if not isinstance(params, dict):
        raise UsageError("'#meta.params' must be an object")
    source = meta.get("protocol_source")
    if source is not None and not (isinstance(source, str) and source):
        raise UsageError("'#meta.protocol_source' must be a non-empty string (path.py:Class or module:Class)")
    if protocol is not None:
        cls = _trace_protocol(protocol)
    elif source is not None:
        raise UsageError(refusal(source))
    else:
        from consensuslab.protocols import protocol_class

        cls = protocol_class(meta["protocol"])
    if cls.name != meta["protocol"]:
        raise UsageError(f"the trace is of {meta['protocol']}, not {cls.name}")
    return cls.configure(params, meta.get("variant"), meta.get("scenario")).compile()


def _trace_protocol(protocol: str) -> type:
    """``--protocol``: a path, ``pkg.mod:Class``, or a registry name."""
    if not looks_like_path(protocol) and ":" in protocol:
        return load_module_target(protocol)
    return resolve(protocol)


def refusal(source: str) -> str:
    """The one line that refuses to run the code a trace names, and says how to choose to."""
    where, _, cls = source.rpartition(":")
    if not where:
        where, cls = source, "?"
    if looks_like_path(where):
        return (f"this trace is of a protocol defined in {where} (class {cls}); replaying it runs that file: "
                f"pass --protocol {where}:{cls}")
    return (f"this trace is of a protocol defined in module {where} (class {cls}); replaying it imports that "
            f"module: pass --protocol {where}:{cls}")


def source_drift(meta: dict, model) -> str | None:
    """A warning when the protocol file replayed is not the one the trace was written from (by SHA-256)."""
    recorded, mine = meta.get("protocol_sha256"), model.meta().get("protocol_sha256")
    if not recorded or not mine or recorded == mine:
        return None
    return (f"warning: {model.meta().get('protocol_source', model.protocol)} has changed since the trace was "
            f"written (SHA-256 differs); a divergence may come from the change, not from the checker")


def selected_classes(names: list[str], modules: list[str]) -> list[type]:
    """The protocol classes to run: the named ones, or every registered and ``--module`` one."""
    from consensuslab.protocols import available, protocol_class

    if names:
        return [resolve(n, modules) for n in names]
    classes = [protocol_class(n) for n in available()]
    for mod in modules:
        classes.extend(module_protocols(mod).values())
    return classes
