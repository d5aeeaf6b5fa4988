"""The one shrinker: a counterexample with the fewest faults, then the fewest steps.

``simulate`` finds long behaviours and ``trace minimize`` reads saved ones;
both end here.  People ask "what is the least that has to go wrong?", so
faults are removed first (a breadth-first trace is already shortest in
steps, but not in faults), then steps:

1. faults: delta debugging (Zeller's ddmin) over the fault steps alone, the
   normal steps kept in place, so a fault is judged on its own; then, if
   faults remain, a bounded breadth-first search of the model with every
   fault action left out (``shortest.py``) for a fault-free counterexample of
   the same bug, up to twice the trace's length;
2. steps: cut loops and one-step detours (where the behaviour comes back to a
   state it was in, or reaches later a state one action away from an earlier
   one), delete runs of actions (half the trace, a quarter, ..., then single
   actions), and end with ddmin so the result is 1-minimal;
3. length: a bounded breadth-first search for the same violation in fewer
   steps and no more faults, which reaches the breadth-first length from a
   longer random behaviour (simulate's 53-step Figure 8 becomes 48) or, when
   it runs out of paths first, proves that none shorter exists.

The searches are bounded by a number of states (``search_budget``), never by
time, so the same trace always shrinks to the same result.

A candidate is an action sequence re-executed *by value* from the trace's
initial state against cached successors: an action no longer enabled is
skipped (removing a send disables its delivery), and the candidate counts
only when the *same* violation is the first thing that goes wrong, checked
in the checker's order (step properties, deadlock, invariants).  So every
trace kept is a real behaviour of the model that ``replay`` confirms.
Liveness lassos are not shrunk.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any, Callable

import attrs

from consensuslab.errors import ReplayError
from consensuslab.traces.result import Trace, Violation
from consensuslab.traces.shortest import shortest

#: distinct states each of the shrinker's searches may visit (0: no search)
SEARCH_BUDGET = 200_000


@attrs.define
class Shrunk:
    """A shrunk trace, how long and how faulty it was before, and what it needs."""

    trace: Trace
    before_steps: int
    before_faults: Counter
    after_faults: Counter
    tests: int
    summary: str
    searched: list = attrs.field(factory=list)  # what the bounded searches found or proved, one line each


class Replayer:
    """Re-executes candidate action sequences on cached successors; counts the re-executions."""

    def __init__(self, model, violation: Violation, initial):
        self.model, self.initial = model, initial
        self.target = (violation.property, violation.kind)
        self.prop = None if violation.kind == "deadlock" else model.property_named(violation.property)
        self.cache: dict[Any, dict] = {}
        self.tests = 0

    def successors(self, state) -> dict:
        out = self.cache.get(state)
        if out is None:
            out = self.cache[state] = dict(self.model.successors(state))
        return out

    def states(self, actions: list) -> list:
        states = [self.initial]
        for act in actions:
            states.append(self.successors(states[-1])[act])
        return states

    def reproduces(self, actions: list, skip: bool = True) -> list | None:
        """The actions taken up to the first violation when it is the target; else None.

        An action that is not enabled is left out (``skip``) or fails the candidate.
        """
        self.tests += 1
        model, (_, kind), prop = self.model, self.target, self.prop
        state, taken = self.initial, []
        for act in [None, *actions]:
            if act is not None:
                nxt = self.successors(state).get(act)
                if nxt is None:
                    if skip:
                        continue
                    return None
                taken.append(act)
                if kind == "transition" and not model.step_holds(prop, state, act, nxt):
                    return taken
                if model.first_broken_step(state, act, nxt) is not None:
                    return None
                state = nxt
            if model.check_deadlock and not self.successors(state) and not model.is_done(state):
                return taken if kind == "deadlock" else None
            if kind == "invariant" and not model.holds(prop, state):
                return taken
            if model.first_broken_invariant(state) is not None:
                return None
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


def fewest_faults(model, run: Replayer, actions: list) -> list:
    """Phase 1: drop every fault the violation does not need; normal steps stay in place."""
    faults = [i for i, a in enumerate(actions) if model.is_fault(a)]
    if not faults:
        return actions

    def keeps(chosen: list) -> list | None:
        wanted = set(chosen)
        got = run.reproduces([a for i, a in enumerate(actions) if not model.is_fault(a) or i in wanted])
        if got is None:
            return None
        return [i for i in chosen if actions[i] in got]

    kept = set(ddmin(faults, keeps))
    return run.reproduces([a for i, a in enumerate(actions) if not model.is_fault(a) or i in kept])


def shortcut(run: Replayer, actions: list) -> list:
    """Cut loops and detours: where the trace returns to a state it was in (zero actions) or
    reaches, later, a state one action away from an earlier one, take the shorter way.

    Every state on the new path is one of the trace's, so the rest replays as it was;
    each candidate is still checked (a new transition may break a step property first).
    """
    i = 0
    while i < len(actions):
        states = run.states(actions)
        last = {s: k for k, s in enumerate(states)}
        best, way = last[states[i]], []  # the same state later: drop the loop
        for act, nxt in run.successors(states[i]).items():
            if run.model.is_fault(act):  # a shortcut through a fault would undo phase 1
                continue
            j = last.get(nxt)
            if j is not None and j - i - 1 > best - i:
                best, way = j, [act]
        if best - i > len(way):
            shorter = run.reproduces(actions[:i] + way + actions[best:], skip=False)
            if shorter is not None:
                actions = shorter
                continue
        i += 1
    return actions


def delete_runs(run: Replayer, actions: list) -> list:
    """Delete runs of actions, and with them any later action no longer enabled, while the
    same violation still happens first: runs of half the trace, a quarter, ... down to 8,
    then every length from 8 down to 1."""
    sizes, size = [], len(actions) // 2
    while size > 8:
        sizes.append(size)
        size //= 2
    sizes += list(range(min(8, max(len(actions) - 1, 1)), 0, -1))
    for size in sizes:
        i = 0
        while i + size <= len(actions):
            shorter = run.reproduces(actions[:i] + actions[i + size:])
            if shorter is not None and len(shorter) < len(actions):
                actions = shorter
            else:
                i += 1
    return actions


def shrink(model, trace: Trace, violation: Violation, search_budget: int | None = None) -> Shrunk:
    """The fewest faults, then the fewest steps, of the same violation (see the module);
    ``search_budget`` None means ``SEARCH_BUDGET``."""
    search_budget = SEARCH_BUDGET if search_budget is None else search_budget
    if violation.kind == "liveness":
        raise ReplayError("liveness counterexamples (lassos) are not minimised")
    run = Replayer(model, violation, trace.initial)
    actions = run.reproduces(list(trace.actions), skip=False)
    if actions is None:
        raise ReplayError("the trace does not violate its property first when re-executed")
    actions, searched, best = fewest_faults(model, run, actions), [], False
    faults = sum(1 for a in actions if model.is_fault(a))
    if search_budget and faults:
        depth = max(2 * len(actions), len(actions) + 16)  # a fault often saves many steps
        found = shortest(model, run.target, run.prop, trace.initial, depth, 0, search_budget)
        searched.append(_searched(found, "fault-free", depth))
        if found.actions is not None:  # no fault and no step fewer: nothing left to shrink
            actions, best = found.actions, True
    actions = reduce_steps(run, actions)
    if search_budget and len(actions) > 1 and not best:
        faults = sum(1 for a in actions if model.is_fault(a))
        found = shortest(model, run.target, run.prop, trace.initial, len(actions) - 1, faults, search_budget)
        searched.append(_searched(found, "shorter", len(actions) - 1))
        if found.actions is not None:
            actions = reduce_steps(run, fewest_faults(model, run, found.actions))
    final = Trace(trace.initial)
    state = trace.initial
    for act in actions:
        state = run.successors(state)[act]
        final.steps.append((act, state))
    before, after = fault_counts(model, trace.actions), fault_counts(model, final.actions)
    return Shrunk(final, len(trace), before, after, run.tests, describe_needs(model, final), searched)


def reduce_steps(run: Replayer, actions: list) -> list:
    """Phase 2: cut detours, delete runs, ddmin, until nothing changes."""
    while actions:
        before = len(actions)
        actions = shortcut(run, actions)
        actions = delete_runs(run, actions)
        actions = ddmin(actions, run.reproduces)
        if len(actions) == before:
            break
    return actions


def _searched(found, what: str, depth: int) -> str:
    """One line on what a bounded search established."""
    states = f"{found.nodes:,} states"
    if found.error:
        return f"the search for a {what} counterexample stopped: {found.error}"
    if found.actions is not None:
        return f"a breadth-first search found a {what} counterexample of {len(found.actions)} steps ({states})"
    if found.exhausted:
        return f"no {what} counterexample exists within {depth} steps (every path searched: {states})"
    return f"no {what} counterexample found in the search budget ({states}, up to {depth} steps)"


def shrunk_violation(model, violation: Violation) -> Violation:
    """``violation`` with its trace shrunk (unchanged when it does not reproduce by replay)."""
    try:
        shrunk = shrink(model, violation.trace, violation)
    except ReplayError:
        return violation
    return Violation(violation.property, violation.kind, shrunk.trace, message=violation.message)


def fault_counts(model, actions) -> Counter:
    return Counter(fault_kind(a) for a in actions if model.is_fault(a))


def fault_kind(act) -> str:
    return act.kind if act.kind != "step" else act.name


def describe_needs(model, trace: Trace) -> str:
    """``needs 1 equivocating replica and 2 dropped messages``, or ``needs no fault``."""
    parts = []
    forged: dict[str, dict] = defaultdict(dict)
    counts: Counter = Counter()
    for act in trace.actions:
        if not model.is_fault(act):
            continue
        if act.kind == "forge":
            msg = act.args[1]
            forged[act.node].setdefault(type(msg).__name__, set()).add(msg)
        else:
            counts[fault_kind(act)] += 1
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
