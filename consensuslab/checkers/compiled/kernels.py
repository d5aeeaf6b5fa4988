"""The numpy kernels of the level search: memo groups as arrays, expanding a level, judging a level.

Each kernel takes a *part* of a level (a list of sorted arrays of packed
states) and works through it in blocks of ``BLOCK`` states, so its temporary
arrays stay in cache and memory traffic stays low: one core's copying
already saturates the memory bus of the machines this was measured on, so
two threads streaming whole levels gained little.  Expanding whole levels at
once spent 2.4 s of a 6.2 s two-phase rm=9 run making steps; blocks spend
about 0.6 s.  Worker threads run the kernels side by side: numpy releases
the GIL in all but ``np.repeat``, which is used anyway for the parents of
the steps, as one pass over memory costs less than the three of a
GIL-free running sum (two-phase rm=9, two workers: median 1.76 s against
1.87 s over six interleaved runs; one worker unchanged).

A state whose key a group's table lacks is not expanded or judged here: it
is handed back as *deferred*, the caller traces the missing keys on its own
thread (``levels.settle``) and runs the kernel again on those states alone.
So what is traced never depends on how a level was cut into parts.
"""

from __future__ import annotations

from itertools import islice

import numpy as np

from consensuslab.checkers.compiled.keyindex import KeyIndex
from consensuslab.checkers.compiled.memo import RAISED
from consensuslab.checkers.compiled.sorted_runs import distinct_sorted
from consensuslab.checkers.compiled.words import empty, from_ints, words_for

U64 = np.uint64
I64 = np.int64
#: states per block of a kernel (their steps, a dozen each, stay within a core's L2 and the L3)
BLOCK = 1 << 15
#: states per block when judging properties (no steps to hold, so larger blocks: fewer, longer numpy calls)
JUDGE_BLOCK = 1 << 17
_EMPTY = np.zeros(0, dtype=U64)


class Tables:
    """A memo group's entries as arrays, rows in the order the memo learnt them.

    ``refreshed`` appends what the group learnt since, instead of rebuilding:
    the invariant tables of a large spec gain a few thousand entries a level
    (two-phase rm=9: 20,175 in all), and a profiled two-worker run spent
    0.21 s of its main thread in 127 rebuilds from the dict.
    """

    __slots__ = ("group", "mask", "size", "keys", "index", "enabled", "nsteps", "start", "keep", "bits",
                 "label", "ok", "width")

    def __init__(self, group, label_ids: dict):
        self.group, self.mask, self.size = group, group.mask, 0
        self.width = words_for(group.full.bit_length())  # words of a state
        self.keys = empty(self.width)
        if group.is_action:
            self.enabled = self.nsteps = self.start = np.zeros(0, dtype=I64)
            self.keep = self.bits = empty(self.width)
            self.label = np.zeros(0, dtype=np.int32)
        else:
            self.ok = np.zeros(0, dtype=np.int8)  # 0 or 1; an alternative may be RAISED (``memo.RAISED``)
        self._append(label_ids)

    def current(self) -> bool:
        return self.size == len(self.group.table) and self.mask == self.group.mask

    def refreshed(self, label_ids: dict) -> "Tables":
        """These tables with the group's newer entries (new tables when the group's key widened)."""
        if self.current():
            return self
        if self.mask != self.group.mask or len(self.group.table) < self.size:
            return Tables(self.group, label_ids)
        self._append(label_ids)
        return self

    def _append(self, label_ids: dict) -> None:
        group = self.group
        items = list(islice(group.table.items(), self.size, None))
        n = len(items)
        keys = from_ints((k for k, _ in items), self.width)
        if group.is_action:
            enabled = np.fromiter((e[0] for _, e in items), dtype=I64, count=n)
            nsteps = np.fromiter((len(e[1]) for _, e in items), dtype=I64, count=n)
            start = np.zeros(n, dtype=I64)
            if n:
                start[1:] = np.cumsum(nsteps)[:-1]
            start += len(self.keep)
            steps = [st for _, e in items for st in e[1]]
            m = len(steps)
            self.enabled = np.concatenate([self.enabled, enabled])
            self.nsteps = np.concatenate([self.nsteps, nsteps])
            self.start = np.concatenate([self.start, start])
            self.keep = np.concatenate([self.keep, from_ints((k for _, k, _ in steps), self.width)])
            self.bits = np.concatenate([self.bits, from_ints((b for _, _, b in steps), self.width)])
            self.label = np.concatenate([self.label, np.fromiter((label_ids[lab] for lab, _, _ in steps),
                                                                 dtype=np.int32, count=m)])
        else:
            self.ok = np.concatenate([self.ok, np.fromiter((e if e is RAISED else bool(e) for _, e in items),
                                                           dtype=np.int8, count=n)])
        first = len(self.keys)
        self.keys = np.concatenate([self.keys, keys])
        self.size = len(self.keys)
        if not first or not self.index.add(keys, first):
            self.index = KeyIndex(self.mask, self.keys)


def blocks(pieces: list[np.ndarray], size: int = BLOCK):
    """The states of ``pieces`` in blocks of at most ``size`` (views, in order)."""
    for piece in pieces:
        for lo in range(0, len(piece), size):
            yield piece[lo:lo + size]


def _rows(block: np.ndarray, lookups: list):
    """Each look-up's answers for ``block``, and the mask of states one lacks (-1; None: none)."""
    rows = [lookup(block) for lookup in lookups]
    lacking = None
    for r in rows:
        if len(r) and r.min() < 0:
            miss = r < 0
            lacking = miss if lacking is None else lacking | miss
    return rows, lacking


def known_blocks(pieces: list[np.ndarray], lookups: list, size: int, deferred: list):
    """``(block, each look-up's answers)`` for the blocks of ``pieces``; a look-up (a table's ``index.rows``, a
    bundle's ``judge``) answers -1 where it lacks a state's key, and states some look-up lacks go to ``deferred``."""
    for block in blocks(pieces, size):
        rows, lacking = _rows(block, lookups)
        if lacking is not None:
            deferred.append(block[lacking])
            found = ~lacking
            block = block[found]
            rows = [r[found] for r in rows]
        yield block, rows


class Expansion:
    """What expanding a part gave: sorted runs of successors not seen before, steps counted, dead and deferred states.

    The runs may share states with each other (two blocks reaching one state), never with the seen-set.
    """

    __slots__ = ("fresh", "generated", "dead", "deferred", "outside")

    def __init__(self, fresh: list, generated: int, dead: list, deferred: list, outside: list):
        self.fresh, self.generated, self.dead, self.deferred = fresh, generated, dead, deferred
        #: the distinct successors the state constraint dropped, per block (``constraint.py``: some may escape)
        self.outside = outside


class Steps:
    """Every action group's steps in one pair of arrays, so a block's steps are made in one pass, not one per group.

    Why: each numpy call costs a few microseconds of Python, holding the GIL,
    and with several worker threads those are what they queue for.
    """

    __slots__ = ("tables", "first", "keep", "bits", "constraint")

    def __init__(self, tables: list[Tables], constraint: Tables | None = None):
        self.tables = tables
        self.constraint = constraint  # the state constraint's table, judged on every successor (``constraint.py``)
        offset, self.first = 0, []
        for t in tables:
            self.first.append(t.start + offset)  # each row's first step in the joined arrays
            offset += len(t.keep)
        self.keep = np.concatenate([t.keep for t in tables]) if tables else _EMPTY
        self.bits = np.concatenate([t.bits for t in tables]) if tables else _EMPTY


def expand_part(pieces: list[np.ndarray], steps: Steps, want_dead: bool, seen, runs: list) -> Expansion:
    """Every step of the states of ``pieces``, as ``state & keep | bits`` from each group's rows.

    Each block's steps are deduplicated and looked up in the seen-set while
    they are in cache: most repeats are steps of neighbouring states, so this
    leaves about a third to search (two-phase rm=9: 74M steps, 22M searched),
    and half of those are new.  With a state constraint, a state with a
    successor whose key the constraint's table lacks is deferred too.
    """
    tables, constraint = steps.tables, steps.constraint
    out, dead, deferred, outside = [], [], [], []
    generated = 0
    for block, rows in known_blocks(pieces, [t.index.rows for t in tables], BLOCK, deferred):
        made, enabled, succ, parent = _block_steps(block, rows, steps, want_dead)
        if succ is not None and constraint is not None:
            found = constraint.index.rows(succ)
            if found.min() < 0:
                lacking = np.zeros(len(block), dtype=bool)
                lacking[parent[found < 0]] = True
                deferred.append(block[lacking])
                block, rows = block[~lacking], [r[~lacking] for r in rows]
                made, enabled, succ, parent = _block_steps(block, rows, steps, want_dead)
                found = constraint.index.rows(succ) if succ is not None else None
            if succ is not None:
                inside = constraint.ok[found].view(bool)
                if not inside.all():
                    outside.append(distinct_sorted(succ[~inside]))
                    made -= len(inside) - int(np.count_nonzero(inside))
                    succ = succ[inside]
        generated += made
        if want_dead and len(block) and (enabled is None or enabled.min() == 0):
            dead.append(block if enabled is None else block[enabled == 0])
        if succ is not None and len(succ):
            fresh = seen.unseen(distinct_sorted(succ), runs)
            if len(fresh):
                out.append(fresh)
    return Expansion(out, generated, dead, deferred, outside)


def _block_steps(block: np.ndarray, rows: list, steps: Steps, want_dead: bool):
    """``(steps counted, enabled actions per state or None, successors or None, each one's state in block)``;
    the last only with a state constraint."""
    enabled = None
    generated = 0
    owner, count, first = [], [], []
    for t, r, start in zip(steps.tables, rows, steps.first):
        e = t.enabled[r]
        generated += int(e.sum())
        if want_dead:
            enabled = e if enabled is None else enabled + e
        c = t.nsteps[r]
        busy = np.flatnonzero(c)
        if len(busy):
            owner.append(busy)
            count.append(c[busy])
            first.append(start[r[busy]])
    if not owner:
        return generated, enabled, None, None
    owner, count = _joined(owner), _joined(count)
    succ = _emit(block, owner, count, _joined(first), steps)
    return generated, enabled, succ, (np.repeat(owner, count) if steps.constraint is not None else None)


def _joined(arrays: list[np.ndarray]) -> np.ndarray:
    return arrays[0] if len(arrays) == 1 else np.concatenate(arrays)


def _emit(block: np.ndarray, owner: np.ndarray, count: np.ndarray, first: np.ndarray, steps: Steps) -> np.ndarray:
    """``block[owner[i]] & keep[s] | bits[s]`` for the ``count[i]`` steps ``s`` from ``first[i]`` on, for every i.

    Each step's place in the step arrays is a running sum: one scatter of the
    differences where each segment starts, one ``cumsum``.
    """
    ends = np.cumsum(count)
    m = int(ends[-1])
    starts = ends - count
    step = np.ones(m, dtype=I64)
    step[starts[1:]] = first[1:] - (first[:-1] + count[:-1] - 1)
    step[0] = first[0]
    np.cumsum(step, out=step)
    succ = np.repeat(block[owner], count, axis=0)
    succ &= steps.keep[step]
    succ |= steps.bits[step]
    return succ


def with_origin(level: np.ndarray, tables: list[Tables]):
    """``(successor, parent, label id)`` arrays, for rebuilding a counterexample (every key known)."""
    parent, succ, label, _ = steps_by_parent(level, tables)
    return [(succ, level[parent], label)] if len(parent) else []


def steps_by_parent(level: np.ndarray, tables: list[Tables]):
    """Every step of ``level`` (each group's table knows every key): ``(index of its state in level, successor,
    label id)`` arrays, group after group, and whether each state has a step back to itself (an entry counts
    those, but does not list them)."""
    found = []
    looping = np.zeros(len(level), dtype=bool)
    for t in tables:
        rows = t.index.rows(level)
        assert len(rows) == 0 or rows.min() >= 0, "a level's steps asked of a table that lacks a key"
        counts = t.nsteps[rows]
        looping |= t.enabled[rows] > counts
        total = int(counts.sum())
        if not total:
            continue
        parent = np.repeat(np.arange(len(level), dtype=I64), counts)
        first = np.cumsum(counts) - counts
        flat = np.repeat(t.start[rows] - first, counts) + np.arange(total, dtype=I64)
        found.append((parent, level[parent] & t.keep[flat] | t.bits[flat], t.label[flat]))
    if not found:
        return np.zeros(0, dtype=I64), level[:0], np.zeros(0, dtype=np.int32), looping
    return (*(np.concatenate(column) for column in zip(*found)), looping)


class Judgement:
    """Properties over a part: whether each group held somewhere, the states where an invariant group fails."""

    __slots__ = ("failing", "held", "deferred")

    def __init__(self, failing: list, held: list[bool], deferred: list):
        self.failing, self.held, self.deferred = failing, held, deferred


def judge_part(pieces: list[np.ndarray], tables: list[Tables], invariants_from: int = 0, plan=None) -> Judgement:
    """Witness groups first (does any state satisfy them?), then from ``invariants_from`` on invariant groups;
    with a ``plan`` (``bundles.py``), the invariant groups it bundles are judged a bundle at a time."""
    failing, deferred = [], []
    held = [False] * len(tables)
    alone = range(len(tables)) if plan is None else plan.alone
    bundles = () if plan is None else plan.bundles
    lookups = [tables[k].index.rows for k in alone] + [b.judge for b in bundles]
    for block, found in known_blocks(pieces, lookups, JUDGE_BLOCK, deferred):
        rows, verdicts = found[:len(alone)], found[len(alone):]
        ok = None
        clauses: dict = {}  # clause -> (where an alternative decided it, what it decided), alternatives in order
        answers = [(k, tables[k].group.clause, tables[k].ok[r]) for k, r in zip(alone, rows)]
        answers += [(invariants_from, b.clause, v) for b, v in zip(bundles, verdicts)]
        for k, clause, answer in answers:
            if k < invariants_from:
                held[k] = held[k] or bool(answer.any())
            elif clause is not None:
                decided, value = clauses.get(clause) or (np.zeros(len(block), dtype=bool),
                                                         np.zeros(len(block), dtype=bool))
                now = ~decided & (answer != 0)  # the first alternative that holds, or raises
                value |= now & (answer == 1)
                clauses[clause] = (decided | now, value)
            else:
                good = answer.view(bool)  # 0 or 1 (a bundle's FAILS or HOLDS)
                ok = good if ok is None else ok & good
        for _, value in clauses.values():
            ok = value if ok is None else ok & value
        if ok is not None and len(block) and not ok.all():
            failing.append(block[~ok])
    return Judgement(failing, held, deferred)
