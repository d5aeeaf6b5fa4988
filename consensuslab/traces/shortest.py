"""A bounded breadth-first search for a counterexample of the same violation: the shrinker's last resort.

Deleting and cutting keep a trace's own states, and a random walk may have
reached the bug another, longer way (simulate's 53-step Figure 8 where
breadth-first search finds 48), or through a fault that a fault-free path
also reaches.  This searches the model itself, breadth first from the
trace's initial state, for the *same* violation being the first thing that
goes wrong (checked in the checker's order, as ``shrink.Replayer`` does), no
deeper than ``depth`` and with at most ``faults`` fault steps.  The budget is
a number of distinct (state, faults used) nodes, not a time, so the result is
the same on every machine.  Seen-sets hold the states themselves.
"""

from __future__ import annotations

from collections import deque
from typing import Any

import attrs

from consensuslab.errors import ModelError


@attrs.define
class Found:
    """The outcome: the actions of a shortest counterexample within the bounds (or None), and
    whether the bounds were searched exhaustively (so none shorter exists)."""

    actions: list | None
    nodes: int
    exhausted: bool
    error: str = ""  # the model failed somewhere the trace never went: the search stopped there


def shortest(model, target: tuple[str, str], prop, initial, depth: int, faults: int, budget: int) -> Found:
    """Breadth-first, the fewest steps to the violation ``target`` = (property, kind).

    ``prop`` is the property object (None for a deadlock).  Steps are the model's successors in
    their sorted order, so ties go to the first in that order.  A model error met on the way
    (a missing handler where the trace never went) ends the search without an answer."""
    try:
        return _search(model, target[1], prop, initial, depth, faults, budget)
    except ModelError as exc:
        return Found(None, 0, False, str(exc))


def _search(model, kind: str, prop, initial, depth: int, faults: int, budget: int) -> Found:
    fault: dict = {}  # action -> is it a fault (a spec asks a regex: worth remembering)
    start = (initial, 0)
    parents: dict[tuple, tuple | None] = {start: None}
    queue = deque([(start, 0)])
    while queue:
        node, d = queue.popleft()
        state, used = node
        if d >= depth:
            continue
        for act, nxt in model.successors(state):
            bad = fault.get(act)
            if bad is None:
                bad = fault[act] = model.is_fault(act)
            more = used + bad
            if more > faults:
                continue
            child = (nxt, more)
            if child in parents:
                continue
            verdict = _judge(model, kind, prop, state, act, nxt)
            if verdict == "other":
                continue
            parents[child] = (node, act)
            if verdict == "target":
                return Found(_path(parents, child), len(parents), False)
            if len(parents) >= budget:
                return Found(None, len(parents), False)
            queue.append((child, d + 1))
    return Found(None, len(parents), True)


def _judge(model, kind: str, prop, before, act, after) -> str:
    """target | other (another property, or a deadlock, comes first: not the same bug) | ok."""
    if kind == "transition" and not model.step_holds(prop, before, act, after):
        return "target"
    if model.first_broken_step(before, act, after) is not None:
        return "other"
    if kind == "deadlock" or (kind == "invariant" and not model.holds(prop, after)):
        if model.check_deadlock and not model.successors(after) and not model.is_done(after):
            return "target" if kind == "deadlock" else "other"
        if kind == "invariant":
            return "target"
    if model.first_broken_invariant(after) is not None:
        return "other"
    return "ok"


def _path(parents: dict, node: Any) -> list:
    actions = []
    while parents[node] is not None:
        node, act = parents[node]
        actions.append(act)
    return actions[::-1]
