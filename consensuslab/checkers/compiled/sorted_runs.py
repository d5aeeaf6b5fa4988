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

States wider than 64 bits are rows of words ordered by their order key
(``words.py``); a run keeps its states' keys beside them, and value ranges
are ranges of keys.
"""

from __future__ import annotations

import numpy as np

from consensuslab.checkers.compiled import words
from consensuslab.checkers.compiled.words import order_key

U64 = np.uint64
_EMPTY = np.zeros(0, dtype=U64)
#: merge the recent levels into the base once they hold this share of the base's states
MERGE_SHARE = 0.25
#: ... or once there are this many of them (each costs a search per candidate)
MAX_RECENT = 8
#: a level or a merge of fewer states is one value range, not one per task: below this, cutting and
#: handing ranges to threads cost more than they save (LamportMutex's levels of about 12,000 states ran
#: slower with two workers than with one)
SPLIT_FROM = 1 << 16


distinct_sorted = words.distinct_sorted


def joined(pieces: list[np.ndarray]) -> np.ndarray:
    kept = [p for p in pieces if len(p)]
    if not kept:
        return pieces[0][:0].copy() if pieces else _EMPTY.copy()
    return kept[0] if len(kept) == 1 else np.concatenate(kept)


def split_values(arrays: list[np.ndarray], parts: int) -> np.ndarray:
    """``parts - 1`` order keys cutting the states of ``arrays`` into ranges of about equal count."""
    total = sum(len(a) for a in arrays)
    step = max(1, total // 8192)
    sample = [order_key(a[::step]) for a in arrays if len(a)]
    if parts < 2 or not sample:
        return np.zeros(max(parts - 1, 0), dtype=U64)
    sample = np.sort(np.concatenate(sample))
    return sample[[len(sample) * j // parts for j in range(1, parts)]]


def cut(run: np.ndarray, bounds: np.ndarray, keys: np.ndarray | None = None) -> list[np.ndarray]:
    """``run`` (sorted; ``keys`` its order keys) as the pieces between consecutive bounds: views, no copy."""
    if not len(bounds):
        return [run]
    keys = order_key(run) if keys is None else keys
    edges = [0, *np.searchsorted(keys, bounds).tolist(), len(run)]
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

    __slots__ = ("pieces", "whole", "size", "keys")

    def __init__(self, pieces: list[np.ndarray], whole: np.ndarray | None = None):
        self.pieces = pieces
        self.whole = joined(pieces) if whole is None else whole
        self.size = len(self.whole)
        self.keys = order_key(self.whole)  # the states themselves for one word

    @classmethod
    def written(cls, sizes: list[int], fill, workers, buffer: np.ndarray | None = None, width: int = 1) -> "Run":
        """A run whose range ``j`` (``sizes[j]`` states) is written by ``fill(j, out)``, the ranges in parallel,
        into ``buffer`` when it is large enough."""
        total = sum(sizes)
        if buffer is None or len(buffer) < total:
            rows = total + total // 2 + total // 8  # room for the next merge
            buffer = np.empty(rows if width == 1 else (rows, width), dtype=U64)
        whole = buffer[:total]
        edges = np.cumsum([0, *sizes]).tolist()
        pieces = [whole[edges[j]:edges[j + 1]] for j in range(len(sizes))]
        workers.map(lambda j: fill(j, pieces[j]), range(len(sizes)))
        return cls(pieces, whole)

    def contains(self, cand: np.ndarray, keys: np.ndarray | None = None) -> np.ndarray:
        """Which of the sorted ``cand`` (whose order keys are ``keys``) are in this run."""
        return words.member(self.whole, self.keys, cand, order_key(cand) if keys is None else keys)

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
        keys = order_key(cand)
        for run in runs:
            if not len(cand):
                break
            new = ~run.contains(cand, keys)
            cand = cand[new]
            if cand.ndim > 1:
                keys = keys[new]
            else:
                keys = cand
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
        runs = [r for r in runs if r.size]
        parts = self.parts if sum(r.size for r in runs) >= SPLIT_FROM else 1
        bounds = split_values([r.whole for r in runs], parts)
        cuts = [cut(r.whole, bounds, r.keys) for r in runs]
        sizes = [sum(len(c[j]) for c in cuts) for j in range(parts)]

        def merge(j: int, out: np.ndarray) -> None:
            parts = [c[j] for c in cuts if len(c[j])]
            if parts:
                words.merge_sorted(parts, out)

        width = runs[0].whole.shape[1] if runs and runs[0].whole.ndim > 1 else 1
        if width > 1:
            buffer = None  # rows: a fresh array (the spare buffer is kept for one-word states)
        return Run.written(sizes, merge, workers, buffer, width)


def sorted_level(runs: list[np.ndarray], parts: int, workers) -> Run:
    """The distinct states of the sorted ``runs`` as one run over ``parts`` balanced value ranges (one, when they
    are fewer than ``SPLIT_FROM``)."""
    if sum(len(r) for r in runs) < SPLIT_FROM:
        parts = 1
    bounds = split_values(runs, parts)
    cuts = [cut(r, bounds) for r in runs]
    pieces = workers.map(lambda j: distinct_sorted(joined([c[j] for c in cuts])), range(parts))
    if len(pieces) == 1:
        return Run(pieces, pieces[0])
    width = pieces[0].shape[1] if pieces[0].ndim > 1 else 1
    return Run.written([len(p) for p in pieces], lambda j, out: np.copyto(out, pieces[j]), workers, width=width)
