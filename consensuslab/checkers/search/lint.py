"""Checking a user's model before the checker runs it: the first states, with every framework rule checked.

The checker's hot loop checks none of these rules, so a user's mistake (a
mutable state, an action returning the wrong shape, a handler that raises)
would surface as a traceback deep inside it; ``lint`` turns each into one
``ModelError`` naming protocol, role and method.
"""

from __future__ import annotations

from collections import deque

from consensuslab.errors import ModelError
from consensuslab.models.blame import crash_error, source_file

#: exploration budget of ``lint``: enough to reach the first step of every action
LINT_STATES = 2000


def lint(model, limit: int = LINT_STATES) -> None:
    """Explore the first ``limit`` states with every framework rule checked, so that a user's
    mistake (a mutable state, an action returning the wrong shape, a handler that raises)
    is one ``ModelError`` naming protocol, role and method instead of a traceback from
    deep inside the checker, whose hot loop does not check these things."""
    where = source_file(model)
    try:
        initial = model.initial_states()
    except ModelError:
        raise
    except Exception as exc:
        raise crash_error(model, exc, where, "computing the initial states") from None
    if not initial:
        raise ModelError(f"{model.protocol}: no initial state")
    kind = type(initial[0])
    for s in initial:
        _hashable(model, s, "init", kind)
        _properties(model, s)
    seen = set(initial)
    queue = deque(initial)
    while queue and len(seen) < limit:
        state = queue.popleft()
        try:
            out = model.successors(state)
        except ModelError:
            raise
        except Exception as exc:
            raise crash_error(model, exc, where, "computing successors") from None
        for act, nxt in out:
            _hashable(model, nxt, act.name, kind)
            for prop in model.step_properties:
                model.step_holds(prop, state, act, nxt)
            if nxt not in seen:
                _properties(model, nxt)
                seen.add(nxt)
                queue.append(nxt)


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
    """Evaluate every state property once: ``Model.holds`` turns an exception into a ModelError."""
    for prop in model.invariants + model.witnesses:
        model.holds(prop, state)


def _can_hash(value) -> bool:
    try:
        hash(value)
        return True
    except TypeError:
        return False
