"""Sets of packed states as sorted uint64 arrays: the seen-set and the levels of the level search.

A ``Run`` is one sorted array seen as consecutive ranges of values (so that
worker threads can each build or merge one range).  The seen-set (``Seen``)
is a large ``base`` run plus the runs of the most recent levels, which are
the level arrays themselves, kept anyway for rebuilding counterexamples.  A
new level is only appended; the recent runs are merged into the base once
they hold a quarter as many states as the base.

Why not merge every level into one sorted array: that rewrites the whole
seen-set per level, and merging is limited by memory bandwidth, which one
core already saturates on the machines this was measured on (21.6 GB/s copy
with one thread, 22.0 with two).  Merging a quarter at a time writes far
fewer states (two-phase rm=9: 32.8 million writes instead of 151.4 million),
and searching a few more sorted arrays is latency-bound work that threads
share well.  A merge
writes into the buffer of the base before last when it fits (bases get 60%
room to grow, so in steady growth it does): a fresh array of tens of
megabytes costs more in page faults than the merge itself.
"""

from __future__ import annotations

import numpy as np

U64 = np.uint64
_EMPTY = np.zeros(0, dtype=U64)
#: merge the recent levels into the base once they hold this share of the base's states
MERGE_SHARE = 0.25
#: ... or once there are this many of them (each costs a search per candidate)
MAX_RECENT = 8


def distinct_sorted(cand: np.ndarray) -> np.ndarray:
    """``cand`` sorted in place, without repeats."""
    cand.sort()
    if len(cand) < 2:
        return cand
    keep = np.ones(len(cand), dtype=bool)
    np.not_equal(cand[1:], cand[:-1], out=keep[1:])
    return cand[keep]


def joined(pieces: list[np.ndarray]) -> np.ndarray:
    pieces = [p for p in pieces if len(p)]
    if not pieces:
        return _EMPTY.copy()
    return pieces[0] if len(pieces) == 1 else np.concatenate(pieces)


def split_values(arrays: list[np.ndarray], parts: int) -> np.ndarray:
    """``parts - 1`` values cutting the elements of ``arrays`` into ranges of about equal count."""
    total = sum(len(a) for a in arrays)
    step = max(1, total // 8192)
    sample = [a[::step] for a in arrays if len(a)]
    if parts < 2 or not sample:
        return np.zeros(max(parts - 1, 0), dtype=U64)
    sample = np.sort(np.concatenate(sample))
    return sample[[len(sample) * j // parts for j in range(1, parts)]]


def cut(run: np.ndarray, bounds: np.ndarray) -> list[np.ndarray]:
    """``run`` (sorted) as the pieces between consecutive bounds: views, no copy."""
    if not len(bounds):
        return [run]
    edges = [0, *np.searchsorted(run, bounds).tolist(), len(run)]
    return [run[edges[j]:edges[j + 1]] for j in range(len(edges) - 1)]


def balanced(pieces: list[np.ndarray], parts: int) -> list[list[np.ndarray]]:
    """The states of ``pieces`` (in order) as ``parts`` consecutive runs of about equal size (views)."""
    total = sum(len(p) for p in pieces)
    edges = [total * j // parts for j in range(parts + 1)]
    out = []
    for j in range(parts):
        lo, hi = edges[j], edges[j + 1]
        part, at = [], 0
        for p in pieces:
            a, b = max(lo - at, 0), min(hi - at, len(p))
            if a < b:
                part.append(p[a:b])
            at += len(p)
        out.append(part)
    return out


class Run:
    """A sorted set of states: one array, seen as ``pieces`` over consecutive ranges of values.

    One array so that a look-up is one binary search, not one per range (a
    block's candidates spread over every range, so eight ranges made eight
    times the numpy calls per look-up); ranges so that threads can each build
    or merge one of them.
    """

    __slots__ = ("pieces", "whole", "size")

    def __init__(self, pieces: list[np.ndarray], whole: np.ndarray | None = None):
        self.pieces = pieces
        self.whole = joined(pieces) if whole is None else whole
        self.size = len(self.whole)

    @classmethod
    def written(cls, sizes: list[int], fill, workers, buffer: np.ndarray | None = None) -> "Run":
        """A run whose range ``j`` (``sizes[j]`` states) is written by ``fill(j, out)``, the ranges in parallel,
        into ``buffer`` when it is large enough."""
        total = sum(sizes)
        if buffer is None or len(buffer) < total:
            buffer = np.empty(total + total // 2 + total // 8, dtype=U64)  # room for the next merge
        whole = buffer[:total]
        edges = np.cumsum([0, *sizes]).tolist()
        pieces = [whole[edges[j]:edges[j + 1]] for j in range(len(sizes))]
        workers.map(lambda j: fill(j, pieces[j]), range(len(sizes)))
        return cls(pieces, whole)

    def contains(self, cand: np.ndarray) -> np.ndarray:
        """Which of the sorted ``cand`` are in this run."""
        whole = self.whole
        if not len(whole) or not len(cand):
            return np.zeros(len(cand), dtype=bool)
        pos = np.searchsorted(whole, cand)
        np.minimum(pos, len(whole) - 1, out=pos)
        return whole[pos] == cand

    def states(self) -> np.ndarray:
        return self.whole


class Seen:
    """Every state found so far: a base run and the recent levels' runs."""

    def __init__(self, parts: int):
        self.parts = parts
        self.base = Run([_EMPTY])
        self.recent: list[Run] = []
        #: the buffer of the base before last, written over by the next merge that fits
        self.spare: np.ndarray | None = None

    def runs(self) -> list[Run]:
        """The runs to search, smallest first (a state found early skips the larger ones)."""
        return [r for r in reversed(self.recent) if r.size] + ([self.base] if self.base.size else [])

    def unseen(self, cand: np.ndarray, runs: list[Run]) -> np.ndarray:
        """The sorted distinct ``cand`` not in any of ``runs``."""
        for run in runs:
            if not len(cand):
                break
            cand = cand[~run.contains(cand)]
        return cand

    def add(self, level: Run, workers) -> None:
        """Take in a new level; merge the recent levels into the base when they hold a quarter as many.

        Many small recent levels (the tail of a search) are merged with each
        other instead, so the base is not rewritten for a handful of states.
        """
        self.recent.append(level)
        held = sum(r.size for r in self.recent)
        if held >= MERGE_SHARE * self.base.size:
            old = self.base.whole.base if self.base.whole.base is not None else self.base.whole
            self.base = self._merged([self.base] + self.recent, workers, self.spare)
            self.spare = old if len(old) else None
            self.recent = []
        elif len(self.recent) > MAX_RECENT:
            self.recent = [self._merged(self.recent, workers, None)]

    def _merged(self, runs: list[Run], workers, buffer: np.ndarray | None) -> Run:
        bounds = split_values([r.whole for r in runs], self.parts)
        cuts = [cut(r.whole, bounds) for r in runs]
        sizes = [sum(len(c[j]) for c in cuts) for j in range(self.parts)]

        def merge(j: int, out: np.ndarray) -> None:
            parts = [c[j] for c in cuts if len(c[j])]
            if parts:
                np.concatenate(parts, out=out)
                out.sort(kind="stable")  # sorted runs: merged

        return Run.written(sizes, merge, workers, buffer)


def sorted_level(runs: list[np.ndarray], parts: int, workers) -> Run:
    """The distinct states of the sorted ``runs`` as one run over ``parts`` balanced value ranges."""
    bounds = split_values(runs, parts)
    cuts = [cut(r, bounds) for r in runs]
    pieces = workers.map(lambda j: distinct_sorted(joined([c[j] for c in cuts])), range(parts))
    if len(pieces) == 1:
        return Run(pieces, pieces[0])
    return Run.written([len(p) for p in pieces], lambda j, out: np.copyto(out, pieces[j]), workers)
