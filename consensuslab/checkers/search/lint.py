"""Checking a user's model before the checker runs it: the first states, with every framework rule checked.

The checker's hot loop checks none of these rules, so a user's mistake (a
mutable state, an action returning the wrong shape, a handler that raises or
calls ``sys.exit()``, a step that draws random numbers, a property that
returns a string) would surface as a traceback deep inside it, or not at all;
``lint`` turns each into one ``ModelError`` naming protocol, role and method.

Non-determinism: the successors of the first ``REPEAT_STATES`` states (and of
every ``REPEAT_EVERY``-th after) are computed twice and compared; a step that
reads a random number, a clock or a set's iteration order differs between
the two calls (and would give different state counts in different runs).
"""

from __future__ import annotations

import time
from collections import deque

from consensuslab.checkers.search.limits import LimitReached, watchdog
from consensuslab.errors import ModelError
from consensuslab.models.blame import crash_error, source_file

#: exploration budget of ``lint``: enough to reach the first step of every action
LINT_STATES = 2000
#: states whose successors are computed twice (then one in ``REPEAT_EVERY``)
REPEAT_STATES = 200
REPEAT_EVERY = 10


def lint(model, limit: int = LINT_STATES, time_limit: float | None = None) -> None:
    """Explore the first ``limit`` states with every framework rule checked, so that a user's
    mistake is one ``ModelError`` naming protocol, role and method instead of a traceback from
    deep inside the checker.  Within ``time_limit`` seconds: past it, linting stops quietly and
    the checker's own limits take over (a step stuck in an endless loop is ended by a watchdog)."""
    deadline = None if time_limit is None else time.monotonic() + time_limit
    try:
        with watchdog(time_limit):
            _explore(model, limit, deadline)
    except LimitReached:
        return


def _call(model, where, doing: str, fn, *args):
    """``fn(*args)`` with whatever escapes the user's code (``SystemExit`` too) as one ModelError."""
    try:
        return fn(*args)
    except (ModelError, KeyboardInterrupt):
        raise
    except BaseException as exc:  # noqa: BLE001 - sys.exit() in a handler is a mistake to name, not to obey
        raise crash_error(model, exc, where, doing) from None


def _explore(model, limit: int, deadline: float | None) -> None:
    where = source_file(model)
    initial = _call(model, where, "computing the initial states", model.initial_states)
    if not initial:
        raise ModelError(f"{model.protocol}: no initial state")
    again = _call(model, where, "computing the initial states", model.initial_states)
    if again != initial:
        raise ModelError(f"{model.protocol}: not deterministic: two calls gave different initial states; "
                         f"init must not draw random numbers, read clocks or depend on set order")
    kind = type(initial[0])
    for s in initial:
        _hashable(model, s, "init", kind)
        _properties(model, s)
    seen = set(initial)
    queue = deque(initial)
    expanded = 0
    while queue and len(seen) < limit:
        if deadline is not None and time.monotonic() >= deadline:
            return
        state = queue.popleft()
        out = _call(model, where, "computing successors", model.successors, state)
        if expanded < REPEAT_STATES or expanded % REPEAT_EVERY == 0:
            _deterministic(model, where, state, out)
        expanded += 1
        for act, nxt in out:
            _hashable(model, nxt, act.name, kind)
            for prop in model.step_properties:
                model.step_holds(prop, state, act, nxt)
            if nxt not in seen:
                _properties(model, nxt)
                seen.add(nxt)
                queue.append(nxt)


def _deterministic(model, where, state, out: list) -> None:
    """The same state's successors, computed again, must be the same (see the module docstring)."""
    again = _call(model, where, "computing successors", model.successors, state)
    if again == out:
        return
    mine = {a: s for a, s in out}
    theirs = {a: s for a, s in again}
    differing = sorted({str(a.name) for a in set(mine) ^ set(theirs)}
                       | {str(a.name) for a in set(mine) & set(theirs) if mine[a] != theirs[a]})
    named = f" (action {differing[0]})" if differing else ""
    raise ModelError(f"{model.protocol}: not deterministic{named}: the same state's successors differ between "
                     f"two calls; a step must not draw random numbers, read clocks or depend on set order")


def _hashable(model, state, method: str, kind: type) -> None:
    if type(state) is not kind:
        raise ModelError(f"{model.protocol}: action {method} returned a {type(state).__name__}, not a "
                         f"{kind.__name__} state (return the next state, or None where the guard is false)")
    try:
        hash(state)
    except TypeError:
        field = ""
        if hasattr(state, "_fields"):
            bad = [f for f, v in zip(state._fields, state) if not _can_hash(v)]
            field = f" (field {bad[0]!r} is a {type(getattr(state, bad[0])).__name__})" if bad else ""
        raise ModelError(f"{model.protocol}: action {method}: state {kind.__name__} is mutable or unhashable"
                         f"{field}; use tuple/frozenset fields") from None


def _properties(model, state) -> None:
    """Evaluate every state property once: ``Model.holds`` turns an exception, or an answer that is
    not a truth value, into a ModelError."""
    for prop in model.invariants + model.witnesses:
        model.holds(prop, state)


def _can_hash(value) -> bool:
    try:
        hash(value)
        return True
    except TypeError:
        return False
