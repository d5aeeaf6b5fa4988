"""Whole breadth-first levels at a time, in numpy: the compiled search for states that fit in 64 bits.

Why: with memoised actions (``checkers/memo.py``) what is left of a search is
set membership, and on this kind of machine a Python set of a few million
ints spends most of its time waiting on cache misses (measured on two-phase
rm=8: 7 to 9 s of a 15 to 19 s run in the bare successor-and-seen loop).  Sorting is
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

#: states of every level whose compiled steps are compared with ``model.successors`` (an audit)
AUDITED_PER_LEVEL = 8
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
        tables = current_tables(search, group)
        pos, lacking = lookup(tables, states)
        if lacking is None:
            return tables, pos
        trace_missing(search, group, lacking)


def trace_missing(search, group, states: np.ndarray) -> None:
    """Fill the memo for the keys of ``states``, each traced on the least state that has it.

    So what is traced (and the order values are interned in) does not depend on
    the order of a level.  Stops early when the key widens: the caller matches again.
    """
    keys = states & U64(group.mask)
    order = np.lexsort((states, keys))
    keys, states = keys[order], states[order]
    first = np.ones(len(keys), dtype=bool)
    first[1:] = keys[1:] != keys[:-1]
    mask = group.mask
    for s in states[first].tolist():
        search.evaluate(group, s)
        if group.mask != mask:
            return


def current_tables(search, group) -> Tables:
    tables = search.tables.get(id(group))
    if tables is None or not tables.current(group):
        tables = search.tables[id(group)] = Tables(group, search.label_ids)
    return tables


def lookup(tables: Tables, states: np.ndarray) -> tuple[np.ndarray | None, np.ndarray | None]:
    """(rows, None) when every state's key is in the tables, else (None, the states whose key is not)."""
    keys = states & U64(tables.mask)
    if not len(tables.keys):
        return None, states
    pos = np.searchsorted(tables.keys, keys)
    np.minimum(pos, len(tables.keys) - 1, out=pos)
    hit = tables.keys[pos] == keys
    if hit.all():
        return pos, None
    return None, states[~hit]


def sliced_positions(search, groups: list, slices: list[np.ndarray], workers) -> list[list]:
    """``positions`` for every slice of a level, the look-ups in the worker threads.

    Keys the memo lacks are gathered from all slices and traced here, on this
    thread, by ``positions`` (least state per key), then the look-ups are
    redone: what is traced does not depend on how the level was sliced.
    """
    while True:
        tables = [current_tables(search, g) for g in groups]
        found = workers.map(lambda part: [lookup(t, part) for t in tables], slices)
        missing = False
        for gi, group in enumerate(groups):
            lacking = [row[gi][1] for row in found if row[gi][1] is not None]
            if lacking:
                missing = True
                trace_missing(search, group, np.concatenate(lacking))
        if not missing:
            return [[(t, row[gi][0]) for gi, t in enumerate(tables)] for row in found]


def generate(level: np.ndarray, rows: list, with_origin: bool = False):
    """The steps of ``level`` from each group's (tables, positions): pure numpy, safe in a thread."""
    enabled = np.zeros(len(level), dtype=np.int64)
    out = []
    for tables, pos in rows:
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


def expand(search, level: np.ndarray, with_origin: bool = False):
    """Every step of every state of ``level``: successors per group, and the enabled count per state."""
    return generate(level, [positions(search, g, level) for g in search.groups], with_origin)


def distinct_sorted(cand: np.ndarray) -> np.ndarray:
    """``cand`` sorted in place, without repeats."""
    cand.sort()
    if len(cand) < 2:
        return cand
    keep = np.ones(len(cand), dtype=bool)
    np.not_equal(cand[1:], cand[:-1], out=keep[1:])
    return cand[keep]


def split_values(runs: list[np.ndarray], parts: int) -> np.ndarray:
    """``parts - 1`` values cutting the states into ranges of about equal size (from a sample of the runs)."""
    sample = [r[::max(1, len(r) // 4096)] for r in runs if len(r)]
    if not sample:
        return np.zeros(parts - 1, dtype=U64)
    sample = np.sort(np.concatenate(sample))
    return sample[[len(sample) * j // parts for j in range(1, parts)]]


def cut(run: np.ndarray, bounds: np.ndarray) -> list[np.ndarray]:
    """``run`` (sorted) as the pieces between consecutive bounds: views, no copy."""
    edges = [0, *np.searchsorted(run, bounds).tolist(), len(run)]
    return [run[edges[j]:edges[j + 1]] for j in range(len(edges) - 1)]


def unseen(pieces: list[np.ndarray], seen: np.ndarray) -> np.ndarray:
    """The distinct states of the sorted ``pieces`` that are not in the sorted ``seen``."""
    cand = pieces[0] if len(pieces) == 1 else np.concatenate(pieces)
    if len(pieces) > 1:
        cand = distinct_sorted(cand)  # sorted runs: the sort merges them
    if not len(cand) or not len(seen):
        return cand
    pos = np.searchsorted(seen, cand)
    np.minimum(pos, len(seen) - 1, out=pos)
    return cand[seen[pos] != cand]


def slice_level(level: np.ndarray, parts: int) -> list[np.ndarray]:
    """A level in ``parts`` consecutive slices (views), one per worker."""
    edges = np.linspace(0, len(level), parts + 1).astype(np.int64).tolist()
    return [level[edges[j]:edges[j + 1]] for j in range(parts)]


def merged(seen: np.ndarray, new: np.ndarray) -> np.ndarray:
    both = np.concatenate([seen, new])
    both.sort(kind="stable")  # two sorted runs: a merge
    return both


class Workers:
    """``--workers N``: N threads over numpy kernels, which release the GIL.

    Each level is cut into N slices whose steps each thread generates and
    sorts; the sorted steps are then cut into N ranges of values, and each
    thread deduplicates one range against the same range of the sorted
    seen-set and merges it in.  Python work (tracing keys the memo has not
    seen) stays on the calling thread.  Every level comes out sorted, so the
    result does not depend on N.
    """

    def __init__(self, n: int):
        self.n = n
        self.pool = None
        if n > 1:
            from concurrent.futures import ThreadPoolExecutor
            self.pool = ThreadPoolExecutor(max_workers=n, thread_name_prefix="consensuslab-level")

    def map(self, fn, items):
        if self.pool is None:
            return [fn(x) for x in items]
        return list(self.pool.map(fn, items))

    def close(self):
        if self.pool is not None:
            self.pool.shutdown(wait=True)


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
    workers = Workers(search.workers)
    parts = workers.n
    seen = level
    slices = slice_level(level, parts)
    check_new(search, slices, 0, workers)
    model = search.model
    max_states = search.max_states
    max_depth = search.max_depth
    generated = 0
    traced_before = search.traced()
    try:
        while len(level):
            now = time.monotonic()
            if search.progress.due(now):
                search.progress.report(now, search.seen_count, search.depth, len(level))
            if search.time_limit is not None and now - search.started >= search.time_limit:
                search.stopped_by = "time-limit"
                return
            # the first states in full, then a few of every level: memo hits audited against the real model
            audit = max(CROSS_CHECKED - search.count, AUDITED_PER_LEVEL)
            for s in np.sort(level[:4 * audit])[:audit].tolist():
                search.cross_check(s)
            rows = sliced_positions(search, search.groups, slices, workers)

            def steps(k: int):
                succ, enabled = generate(slices[k], rows[k])
                cand = np.concatenate(succ) if len(succ) > 1 else succ[0] if succ else np.zeros(0, dtype=U64)
                return distinct_sorted(cand), enabled

            runs = workers.map(steps, range(parts))
            enabled = np.concatenate([e for _, e in runs])
            if max_depth is not None and search.depth >= max_depth:
                if enabled.any():
                    search.stopped_by = "max-depth"
                return
            generated += int(enabled.sum())
            search.count += len(level)
            search.judge_memo(traced_before, len(level))
            traced_before = search.traced()
            if search.count >= search.warmup and not search.grouped:
                search._regroup()  # before the new level's invariants: they use the planned groups too
            if model.check_deadlock and not enabled.all():
                for s in np.sort(np.concatenate(slices)[enabled == 0]).tolist():
                    search.deadlock_at(s, search.depth)
            # states are cut into value ranges, each deduplicated against its range of ``seen``
            bounds = split_values([r for r, _ in runs], parts)
            pieces = [cut(r, bounds) for r, _ in runs]
            seen_pieces = cut(seen, bounds)
            fresh = workers.map(lambda j: unseen([p[j] for p in pieces], seen_pieces[j]), range(parts))
            del runs, pieces
            new = np.concatenate(fresh) if parts > 1 else fresh[0]  # ranges in order: sorted
            if not len(new):
                return
            if max_states is not None and search.seen_count + len(new) >= max_states:
                new = new[:max_states - search.seen_count]
                search.stopped_by = "max-states"
                fresh = cut(new, bounds)
            search.depth += 1
            search.levels.append(new)
            search.seen_count += len(new)
            seen = np.concatenate(workers.map(lambda j: merged(seen_pieces[j], fresh[j]), range(parts)))
            del seen_pieces, fresh
            slices = slice_level(new, parts)
            check_new(search, slices, search.depth, workers)
            if search.stopped_by:
                return
            level = new
    finally:
        search.generated += generated
        workers.close()


def check_new(search, slices: list[np.ndarray], depth: int, workers) -> None:
    """Pending witnesses, then invariants (stop at the least failing state), over a new level.

    Witnesses first: every state of the level has been found, so what they witness counts.
    """
    for group in list(search.witness_groups):
        rows = sliced_positions(search, [group], slices, workers)
        if any(t.ok[pos].any() for (t, pos), in rows):
            search.witnessed_group(group)
    if search.inv_groups:
        rows = sliced_positions(search, search.inv_groups, slices, workers)

        def failing(k: int) -> np.ndarray:
            ok = np.ones(len(slices[k]), dtype=bool)
            for t, pos in rows[k]:
                ok &= t.ok[pos]
            return slices[k][~ok]

        bad = [f for f in workers.map(failing, range(len(slices))) if len(f)]
        if bad:
            search.invariant_failed_at(int(min(f.min() for f in bad)), depth)  # the least, whatever the order


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
