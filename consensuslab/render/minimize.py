"""Shrinking a counterexample: first the fewest faults, then the fewest steps.

Breadth-first search already gives the fewest *steps*, but not the fewest
faults, and a depth-first or Hypothesis trace gives neither.  People ask
"what is the least that has to go wrong?", so faults are minimised first.

Candidates are action sequences re-executed *by value* from the trace's
initial state: an action that is no longer enabled is skipped (removing a
send disables its delivery), and the run stops at the first state that
violates the property, so every candidate that is kept is a real behaviour.
Both phases are delta debugging (Zeller's ddmin) followed by a one-by-one
pass, so the result is 1-minimal: removing any single fault (phase 1) or
step (phase 2) loses the violation.  Liveness lassos are not shrunk.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Callable

import attrs

from consensuslab.checkers.result import Trace
from consensuslab.errors import ReplayError
from consensuslab.render.story import is_fault


@attrs.define
class Shrunk:
    trace: Trace
    before_steps: int
    before_faults: Counter
    after_faults: Counter
    tests: int
    summary: str


def run(model, initial, actions, violation) -> Trace | None:
    """Execute ``actions`` by value, skipping disabled ones; the prefix that violates, or None."""
    kind = violation.kind
    prop = model.property_named(violation.property) if kind in ("invariant", "transition") else None
    trace = Trace(initial)
    state = initial
    if kind == "invariant" and not model.holds(prop, state):
        return trace
    for act in actions:
        try:
            nxt = model.apply(state, act)
        except ReplayError:
            continue
        trace.steps.append((act, nxt))
        if kind == "invariant" and not model.holds(prop, nxt):
            return trace
        if kind == "transition" and not model.step_holds(prop, state, act, nxt):
            return trace
        state = nxt
    if kind == "deadlock" and not model.successors(state) and not model.is_done(state):
        return trace
    return None


def ddmin(items: list, keeps: Callable[[list], list | None]) -> list:
    """A 1-minimal sublist of ``items`` for which ``keeps`` still answers (it returns the
    sublist it really used, which may be shorter: skipped and trailing actions drop out)."""
    n = 2
    while len(items) >= 2:
        chunk = -(-len(items) // n)
        parts = [items[i:i + chunk] for i in range(0, len(items), chunk)]
        for i in range(len(parts)):
            rest = [x for j, p in enumerate(parts) if j != i for x in p]
            got = keeps(rest)
            if got is not None:
                items, n = got, max(n - 1, 2)
                break
        else:
            if n >= len(items):
                break
            n = min(2 * n, len(items))
    i = 0
    while i < len(items):
        got = keeps(items[:i] + items[i + 1:])
        if got is not None:
            items = got
        else:
            i += 1
    return items


def fault_counts(model, actions) -> Counter:
    return Counter(fault_kind(model, a) for a in actions if is_fault(model, a))


def fault_kind(model, act) -> str:
    return act.kind if act.kind != "step" else act.name


def minimize(model, trace, violation) -> Shrunk:
    if violation.kind == "liveness":
        raise ReplayError("liveness counterexamples (lassos) are not minimised")
    tests = 0
    initial = trace.initial

    def check(actions):
        nonlocal tests
        tests += 1
        got = run(model, initial, actions, violation)
        return None if got is None else got.actions

    actions = list(trace.actions)
    if check(actions) is None:
        raise ReplayError("the trace does not violate its property when re-executed")
    # phase 1: fewest faults; normal steps stay in place, so faults are judged on their own
    idx = [i for i, a in enumerate(actions) if is_fault(model, a)]
    if idx:
        def keeps_faults(chosen: list) -> list | None:
            wanted = set(chosen)
            got = check([a for i, a in enumerate(actions) if not is_fault(model, a) or i in wanted])
            if got is None:
                return None
            return [i for i in chosen if actions[i] in got]
        kept = set(ddmin(idx, keeps_faults))
        actions = check([a for i, a in enumerate(actions) if not is_fault(model, a) or i in kept])
    # phase 2: fewest steps, never more faults
    actions = ddmin(actions, check)
    final = run(model, initial, actions, violation)
    before, after = fault_counts(model, trace.actions), fault_counts(model, final.actions)
    return Shrunk(final, len(trace), before, after, tests, describe_needs(model, final))


def describe_needs(model, trace) -> str:
    """``needs 1 equivocating replica and 2 dropped messages``, or ``needs no fault``."""
    parts = []
    forged: dict[str, dict] = defaultdict(dict)
    counts = Counter()
    for act in trace.actions:
        if not is_fault(model, act):
            continue
        if act.kind == "forge":
            msg = act.args[1]
            forged[act.node].setdefault(type(msg).__name__, set()).add(msg)
        else:
            counts[fault_kind(model, act)] += 1
    equivocating = sum(1 for kinds in forged.values() if any(len(m) > 1 for m in kinds.values()))
    if equivocating:
        parts.append(_n(equivocating, "equivocating node"))
    if len(forged) - equivocating:
        parts.append(_n(len(forged) - equivocating, "Byzantine node"))
    nforged = sum(len(m) for kinds in forged.values() for m in kinds.values())
    if nforged:
        parts.append(_n(nforged, "forged message"))
    words = {"crash": "crashed node", "drop": "dropped message", "duplicate": "duplicated message"}
    for kind, n in sorted(counts.items()):
        parts.append(_n(n, words.get(kind, f"{kind} step")))
    if not parts:
        return f"needs no fault: {len(trace)} correct steps violate it"
    body = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    return f"needs {body} ({len(trace)} steps)"


def _n(n: int, what: str) -> str:
    return f"{n} {what}{'' if n == 1 else 's'}"
