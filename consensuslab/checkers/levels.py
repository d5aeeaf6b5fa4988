"""Whole breadth-first levels at a time, in numpy: the compiled search for states that fit in 64 bits.

Why: with memoised actions (``checkers/memo.py``) what is left of a search is
set membership, and on this kind of machine a Python set of a few million
ints spends most of its time waiting on cache misses (measured on two-phase
rm=8: 7 s of a 15 s run in the bare successor-and-seen loop).  Sorting is
cache-friendly, so a level is expanded as arrays:

- each group's memo key ``level & mask`` is matched against the group's
  (small, cache-resident) sorted table of keys; keys not yet there are
  traced in Python and the match is redone;
- every step of every state becomes ``state & keep | bits`` in one gather;
- the successors are sorted, deduplicated and merged against the sorted
  array of every state seen so far.

No parent links are kept: a counterexample is found backwards, level by
level, by regenerating the previous level's steps and taking the least
parent that reaches the state (``trace_back``).  Memory is 16 bytes a state
(the seen array and the per-level arrays).  Within a level states are in
ascending packed order, so the result (counts, trace) is the same every run.
"""

from __future__ import annotations

import time

import numpy as np

from consensuslab.checkers.compiled import CROSS_CHECKED
from consensuslab.checkers.result import Trace, Violation

U64 = np.uint64


class Tables:
    """A group's memo as arrays, rebuilt when the group's dict or mask changed."""

    __slots__ = ("size", "mask", "keys", "enabled", "nsteps", "start", "keep", "bits", "label", "ok")

    def __init__(self, group, label_ids: dict):
        self.size, self.mask = len(group.table), group.mask
        items = sorted(group.table.items())
        self.keys = np.fromiter((k for k, _ in items), dtype=U64, count=len(items))
        if group.is_action:
            self.enabled = np.fromiter((e[0] for _, e in items), dtype=np.int64, count=len(items))
            self.nsteps = np.fromiter((len(e[1]) for _, e in items), dtype=np.int64, count=len(items))
            self.start = np.zeros(len(items), dtype=np.int64)
            if len(items):
                self.start[1:] = np.cumsum(self.nsteps)[:-1]
            steps = [st for _, e in items for st in e[1]]
            self.keep = np.fromiter((k for _, k, _ in steps), dtype=U64, count=len(steps))
            self.bits = np.fromiter((b for _, _, b in steps), dtype=U64, count=len(steps))
            self.label = np.fromiter((label_ids[lab] for lab, _, _ in steps), dtype=np.int32, count=len(steps))
        else:
            self.ok = np.fromiter((bool(e) for _, e in items), dtype=bool, count=len(items))

    def current(self, group) -> bool:
        return self.size == len(group.table) and self.mask == group.mask


def positions(search, group, states: np.ndarray) -> tuple[Tables, np.ndarray]:
    """Each state's row in the group's tables, tracing the keys the memo has not seen."""
    while True:
        tables = search.tables.get(id(group))
        if tables is None or not tables.current(group):
            tables = search.tables[id(group)] = Tables(group, search.label_ids)
        keys = states & U64(group.mask)
        if len(tables.keys):
            pos = np.searchsorted(tables.keys, keys)
            np.minimum(pos, len(tables.keys) - 1, out=pos)
            hit = tables.keys[pos] == keys
            if hit.all():
                return tables, pos
            missing = ~hit
        else:
            missing = np.ones(len(states), dtype=bool)
        miss_keys = keys[missing]
        miss_states = states[missing]
        order = np.argsort(miss_keys, kind="stable")
        miss_keys, miss_states = miss_keys[order], miss_states[order]
        first = np.ones(len(miss_keys), dtype=bool)
        first[1:] = miss_keys[1:] != miss_keys[:-1]
        mask = group.mask
        for s in miss_states[first].tolist():
            search.evaluate(group, s)
            if group.mask != mask:
                break  # the key widened: match the level again under the new mask


def expand(search, level: np.ndarray, with_origin: bool = False):
    """Every step of every state of ``level``: (successors, enabled per state[, parents, labels]) per group."""
    enabled = np.zeros(len(level), dtype=np.int64)
    out = []
    for group in search.groups:
        tables, pos = positions(search, group, level)
        enabled += tables.enabled[pos]
        counts = tables.nsteps[pos]
        total = int(counts.sum())
        if not total:
            continue
        parents = np.repeat(level, counts)
        first = np.cumsum(counts) - counts
        flat = np.repeat(tables.start[pos] - first, counts) + np.arange(total, dtype=np.int64)
        succ = parents & tables.keep[flat]
        succ |= tables.bits[flat]
        out.append((succ, parents, tables.label[flat]) if with_origin else succ)
    return out, enabled


def holding(search, groups: list, states: np.ndarray) -> np.ndarray:
    """Per state: does every property unit of these groups hold?"""
    ok = np.ones(len(states), dtype=bool)
    for group in groups:
        tables, pos = positions(search, group, states)
        ok &= tables.ok[pos]
    return ok


def level_search(search, packed_initial: list[int], initial: list) -> None:
    """The breadth-first search of ``search`` (a ``CompiledSearch``), level by level."""
    search.tables = {}
    search.label_ids = {u.label: i for i, u in enumerate(search.actions)}
    search.roots = {}
    for p, s in zip(packed_initial, initial):
        search.roots.setdefault(p, s)
    level = np.unique(np.array(packed_initial, dtype=U64))
    search.levels = [level]
    search.seen_count = len(level)
    seen = level
    check_new(search, level, 0)
    model = search.model
    max_states = search.max_states
    max_depth = search.max_depth
    generated = 0
    traced_before = search.traced()
    try:
        while len(level):
            if search.count >= search.warmup and not search.grouped:
                search._regroup()
            now = time.monotonic()
            if search.progress.due(now):
                search.progress.report(now, search.seen_count, search.depth, len(level))
            if search.time_limit is not None and now - search.started >= search.time_limit:
                search.stopped_by = "time-limit"
                return
            if search.count < CROSS_CHECKED:
                for s in level[:CROSS_CHECKED - search.count].tolist():
                    search.cross_check(s)
            succ, enabled = expand(search, level)
            if max_depth is not None and search.depth >= max_depth:
                if enabled.any():
                    search.stopped_by = "max-depth"
                return
            generated += int(enabled.sum())
            search.count += len(level)
            search.judge_memo(traced_before, len(level))
            traced_before = search.traced()
            if model.check_deadlock:
                for s in level[enabled == 0].tolist():
                    search.deadlock_at(s, search.depth)
            if not succ:
                return
            cand = np.sort(np.concatenate(succ))
            del succ
            keep = np.ones(len(cand), dtype=bool)
            keep[1:] = cand[1:] != cand[:-1]
            cand = cand[keep]
            pos = np.searchsorted(seen, cand)
            np.minimum(pos, len(seen) - 1, out=pos)
            new = cand[seen[pos] != cand]
            del cand, pos, keep
            if not len(new):
                return
            if max_states is not None and search.seen_count + len(new) >= max_states:
                new = new[:max_states - search.seen_count]
                search.stopped_by = "max-states"
            search.depth += 1
            search.levels.append(new)
            search.seen_count += len(new)
            seen = np.sort(np.concatenate([seen, new]), kind="stable")  # a merge of two sorted runs
            check_new(search, new, search.depth)
            if search.stopped_by:
                return
            level = new
    finally:
        search.generated += generated


def check_new(search, states: np.ndarray, depth: int) -> None:
    """Pending witnesses, then invariants (stop at the least failing state), over a new level.

    Witnesses first: every state of the level has been found, so what they witness counts.
    """
    if search.witness_groups:
        for group in list(search.witness_groups):
            if holding(search, [group], states).any():
                search.witnessed_group(group)
    if search.inv_groups:
        ok = holding(search, search.inv_groups, states)
        if not ok.all():
            search.invariant_failed_at(int(states[np.argmin(ok)]), depth)


def trace_back(search, target: int, depth: int) -> Trace:
    """A shortest path to ``target`` (found at ``depth``): the least parent in each earlier level."""
    labels = []
    x = U64(target)
    for d in range(depth - 1, -1, -1):
        best = None
        for succ, parents, label in expand(search, search.levels[d], with_origin=True)[0]:
            hits = np.flatnonzero(succ == x)
            if len(hits):
                h = hits[np.argmin(parents[hits])]
                if best is None or parents[h] < best[0]:
                    best = (parents[h], int(label[h]))
        if best is None:
            raise AssertionError(f"no predecessor of a depth-{d + 1} state in level {d}")
        x = best[0]
        labels.append(search.actions[best[1]].label)
    trace = Trace(search.roots[int(x)])
    state = trace.initial
    for act in reversed(labels):
        state = search.model.apply(state, act)
        trace.steps.append((act, state))
    return trace


def deadlock_violation(search, s: int, depth: int) -> Violation:
    return Violation("deadlock", "deadlock", trace_back(search, s, depth), message="no action is enabled")
