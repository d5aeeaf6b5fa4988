"""States wider than 64 bits as rows of words: sorting, removing repeats and look-ups are exact.

The order key of a row is a 64-bit mix of its words, so different rows may
share one; the tests also run with a key that ties on purpose (two bits of
the first word), so that every tie-breaking path is taken.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from consensuslab import check
from consensuslab.checkers.compiled import filling, sorted_runs, words
from consensuslab.checkers.compiled.keyindex import KeyIndex
from consensuslab.checkers.compiled.sorted_runs import Seen, sorted_level
from consensuslab.protocols.paxos import Paxos

U64 = np.uint64
WIDE = st.integers(0, 2 ** 150 - 1)


class Serial:
    n = 1

    @staticmethod
    def map(fn, items):
        return [fn(x) for x in items]


@pytest.fixture(params=["mixed", "tied"])
def keys(request, monkeypatch):
    if request.param == "tied":
        real = words.order_key
        monkeypatch.setattr(words, "order_key",
                            lambda s: s if s.ndim == 1 else real(s) & U64(3))
        monkeypatch.setattr(sorted_runs, "order_key", words.order_key)
    return request.param


def test_ints_round_trip_through_rows():
    values = [0, 1, 2 ** 64 - 1, 2 ** 64, 2 ** 150 - 1, 12345 << 70]
    rows = words.from_ints(values, 3)
    assert rows.shape == (6, 3) and words.to_ints(rows) == values
    assert words.words_for(64) == 1 and words.words_for(65) == 2 and words.words_for(0) == 1


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.lists(WIDE, max_size=40), min_size=1, max_size=8), st.integers(1, 4))
def test_wide_seen_is_a_set(keys, levels, parts):
    """As ``test_sorted_runs.test_seen_is_a_set``, on rows of three words, with keys that may tie."""
    seen, model = Seen(parts), set()
    for values in levels:
        cand = words.distinct_sorted(words.from_ints(values, 3))
        assert sorted(words.to_ints(cand)) == sorted(set(values))  # no repeats, none lost
        fresh = seen.unseen(cand, seen.runs())
        assert sorted(words.to_ints(fresh)) == sorted(set(values) - model)
        level = sorted_level([fresh], parts, Serial)
        model |= set(values)
        seen.add(level, Serial)
        held = [v for r in seen.runs() for v in words.to_ints(r.states())]
        assert sorted(held) == sorted(model) and len(held) == len(model)
        for run in seen.runs():  # every run in order: keys never fall, tied keys in the order of their words
            order = words.order_key(run.states())
            assert (order[1:] >= order[:-1]).all()
            assert len(run.states()) == 0 or words.to_ints(words.sort_states(run.states())) == \
                words.to_ints(run.states())


@settings(max_examples=60, deadline=None)
@given(st.lists(WIDE, min_size=1, max_size=40, unique=True), st.integers(1, 2 ** 150 - 1), st.lists(WIDE, max_size=20))
def test_key_index_on_rows(table, mask, probes):
    """A memo table keyed on bits of wide states answers each state's row, -1 for a key it lacks."""
    keyed = {}
    for v in table:
        keyed.setdefault(v & mask, len(keyed))
    index = KeyIndex(mask, words.from_ints(list(keyed), 3))
    rows = index.rows(words.from_ints(table + probes, 3)).tolist()
    assert rows == [keyed.get(v & mask, -1) for v in table + probes]


def test_paxos_searches_levels_of_two_words_with_the_interpreted_counts():
    model = Paxos({"ballots": 3}).compile()
    model.invariants = [p for p in model.invariants if p.name == "Consistency"]
    compiled = check(model, progress=False, engine="compiled", max_depth=9)
    plain = check(model, progress=False, engine="interpreted", max_depth=9)
    assert compiled.extra["compiled"]["state_bits"] > 64 and compiled.extra["compiled"]["search"] == "levels"
    assert (compiled.status, compiled.distinct_states, compiled.states_generated, compiled.depth) == \
        (plain.status, plain.distinct_states, plain.states_generated, plain.depth)


def _least_per_key_by_dict(states: list[int], mask: int) -> list[int]:
    """The first state of each key, keys in the order of their words (word 0 first), as the memo traces them."""
    least: dict[int, int] = {}
    for s in states:
        least.setdefault(s & mask, s)
    return [least[k] for k in sorted(least, key=lambda k: [(k >> (64 * j)) & (2 ** 64 - 1) for j in range(3)])]


@settings(max_examples=60, deadline=None)
@given(st.lists(WIDE, min_size=1, max_size=60), st.integers(0, 2 ** 150 - 1), st.booleans())
def test_least_state_per_key_on_rows(values, mask, collide):
    """Each key's least state, in the keys' order; with every key given one mix, the exact fallback answers."""
    states = words.sort_states(words.from_ints(values, 3))
    saved = filling.order_key
    if collide:
        filling.order_key = lambda rows: np.zeros(len(rows), dtype=np.uint64)
    try:
        got = filling._least_per_key(states, mask)
    finally:
        filling.order_key = saved
    assert got == _least_per_key_by_dict(words.to_ints(states), mask)
