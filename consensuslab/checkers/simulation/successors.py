"""A model's successors grouped for random exploration, cached per state.

Random runs revisit states constantly, so each state's successors (grouped by
action kind and name, sorted) and its property verdicts are computed about once.
"""

from __future__ import annotations

import re
from typing import Any

from consensuslab.models.action import KINDS
from consensuslab.models.model import Model

CACHE_LIMIT = 200_000  # successor lists kept across examples before the cache is dropped


def declared_names(model: Model) -> list[str]:
    """Every handler or spec action the model could fire, for ``never_fired``.

    Uses ``model.action_names()`` when a model offers it; otherwise the spec
    action table or the actor handler tables (framework structure, no protocol code).
    """
    if hasattr(model, "action_names"):
        return sorted(model.action_names())
    if hasattr(model, "_table"):
        return sorted({row[0].name for row in model._table})
    names: set[str] = set()
    for table in ("handlers", "timer_handlers"):
        names.update(name for name, _ in getattr(model, table, {}).values())
    for steps in getattr(model, "locals_by_role", {}).values():
        names.update(row[0] for row in steps)
    return sorted(names)


def model_kinds(model: Model) -> tuple[str, ...]:
    """Action kinds a model can produce: a spec only ``step``; otherwise every kind."""
    if hasattr(model, "action_kinds"):
        return tuple(k for k in KINDS if k in set(model.action_kinds()))
    return ("step",) if hasattr(model, "_table") else KINDS


def ident(name: str) -> str:
    return re.sub(r"\W", "_", name)


UNCHECKED = object()  # a verdict not computed yet


class Edge:
    """One successor: the action, the state it leads to, and
    ``broken``, the first step property the transition breaks (None), computed once."""

    __slots__ = ("action", "state", "broken")

    def __init__(self, action, state):
        self.action, self.state = action, state
        self.broken: Any = UNCHECKED


class Node:
    """A state's enabled actions, ``{kind: {name: [Edge, ...]}}`` with kinds and names sorted,
    and ``broken``, the first invariant the state breaks (None), computed once."""

    __slots__ = ("enabled", "broken")

    def __init__(self, enabled: dict[str, dict[str, list[Edge]]]):
        self.enabled = enabled
        self.broken: Any = UNCHECKED


class Successors:
    """``model.successors`` as ``Node``s, cached per state: random runs revisit states
    constantly, so each state's successors and verdicts are computed about once.

    The cache is dropped whole when it holds ``limit`` states, which depends only
    on how many states were seen, so runs stay deterministic.
    """

    def __init__(self, model: Model, limit: int = CACHE_LIMIT):
        self.successors = model.successors
        self.limit = limit
        self.cache: dict[Any, Node] = {}

    def __call__(self, state) -> Node:
        node = self.cache.get(state)
        if node is None:
            raw: dict[str, dict[str, list]] = {}
            for act, nxt in self.successors(state):
                raw.setdefault(act.kind, {}).setdefault(act.name, []).append(Edge(act, nxt))
            node = Node({k: {n: raw[k][n] for n in sorted(raw[k])} for k in sorted(raw, key=KINDS.index)})
            if len(self.cache) >= self.limit:
                self.cache.clear()
            self.cache[state] = node
        return node
