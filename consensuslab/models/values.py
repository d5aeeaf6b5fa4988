"""Canonical ordering of protocol values.

Successor lists are sorted by action, and actions carry messages, node names,
tuples and sets.  Python's ``<`` is undefined across types and ``frozenset``
iteration order follows per-process string hashing, so sorting needs a key
that is total and the same in every process: ``canon``.
"""

from __future__ import annotations

from typing import Any

import attrs


def canon(value: Any) -> tuple:
    """A totally ordered, process-independent key for ``value``."""
    if value is None:
        return (0,)
    if isinstance(value, bool):
        return (1, int(value))
    if isinstance(value, int):
        return (2, value)
    if isinstance(value, str):
        return (3, value)
    if isinstance(value, bytes):
        return (4, value)
    if isinstance(value, (frozenset, set)):
        return (6, tuple(sorted(canon(v) for v in value)))
    if attrs.has(type(value)):
        return (7, type(value).__name__, tuple(canon(getattr(value, f.name)) for f in attrs.fields(type(value))))
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        return (8, type(value).__name__, tuple(canon(v) for v in value))
    if isinstance(value, tuple):
        return (5, tuple(canon(v) for v in value))
    if isinstance(value, dict):
        return (9, tuple(sorted((canon(k), canon(v)) for k, v in value.items())))
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
