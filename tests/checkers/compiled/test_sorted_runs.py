"""The seen-set of the level search behaves as a Python set, whatever its merges and its number of ranges."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from consensuslab.checkers.compiled import sorted_runs
from consensuslab.checkers.compiled.sorted_runs import (
    Run,
    Seen,
    balanced,
    cut,
    distinct_sorted,
    sorted_level,
    split_values,
)

U64 = np.uint64


class Serial:
    n = 1

    @staticmethod
    def map(fn, items):
        return [fn(x) for x in items]


def arr(values) -> np.ndarray:
    return np.array(sorted(values), dtype=U64)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.lists(st.integers(0, 2 ** 64 - 1), max_size=60), min_size=1, max_size=12),
       st.integers(1, 5), st.sampled_from([0.1, 0.25, 1.0]), st.integers(1, 4))
def test_seen_is_a_set(levels, parts, share, max_recent):
    """Levels go in one after another; every candidate is judged new or seen exactly as a set would."""
    saved = sorted_runs.MERGE_SHARE, sorted_runs.MAX_RECENT, sorted_runs.SPLIT_FROM
    sorted_runs.MERGE_SHARE, sorted_runs.MAX_RECENT = share, max_recent
    sorted_runs.SPLIT_FROM = 0  # small levels cut into ranges as large ones are
    try:
        seen, model = Seen(parts), set()
        for values in levels:
            cand = distinct_sorted(np.array(values, dtype=U64))
            fresh = seen.unseen(cand, seen.runs())
            assert fresh.tolist() == sorted(set(values) - model)
            level = sorted_level([fresh], parts, Serial)
            assert level.states().tolist() == sorted(set(values) - model)
            model |= set(values)
            seen.add(level, Serial)
            held = sorted(v for r in seen.runs() for v in r.states().tolist())
            assert held == sorted(model)  # no state twice, none lost, in whatever mix of base and recent runs
            assert len(seen.recent) <= max_recent
    finally:
        sorted_runs.MERGE_SHARE, sorted_runs.MAX_RECENT, sorted_runs.SPLIT_FROM = saved


@settings(max_examples=100, deadline=None)
@given(st.lists(st.lists(st.integers(0, 2 ** 40), max_size=50), max_size=6), st.integers(1, 6))
def test_a_level_from_overlapping_runs(runs, parts):
    """Runs (sorted, overlapping, with repeats between them) become one sorted set over balanced ranges."""
    arrays = [distinct_sorted(np.array(r, dtype=U64)) for r in runs]
    saved, sorted_runs.SPLIT_FROM = sorted_runs.SPLIT_FROM, 0  # small levels cut into ranges as large ones are
    try:
        level = sorted_level(arrays, parts, Serial)
    finally:
        sorted_runs.SPLIT_FROM = saved
    everything = sorted({v for r in runs for v in r})
    assert level.states().tolist() == everything and level.size == len(everything)
    assert len(level.pieces) == parts
    edges = [p for p in level.pieces if len(p)]
    assert all(a[-1] < b[0] for a, b in zip(edges, edges[1:]))  # ranges in order, disjoint


def test_a_run_answers_membership_over_its_ranges():
    values = np.arange(0, 1000, 3, dtype=U64)
    bounds = split_values([values], 4)
    run = Run(cut(values, bounds))
    cand = np.arange(0, 1002, dtype=U64)
    assert run.contains(cand).tolist() == [v % 3 == 0 and v < 1000 for v in range(1002)]
    assert len(run.pieces) == 4 and run.size == len(values)


def test_balanced_parts_cover_the_pieces_in_order():
    pieces = [np.arange(5, dtype=U64), np.arange(5, 7, dtype=U64), np.arange(7, 20, dtype=U64)]
    parts = balanced(pieces, 3)
    assert [sum(len(p) for p in part) for part in parts] == [6, 7, 7]
    assert np.concatenate([p for part in parts for p in part]).tolist() == list(range(20))


def test_merges_write_over_the_buffers_of_the_base_before_last():
    """A merge that fits in the buffer of the base before last writes there instead of a fresh array."""
    seen, start = Seen(1), 0
    for size in (100, 100, 100, 80):  # each level a quarter of the base or more: merged every time
        seen.add(Run([np.arange(start, start + size, dtype=U64)]), Serial)
        start += size
    assert not seen.recent and seen.base.size == 380
    spare = seen.spare
    assert len(spare) >= 480  # bases get room to grow, so the next merge fits
    seen.add(Run([np.arange(start, start + 100, dtype=U64)]), Serial)
    assert seen.base.whole.base is spare
    assert seen.base.states().tolist() == list(range(480))


def test_a_small_level_is_one_range_however_many_tasks():
    runs = [arr(range(0, 3000, 3)), arr(range(1, 3000, 2))]
    level = sorted_level(runs, 8, Serial)
    assert len(level.pieces) == 1
    assert level.states().tolist() == sorted(set(range(0, 3000, 3)) | set(range(1, 3000, 2)))
    big = [arr(range(0, 2 * sorted_runs.SPLIT_FROM, 2))]
    assert len(sorted_level(big, 8, Serial).pieces) == 8
