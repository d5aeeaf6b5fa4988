"""What changed between two states, recursively, and the state as a tree.

Flattening values into leaves turns a set or an
in-flight message bag into noise (positions shift when one element arrives).
Here sets and bags are compared as collections (added / removed elements),
records and same-length tuples field by field, a tuple that only grew as
the elements appended (one that only shrank at an end as those removed, any
other as before and after), so each step shows what a person would call the change.
Positions of a tuple a node owns are named after the node (``log[s1]``): the
``index`` function of ``naming.Names`` says how.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any, Callable

import attrs

from consensuslab.models.values import canon, show

#: top-level variables compared as multisets: their order is a sort order, not a meaning
BAGS = frozenset({"network"})
_HEX = re.compile(r"\b[0-9a-f]{40,}\b")


def fmt(value: Any) -> str:
    """A short reading of a value; long hashes cut to 10 characters, the empty string quoted."""
    if value == "":
        return '""'
    return _HEX.sub(lambda m: m.group(0)[:10] + "...", show(value))


@attrs.frozen
class Change:
    """One difference: ``kind`` is changed | added | removed (a key) | elements (a collection)."""

    path: str
    kind: str
    old: Any = None
    new: Any = None
    added: tuple = ()
    removed: tuple = ()

    def text(self) -> str:
        if self.kind == "elements":
            parts = [f"+{fmt(x)}" for x in self.added] + [f"-{fmt(x)}" for x in self.removed]
            return f"{self.path}: {' '.join(parts)}"
        if self.kind == "added":
            return f"{self.path}: (new) {fmt(self.new)}"
        if self.kind == "removed":
            return f"{self.path}: (gone) was {fmt(self.old)}"
        return f"{self.path}: {fmt(self.old)} -> {fmt(self.new)}"


def fields(value: Any) -> dict[str, Any] | None:
    """The named parts of a record-like value, or None for anything else."""
    if isinstance(value, dict):
        return {show(k) if not isinstance(k, str) else k: v for k, v in value.items()}
    if isinstance(value, tuple) and hasattr(value, "_asdict"):
        return dict(value._asdict())
    if attrs.has(type(value)):
        return {f.name: getattr(value, f.name) for f in attrs.fields(type(value)) if f.init}
    return None


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


Index = Callable[[str, int], str]


def _plain_index(parent: str, i: int) -> str:
    return str(i)


def diff(old: Any, new: Any, path: str = "", bag: bool = False, index: Index | None = None,
         bags: frozenset = BAGS) -> list[Change]:
    """Every change from ``old`` to ``new`` under ``path``, most specific first.

    ``index(parent, i)`` names position ``i`` of a tuple; ``bags`` are top-level
    variables compared as multisets."""
    if old == new:
        return []
    if bag:
        return _elements(path, Counter(old), Counter(new))
    index = index or _plain_index
    fo, fn = fields(old), fields(new)
    if fo is not None and fn is not None and type(old) is type(new):
        out: list[Change] = []
        for key in list(fo) + [k for k in fn if k not in fo]:
            sub = _join(path, key)
            if key not in fn:
                out.append(Change(sub, "removed", old=fo[key]))
            elif key not in fo:
                out.append(Change(sub, "added", new=fn[key]))
            else:
                out.extend(diff(fo[key], fn[key], sub, not path and key in bags, index, bags))
        return out
    if isinstance(old, frozenset) and isinstance(new, frozenset):
        return _elements(path, Counter(old), Counter(new))
    if type(old) is tuple and type(new) is tuple:
        if len(old) == len(new):
            out = []
            for i, (a, b) in enumerate(zip(old, new)):
                out.extend(diff(a, b, f"{path}[{index(path, i)}]", False, index, bags))
            return out
        return _resized(path, old, new)
    return [Change(path, "changed", old=old, new=new)]


def _resized(path: str, old: tuple, new: tuple) -> list[Change]:
    """A sequence that grew or shrank: what was appended, or what left its end or its front; any other change
    shows the sequence before and after.  Why not the elements gained and lost: a sequence's order is its
    meaning (a log rewritten in another order read as three entries gained and one lost)."""
    if new[:len(old)] == old:
        return [Change(path, "elements", added=new[len(old):])]
    if old[:len(new)] == new:
        return [Change(path, "elements", removed=old[len(new):])]
    if old[len(old) - len(new):] == new:
        return [Change(path, "elements", removed=old[:len(old) - len(new)])]
    return [Change(path, "changed", old=old, new=new)]


def _elements(path: str, old: Counter, new: Counter) -> list[Change]:
    added = sorted((new - old).elements(), key=canon)
    removed = sorted((old - new).elements(), key=canon)
    return [Change(path, "elements", added=tuple(added), removed=tuple(removed))]


def named_state(model, state, names=None) -> dict[str, Any]:
    """The model's named variables, with (message, copies) bags spread into repeated messages."""
    encoded = model.encode_state(state)
    for var in names.counted() if names is not None else ():
        if var in encoded:
            encoded[var] = tuple(sorted((m for m, k in encoded[var] for _ in range(k)), key=canon))
    return encoded


def state_diff(model, before, after, names=None) -> list[Change]:
    """The changes one step makes, over the model's named variables (positions named by ``names``)."""
    index = names.index if names is not None else None
    bags = BAGS | (names.counted() if names is not None else frozenset())
    return diff(named_state(model, before, names), named_state(model, after, names), index=index, bags=bags)


_LAST = re.compile(r"(\.[^.\[]+|\[[^\]]+\])$")


def changed_paths(changes: list[Change]) -> set[str]:
    """Every path a change touches and all its ancestors, for highlighting a tree."""
    out = set()
    for c in changes:
        p = c.path
        while p:
            out.add(p)
            m = _LAST.search(p)
            p = p[:m.start()] if m else ""
    return out


def tree(value: Any, path: str = "", marked: frozenset | set = frozenset(), name: str = "",
         index: Index | None = None) -> dict:
    """``value`` as nested ``{name, path, value | children, changed}`` nodes (for the HTML view).

    A tuple unfolds when it holds records or its positions are nodes (``index`` names them)."""
    node: dict[str, Any] = {"name": name, "path": path, "changed": path in marked}
    parts = fields(value)
    index = index or _plain_index
    if parts is not None:
        node["kind"] = type(value).__name__ if not isinstance(value, dict) else ""
        node["children"] = [tree(v, _join(path, k), marked, k, index) for k, v in parts.items()]
    elif type(value) is tuple and path not in BAGS and value and (_holds_records(value) or index(path, 0) != "0"):
        names = [index(path, i) for i in range(len(value))]
        node["named"] = names[0] != "0"
        node["children"] = [tree(v, f"{path}[{n}]", marked, f"[{n}]", index) for n, v in zip(names, value)]
    else:
        node["value"] = fmt(value)
    return node


def state_tree(model, state, names=None, marked: frozenset | set = frozenset()) -> dict:
    """The state as a tree, node-owned positions named."""
    return tree(named_state(model, state, names), "", marked, "", names.index if names is not None else None)


def _holds_records(value: tuple) -> bool:
    """Whether a tuple is worth unfolding: it holds records, directly or in nested tuples."""
    return any(fields(v) is not None or (type(v) is tuple and _holds_records(v)) for v in value)
