"""Differential checking: what one variant of a protocol can reach that another cannot.

Both models are explored breadth-first and every state is projected on a
*view* the protocol declares (decided values, who is leader ...).  The
answer is the projected values reachable in one variant and not in the
other, each with a witness: a shortest path (BFS) to a state with that value.
Comparing projections rather than raw states is what makes two variants
comparable at all: a changed guard usually changes every raw state.

Views a protocol declares (``views_of``): a ``diff_view`` method (the view
named ``default``), methods ``view_<name>``, and a ``views`` dict of
name -> function of the state view (or a method name).  ``state`` (the whole
state) always exists.  Reachable projections, not projected traces, are
compared: enough for "a value is decided that never was", and linear in the
state space.
"""

from __future__ import annotations

import inspect
import time
from array import array
from typing import Any, Callable

import attrs

from consensuslab.checkers.search.ending import CHECK_EVERY, Budget
from consensuslab.checkers.search.limits import STOPS, interrupted_by
from consensuslab.errors import ModelError, UsageError
from consensuslab.models.blame import call_hook
from consensuslab.traces.result import Trace, rebuild_trace

STATE_VIEW = "state"


def views_of(definition) -> dict[str, Callable]:
    """View name -> function of the protocol's state view, as the protocol declares them."""
    out: dict[str, Callable] = {}
    if callable(getattr(definition, "diff_view", None)):
        out["default"] = definition.diff_view
    for attr in dir(type(definition)):
        if attr.startswith("view_") and callable(getattr(definition, attr)):
            out[attr[len("view_"):]] = getattr(definition, attr)
    for name, fn in (getattr(definition, "views", None) or {}).items():
        if isinstance(fn, str):
            fn = getattr(definition, fn)
        elif len(inspect.signature(fn).parameters) == 2:  # a plain function written as (self, view)
            fn = fn.__get__(definition)
        out[name] = fn
    return out


def projection(model, view: str | None) -> tuple[str, Callable[[Any], Any]]:
    """(view name, raw state -> hashable value); the declared default when ``view`` is None."""
    declared = views_of(model.definition)
    name = view or ("default" if "default" in declared else STATE_VIEW)
    if name == STATE_VIEW:
        return name, lambda raw: raw
    if name not in declared:
        valid = ", ".join(sorted(declared) + [STATE_VIEW])
        raise UsageError(f"{model.protocol} declares no view {name!r}; valid: {valid}")
    fn, to_view = declared[name], model.view
    hook = "diff_view" if name == "default" else f"view {name}"

    def project(raw):
        return call_hook(model.protocol, hook, "a hashable value of the state (tuples, frozensets, ...)", fn,
                         to_view(raw))
    return name, project


@attrs.define
class Exploration:
    """One variant's reachable projections, with enough bookkeeping to rebuild witnesses."""

    model: Any
    first: dict = attrs.field(factory=dict)  # projected value -> index of the first state showing it
    parents: array = attrs.field(factory=lambda: array("q"))
    via: list = attrs.field(factory=list)
    roots: dict = attrs.field(factory=dict)
    states: int = 0
    stopped_by: str | None = None

    def trace_to(self, idx: int) -> Trace:
        return rebuild_trace(self.model, self.roots, self.parents, self.via, idx)


def explore(model, project: Callable, max_states: int | None = None, max_depth: int | None = None,
            time_limit: float | None = None) -> Exploration:
    """Breadth-first over every reachable state (properties are not checked: variants may be broken).

    Stops at ``time_limit`` seconds, at the process's memory cap, or on Ctrl-C, SIGTERM or the
    watchdog, with what it reached (``stopped_by`` says which).
    """
    ex = Exploration(model)
    try:
        _explore(ex, model, project, max_states, max_depth, time_limit)
    except STOPS as exc:
        ex.stopped_by = interrupted_by(exc)
    ex.states = len(ex.via)
    return ex


def _explore(ex: Exploration, model, project: Callable, max_states, max_depth, time_limit) -> None:
    seen: dict = {}
    budget = Budget(time_limit)

    def add(state, parent: int, act) -> bool:
        if state in seen:
            return False
        idx = seen[state] = len(ex.via)
        ex.parents.append(parent)
        ex.via.append(act)
        if parent < 0:
            ex.roots[idx] = state
        value = project(state)
        try:
            if value not in ex.first:
                ex.first[value] = idx
        except TypeError:
            raise ModelError(f"{model.protocol}: the view returned an unhashable {type(value).__name__}; "
                             f"return tuples/frozensets") from None
        return True

    level = [s for s in model.initial_states() if add(s, -1, None)]
    depth = 0
    while level:
        if max_depth is not None and depth >= max_depth:
            ex.stopped_by = "max-depth" if any(model.successors(s) for s in level) else None
            break
        nxt = []
        for count, state in enumerate(level):
            if time_limit is not None and time.monotonic() - budget.started >= time_limit:
                ex.stopped_by = "time-limit"
            elif not count % CHECK_EVERY:
                ex.stopped_by = budget.spent(len(seen), depth, len(level))
            if ex.stopped_by:
                break
            for act, succ in model.successors(state):
                if add(succ, seen[state], act):
                    nxt.append(succ)
                    if max_states is not None and len(ex.via) >= max_states:
                        ex.stopped_by = "max-states"
                        break
            if ex.stopped_by:
                break
        if ex.stopped_by:
            break
        level, depth = nxt, depth + 1


@attrs.define
class Difference:
    value: Any
    trace: Trace | None  # None: its witness was not rebuilt within the time limit


@attrs.define
class DiffResult:
    view: str
    a: Exploration
    b: Exploration
    only_a: list[Difference]
    only_b: list[Difference]

    @property
    def complete(self) -> bool:
        return self.a.stopped_by is None and self.b.stopped_by is None

    @property
    def status(self) -> str:
        if self.only_a or self.only_b:
            return "different" if self.complete else "incomplete"
        return "identical" if self.complete else "incomplete"


def diff(model_a, model_b, view: str | None = None, max_states: int | None = None,
         max_depth: int | None = None, time_limit: float | None = None) -> DiffResult:
    """The projected values reachable in exactly one of the two models, each with a shortest witness.

    ``time_limit`` bounds the whole comparison: each exploration gets half of it (the
    second what the first left), and witnesses are rebuilt while time remains.
    """
    started = time.monotonic()

    def left(share: float = 1.0) -> float | None:
        return None if time_limit is None else max(share * (time_limit - (time.monotonic() - started)), 0.001)

    def in_time() -> bool:
        return time_limit is None or time.monotonic() - started < time_limit

    name, project_a = projection(model_a, view)
    _, project_b = projection(model_b, name)
    a = explore(model_a, project_a, max_states, max_depth, left(0.5))
    b = explore(model_b, project_b, max_states, max_depth, left())
    from consensuslab.models.values import canon

    def only(x: Exploration, y: Exploration) -> list[Difference]:
        values = sorted((v for v in x.first if v not in y.first), key=lambda v: (x.first[v], _key(canon, v)))
        return [Difference(v, x.trace_to(x.first[v]) if in_time() else None) for v in values]

    return DiffResult(name, a, b, only(a, b), only(b, a))


def _key(canon, value) -> tuple:
    try:
        return canon(value)
    except TypeError:
        return (repr(value),)
