"""Reading a trace as a person: per step, the action and only what changed."""

from __future__ import annotations

from typing import Any, Iterator

import attrs

from consensuslab.models.action import describe_action
from consensuslab.models.values import show


def leaves(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """Flatten records, maps and attrs values into (dotted path, leaf) pairs; sets stay whole."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield from leaves(v, f"{path}.{k}" if path else str(k))
    elif isinstance(value, tuple) and hasattr(value, "_asdict"):
        yield from leaves(value._asdict(), path)
    elif attrs.has(type(value)):
        for f in attrs.fields(type(value)):
            if f.init:
                yield from leaves(getattr(value, f.name), f"{path}.{f.name}" if path else f.name)
    elif isinstance(value, tuple) and any(_composite(v) for v in value):
        for i, v in enumerate(value):
            yield from leaves(v, f"{path}[{i}]")
    else:
        yield path, value


def _composite(v: Any) -> bool:
    return isinstance(v, (tuple, dict)) or attrs.has(type(v))


def changes(model, before, after) -> list[tuple[str, Any, Any]]:
    """(path, old, new) for every value that differs, recursing into records, maps and
    equal-length tuples so that a change is reported where it happened."""
    out: list[tuple[str, Any, Any]] = []
    _diff("", model.encode_state(before), model.encode_state(after), out)
    return out


def _fields(value: Any) -> dict | None:
    if isinstance(value, dict):
        return value
    if isinstance(value, tuple) and hasattr(value, "_asdict"):
        return value._asdict()
    if attrs.has(type(value)):
        return {f.name: getattr(value, f.name) for f in attrs.fields(type(value)) if f.init}
    return None


def _diff(path: str, a: Any, b: Any, out: list) -> None:
    if a == b:
        return
    fa, fb = _fields(a), _fields(b)
    if fa is not None and fb is not None and type(a) is type(b):
        for key in list(fa) + [k for k in fb if k not in fa]:
            _diff(f"{path}.{key}" if path else str(key), fa.get(key, _ABSENT), fb.get(key, _ABSENT), out)
    elif isinstance(a, tuple) and isinstance(b, tuple) and fa is None and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b)):
            _diff(f"{path}[{i}]", x, y, out)
    else:
        out.append((path, a, b))


class _Absent:
    def __repr__(self):
        return "-"


_ABSENT = _Absent()


def _fmt(value: Any) -> str:
    if value is _ABSENT:
        return "-"
    text = show(value)
    return _HEX.sub(lambda m: m.group(0)[:10] + "...", text)


_HEX = __import__("re").compile(r"\b[0-9a-f]{40,}\b")


def _change(old: Any, new: Any) -> str:
    """``old -> new``; for sets only what was added and removed, which is what a reader looks for."""
    if isinstance(old, frozenset) and isinstance(new, frozenset):
        parts = []
        if new - old:
            parts.append("+" + show(new - old))
        if old - new:
            parts.append("-" + show(old - new))
        return _HEX.sub(lambda m: m.group(0)[:10] + "...", " ".join(parts))
    if isinstance(old, tuple) and isinstance(new, tuple) and old and len(new) > len(old) \
            and new[:len(old)] == old and not hasattr(old, "_fields"):
        return "appended " + _fmt(new[len(old):])
    return f"{_fmt(old)} -> {_fmt(new)}"


def render_text(model, trace, violation=None) -> str:
    """A numbered list of steps: the action, then each changed field as old -> new."""
    lines = []
    initial = dict(leaves(model.encode_state(trace.initial)))
    lines.append("0  initial state")
    for key, value in initial.items():
        lines.append(f"     {key} = {_fmt(value)}")
    before = trace.initial
    for i, (act, after) in enumerate(trace.steps, start=1):
        marker = ""
        if trace.loop is not None and i - 1 == trace.loop:
            marker = "  <- loop starts here"
        lines.append(f"{i:<2} {describe_action(act)}{marker}")
        for key, old, new in changes(model, before, after):
            lines.append(f"     {key}: {_change(old, new)}")
        before = after
    if violation is not None:
        what = {"invariant": "invariant violated in the last state",
                "transition": "transition property violated by the last step",
                "deadlock": "deadlock: no action is enabled in the last state",
                "liveness": "liveness violated: the behaviour loops without reaching the goal"}.get(
            violation.kind, violation.kind)
        lines.append(f"=> {violation.property}: {what}")
    return "\n".join(lines)
