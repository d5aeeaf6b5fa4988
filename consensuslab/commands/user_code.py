"""Loading a user's class other than a protocol (a log mapping, an implementation adapter), as protocols load.

``path.py[:Class]`` executes the file (``loader.import_file``), ``pkg.mod[:Class]``
imports the module; without ``:Class`` the module must define exactly one
subclass of the base asked for.  A short built-in name (``pysyncobj``) stands
for a class shipped with the package.  Mistakes are one-line errors.
"""

from __future__ import annotations

from consensuslab.errors import ConsensuslabError, ModelError, UsageError

#: built-in names: the classes the package ships, by the name a command line gives them
BUILT_IN = {
    "mapping": {"pysyncobj": "consensuslab.realcode.pysyncobj.mapping:PySyncObjMapping"},
    "adapter": {},
}


def load_class(target: str, base: type, what: str) -> type:
    """The subclass of ``base`` that ``target`` names; ``what`` ("mapping") names it in errors."""
    from consensuslab.loader import import_file, import_module, looks_like_path, split_target

    target = BUILT_IN.get(what, {}).get(target, target)
    if looks_like_path(target):
        path, class_name = split_target(target)
        module, label = import_file(path), path
    else:
        name, _, class_name = target.partition(":")
        module, label = import_module(name), name
        class_name = class_name or None
    found = {k: v for k, v in vars(module).items()
             if isinstance(v, type) and issubclass(v, base) and v is not base and v.__module__ == module.__name__}
    if class_name is not None:
        cls = getattr(module, class_name, None)
        if not (isinstance(cls, type) and issubclass(cls, base)):
            valid = ", ".join(sorted(found)) or "none"
            raise UsageError(f"{label} has no {what} class {class_name!r}; {what} classes: {valid}")
        return cls
    if len(found) == 1:
        return next(iter(found.values()))
    if not found:
        raise UsageError(f"{label} defines no {what} class (a subclass of {base.__module__}.{base.__name__})")
    raise UsageError(f"{label} defines {len(found)} {what} classes ({', '.join(sorted(found))}); "
                     f"pick one with {label}:ClassName")


def instantiate(cls: type, what: str, *args):
    """``cls(*args)``, with a user's exception as one line."""
    try:
        return cls(*args)
    except ConsensuslabError:
        raise
    except Exception as exc:
        raise ModelError(f"{what} {cls.__name__}: creating it raised {type(exc).__name__}: {exc}") from None


def load_adapter(target: str):
    """The conformance adapter ``path.py[:Class]`` or ``module[:Class]`` names, created."""
    from consensuslab.checkers.conformance.adapter import Adapter

    return instantiate(load_class(target, Adapter, "adapter"), "adapter")


def model_for(adapter, protocol: str | None = None, params: dict | None = None,
              variant: str | None = None, scenario: str | None = None):
    """The model an adapter is checked against: its own ``protocol``/``params`` unless given."""
    from consensuslab.loader import resolve

    name = protocol or adapter.protocol
    if not name:
        raise UsageError("say which model the implementation is checked against (--protocol, or the "
                         "adapter's `protocol`)")
    merged = {**dict(adapter.params or {}), **dict(params or {})}
    return resolve(name).configure(merged, variant if variant is not None else adapter.variant,
                                   scenario if scenario is not None else adapter.scenario).compile()
