"""Where the interpreted search would stop, found in the compiled levels: the same counterexample and counts.

The interpreted search expands a level in the order it found its states and
stops at the first *event*: a state with no step (deadlock), a state with a
failing step (checked before its successors are added), or a new state that
breaks an invariant.  That order is the order of least paths: give a path
the positions of its initial state among the model's initial states and of
each step among its state's ``successors``; a search that expands states in
order meets them in the lexicographic order of their least shortest paths.

The compiled search keeps levels sorted by value, so once a level has any
event it finds the one the interpreted search meets first:

- backwards, the states of each earlier level that lead to an event in the
  remaining steps (each level's steps regenerated from the memo);
- forwards, from the first initial state that leads to one, the first
  successor in the model's own order that still does: the least path, and
  so the interpreted search's counterexample, step for step;
- along that path, the states found before each of its states (those
  reached from states found before its predecessor, or from its predecessor
  by an earlier step): the distinct and generated counts and the witnesses
  the interpreted search had when it stopped.

This costs up to two more expansions of the levels already searched, paid
only when a search stops at an event.
"""

from __future__ import annotations

import numpy as np

from consensuslab.checkers.compiled.kernels import with_origin
from consensuslab.checkers.compiled.packing import Unsupported
from consensuslab.checkers.compiled.words import empty, from_ints, member, order_key, sort_states, to_ints, words_for
from consensuslab.checkers.search.ending import Stop
from consensuslab.traces.result import Trace, Violation


class Events:
    """A level's events: its dead ends and states with a failing step (packed ints), the next level's failing states."""

    def __init__(self, depth: int, dead: list[int], stepping: list[int], failing: list[int]):
        self.depth, self.dead, self.stepping, self.failing = depth, set(dead), set(stepping), set(failing)

    def __bool__(self) -> bool:
        return bool(self.dead or self.stepping or self.failing)


def stop_at_first_event(search, events: Events, fill, judge_witnesses) -> None:
    """Raise the ``Stop`` the interpreted search raises at the first of ``events`` (level ``events.depth``
    expanded, the next level found), after setting the search's counts and witnesses to the interpreted ones
    (the steps of the earlier levels are added to ``search.generated`` by the caller).

    ``fill(states)``: the action tables holding every key
    of ``states``; ``judge_witnesses(states)``: the witnesses that hold somewhere in ``states``.
    """
    d = events.depth
    levels = [search.levels[k].states() for k in range(min(d + 2, len(search.levels)))]
    k = words_for(search.layout.bits)

    def steps_of(states):
        found = with_origin(states, fill(states)) if len(states) else []
        if not found:
            return empty(k), empty(k)
        succ, parents = np.concatenate([f[0] for f in found]), np.concatenate([f[1] for f in found])
        if search.constraint is not None:  # the steps the state constraint drops are not the model's
            succ, parents = search.constraint.kept(search, succ, parents)
        return succ, parents

    leading = _leading(events, levels, steps_of, k)
    path, before = _least_path(search, events, leading, levels, steps_of, k)
    x = path[-1][0]
    state = search.layout.decode(x)
    out = search.model.successors(state)
    found_before, later = before
    search.generated += later + len(out)
    search.depth = d
    trace = Trace(search.roots[path[0][0]])
    for _, act, nxt in path[1:]:
        trace.steps.append((act, nxt))
    if x in events.dead or x in events.stepping:
        _set_found(search, levels, d, found_before, judge_witnesses)
        if x in events.dead:
            raise Stop(Violation("deadlock", "deadlock", trace, message="no action is enabled"))
        for act, nxt in out:
            broken = search.model.first_broken_step(state, act, nxt)
            if broken is not None:
                trace.steps.append((act, nxt))
                raise Stop(Violation(broken.name, "transition", trace))
        raise AssertionError("a transition property's memoised steps disagree with the property")
    for act, nxt in out:
        packed = search.layout.encode(nxt)
        if packed in events.failing:
            broken = search.model.first_broken_invariant(nxt)
            if broken is None:
                raise Unsupported("an invariant's memoised pieces fail on a state where the invariant holds")
            _set_found(search, levels, d, found_before, judge_witnesses, extra=1)
            trace.steps.append((act, nxt))
            raise Stop(Violation(broken.name, "invariant", trace))
        if len(levels) > d + 1 and _in(levels[d + 1], [packed], k)[0]:
            found_before = _union(found_before, from_ints([packed], k))
    raise AssertionError("no failing successor of the state the least path leads to")


def stop_at_first_initial(search, packed_initial: list[int], failing: set[int], judge_witnesses) -> None:
    """The interpreted search's stop among the initial states: the first failing one in the model's order."""
    seen = []
    for p in packed_initial:
        if p in failing:
            k = words_for(search.layout.bits)
            before = sort_states(from_ints(seen, k))
            _witness(search, before, judge_witnesses)
            search.seen_count = len(set(seen)) + 1
            search.generated = 0
            search.depth = 0
            state = search.roots[p]
            broken = search.model.first_broken_invariant(state)
            raise Stop(Violation(broken.name, "invariant", Trace(state)))
        seen.append(p)
    raise AssertionError("no failing initial state")


def _leading(events: Events, levels: list, steps_of, k: int) -> list[set[int]]:
    """Per level up to ``events.depth``, the states from which an event is reached in the remaining steps."""
    d = events.depth
    targets = events.dead | events.stepping
    if events.failing:
        succ, parents = steps_of(levels[d])
        targets |= set(to_ints(parents[_in(sort_states(from_ints(events.failing, k)), succ, k)]))
    leading = [set() for _ in range(d + 1)]
    leading[d] = targets
    for j in range(d - 1, -1, -1):
        succ, parents = steps_of(levels[j])
        goal = sort_states(from_ints(leading[j + 1], k))
        leading[j] = set(to_ints(parents[_in(goal, succ, k)]))
    return leading


def _least_path(search, events: Events, leading: list, levels: list, steps_of, k: int):
    """The least path to an event (``[(packed, action, state)]``, the first with no action) and, for its last
    state, the states of the next level found before it was expanded and the steps generated by the states of
    its level found before it."""
    model, layout = search.model, search.layout
    first = next(p for p in search.initial_order if p in leading[0])
    earlier = []
    for p in search.initial_order:
        if p == first:
            break
        earlier.append(p)
    found = sort_states(from_ints(earlier, k))  # the states of this level found before the path's state
    path = [(first, None, search.roots[first])]
    for j in range(events.depth):
        state = path[-1][2]
        succ, _ = steps_of(found)
        ahead = []
        for act, nxt in model.successors(state):
            packed = layout.encode(nxt)
            if packed in leading[j + 1]:
                path.append((packed, act, nxt))
                break
            ahead.append(packed)
        candidates = np.concatenate([succ, from_ints(ahead, k)]) if len(ahead) else succ
        found = sort_states(candidates[_in(levels[j + 1], candidates, k)]) if len(candidates) else candidates
    succ, _ = steps_of(found)
    nxt_found = empty(k)
    if len(levels) > events.depth + 1 and len(succ):
        nxt_found = sort_states(succ[_in(levels[events.depth + 1], succ, k)])
    return path, (nxt_found, len(succ) + _self_loops(search, found))


def _self_loops(search, states: np.ndarray) -> int:
    """The steps of ``states`` back to themselves: the search counts them as generated, as the interpreted one
    does, but a memo entry leaves them out of its steps (``memo.Group.miss``)."""
    total = 0
    for s in to_ints(states):
        for g in search.groups:
            entry = g.table.get(s & g.mask)
            if entry is None:
                entry = g.miss(s)
            total += entry[0] - len(entry[1])
    return total


def _set_found(search, levels: list, d: int, next_found: np.ndarray, judge_witnesses, extra: int = 0) -> None:
    """Counts and witnesses: the levels up to ``d`` in full (their witnesses already seen), ``next_found`` of the
    next level, and ``extra`` (the failing state, counted but not witnessed)."""
    search.seen_count = sum(len(levels[j]) for j in range(d + 1)) + len(next_found) + extra
    _witness(search, next_found, judge_witnesses)


def _witness(search, states: np.ndarray, judge_witnesses) -> None:
    if len(states) and search.witness_groups:
        for group, held in zip(list(search.witness_groups), judge_witnesses(states)):
            if held:
                search.witnessed_group(group)


def _in(run: np.ndarray, cand, k: int) -> np.ndarray:
    """Which of ``cand`` (states, or a list of packed ints) are in the sorted ``run``."""
    cand = from_ints(cand, k) if isinstance(cand, list) else cand
    return member(run, order_key(run), cand, order_key(cand))


def _union(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return sort_states(np.concatenate([a, b])) if len(b) else a
