"""Canonical ordering of protocol values.

Successor lists are sorted by action, and actions carry messages, node names,
tuples and sets.  Python's ``<`` is undefined across types and ``frozenset``
iteration order follows per-process string hashing, so sorting needs a key
that is total and the same in every process: ``canon``.
"""

from __future__ import annotations

import functools
from typing import Any, Callable

import attrs


def canon(value: Any) -> tuple:
    """A totally ordered, process-independent key for ``value``.

    Dispatched on the value's type, decided once per type (``_key_of``): sorting successors and numbering
    branches call this for every element of every value they compare (Sailfish's interpreted search spent
    as long numbering its branches as running its actions, most of it here, asking each value in turn
    whether it was None, a bool, an int, ... and an attrs class)."""
    kind = type(value)
    if kind is str:
        return (3, value)
    if kind is int:
        return (2, value)
    if kind is tuple:
        return (5, tuple([canon(v) for v in value]))
    return _key_of(kind)(value)


@functools.lru_cache(maxsize=None)
def _key_of(kind: type) -> Callable[[Any], tuple]:
    """The key function for values of type ``kind``: the first of these rules that fits, in this order."""
    if kind is type(None):
        return lambda value: (0,)
    if issubclass(kind, bool):
        return lambda value: (1, int(value))
    if issubclass(kind, int):
        return lambda value: (2, value)
    if issubclass(kind, str):
        return lambda value: (3, value)
    if issubclass(kind, bytes):
        return lambda value: (4, value)
    if issubclass(kind, (frozenset, set)):
        return lambda value: (6, tuple(sorted([canon(v) for v in value])))
    if attrs.has(kind):
        name, names = kind.__name__, tuple(f.name for f in attrs.fields(kind))
        return lambda value: (7, name, tuple([canon(getattr(value, n)) for n in names]))
    if issubclass(kind, tuple) and hasattr(kind, "_fields"):
        name = kind.__name__
        return lambda value: (8, name, tuple([canon(v) for v in value]))
    if issubclass(kind, tuple):
        return lambda value: (5, tuple([canon(v) for v in value]))
    if issubclass(kind, dict):
        return lambda value: (9, tuple(sorted((canon(k), canon(v)) for k, v in value.items())))
    return _uncomparable


def _uncomparable(value: Any) -> tuple:
    raise TypeError(f"value of type {type(value).__name__} cannot be part of a protocol state or action")


def show(value: Any) -> str:
    """A short, deterministic, human reading of a value (sets sorted)."""
    if value is None:
        return "None"
    if isinstance(value, str):
        return value
    if isinstance(value, bytes):
        return value.hex()[:12]
    if isinstance(value, (frozenset, set)):
        return "{" + ", ".join(show(v) for v in sorted(value, key=canon)) + "}"
    if attrs.has(type(value)):
        fields = attrs.fields(type(value))
        inner = ", ".join(f"{f.name}={show(getattr(value, f.name))}" for f in fields)
        return f"{type(value).__name__}({inner})"
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        inner = ", ".join(f"{k}={show(v)}" for k, v in zip(value._fields, value))
        return f"{type(value).__name__}({inner})"
    if isinstance(value, tuple):
        return "<" + ", ".join(show(v) for v in value) + ">"
    if isinstance(value, dict):
        return "[" + ", ".join(f"{show(k)} |-> {show(v)}" for k, v in sorted(value.items(), key=lambda kv: canon(kv[0]))) + "]"
    return repr(value)
