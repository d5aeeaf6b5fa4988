"""Memo look-ups give exactly what a dict of the keys gives, in all three of their forms."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from consensuslab.checkers.compiled import keyindex, words
from consensuslab.checkers.compiled.keyindex import KeyIndex, bit_runs, digits_of

BITS = st.lists(st.integers(0, 63), unique=True, max_size=40)


def looked_up(mask: int, keys: list[int], states: list[int]) -> list[int]:
    index = KeyIndex(mask, np.array(keys, dtype=np.uint64))
    return index.kind, index.rows(np.array(states, dtype=np.uint64)).tolist()


def expected(mask: int, keys: list[int], states: list[int]) -> list[int]:
    row = {k: i for i, k in enumerate(keys)}
    return [row.get(s & mask, -1) for s in states]


@st.composite
def tables(draw):
    """A mask, the distinct keys of some states under it, and states to look up (many with known keys)."""
    mask = sum(1 << b for b in draw(BITS))
    pool = draw(st.lists(st.integers(0, 2 ** 64 - 1), min_size=1, max_size=300))
    narrow = draw(st.booleans())  # few values per bit run: the dense form
    if narrow:
        pool = [p & draw(st.sampled_from([0x0F0F0F0F0F0F0F0F, 0x3333333333333333, 0x0101010101010101])) for p in pool]
    keys = list(dict.fromkeys(p & mask for p in pool))
    keys = keys[:draw(st.integers(0, len(keys)))]
    states = pool + draw(st.lists(st.integers(0, 2 ** 64 - 1), max_size=100))
    return mask, keys, states


@settings(max_examples=300, deadline=None)
@given(tables())
def test_rows_are_the_rows_of_a_dict(table):
    mask, keys, states = table
    _, rows = looked_up(mask, keys, states)
    assert rows == expected(mask, keys, states)


@settings(max_examples=100, deadline=None)
@given(tables(), st.sampled_from([0, 4, 12]), st.sampled_from([1 << 6, 1 << 12, 1 << 22]))
def test_every_form_agrees(table, direct_bits, dense_limit):
    """Force each form (direct table, dense digits, hashed keys) by moving the thresholds."""
    mask, keys, states = table
    saved = keyindex.DIRECT_BITS, keyindex.DENSE_LIMIT
    keyindex.DIRECT_BITS, keyindex.DENSE_LIMIT = direct_bits, dense_limit
    try:
        _, rows = looked_up(mask, keys, states)
    finally:
        keyindex.DIRECT_BITS, keyindex.DENSE_LIMIT = saved
    assert rows == expected(mask, keys, states)


def test_each_form_is_reached():
    rng = np.random.default_rng(7)
    states = rng.integers(0, 2 ** 63, 5000, dtype=np.uint64)
    small = 0xFFF0
    assert KeyIndex(small, np.unique(states & np.uint64(small))).kind == "direct"
    slots = 0o777777777  # nine 3-bit slots holding only 0..3: 27 bits, 4**9 combinations at most
    narrow = states & np.uint64(0o333333333)
    assert KeyIndex(slots, np.unique(narrow)).kind == "dense"
    wide = (1 << 60) - 1
    assert KeyIndex(wide, np.unique(states & np.uint64(wide))).kind == "hashed"


def test_bit_runs_and_digits():
    assert bit_runs(0) == []
    assert bit_runs(0b1110011) == [(0, 2), (4, 3)]
    assert bit_runs(1 << 63) == [(63, 1)]
    digits = digits_of((1 << 30) - 1, 12)
    assert [sum(w for _, w, _ in d) for d in digits] == [12, 12, 6]
    assert digits[1] == [(12, 12, 0)]
    assert digits_of(0, 12) == []


@settings(max_examples=150, deadline=None)
@given(tables(), st.integers(1, 4))
def test_keys_added_in_place_or_rebuilt_give_the_same_rows(table, pieces):
    """Keys arriving in batches (as a memo learns them) are found as if indexed all at once."""
    mask, keys, states = table
    batches = [keys[len(keys) * j // pieces:len(keys) * (j + 1) // pieces] for j in range(pieces)]
    index = KeyIndex(mask, np.array(batches[0], dtype=np.uint64))
    held = len(batches[0])
    for batch in batches[1:]:
        arr = np.array(batch, dtype=np.uint64)
        if not index.add(arr, held):
            index = KeyIndex(mask, np.array(keys[:held + len(batch)], dtype=np.uint64))
        held += len(batch)
    assert index.rows(np.array(states, dtype=np.uint64)).tolist() == expected(mask, keys, states)


@pytest.mark.parametrize("width", [1, 3])
def test_hashed_keys_grow_in_place_through_many_batches(width):
    """Thousands of keys arriving in batches (the table doubles several times), on one word and on rows of three
    words, found exactly; keys that share their low bits crowd the same slots."""
    rng = np.random.default_rng(11)
    mask = (1 << 62) - 1 if width == 1 else ((1 << 40) - 1) << 30 | ((1 << 20) - 1) << 140
    base = [int(x) for x in rng.integers(0, 2 ** 62, 6000, dtype=np.uint64)]
    values = [(b << 70 | b << 130 | b) if width > 1 else b for b in base] + [i << 40 for i in range(1, 800)]
    keys = list(dict.fromkeys(v & mask for v in values))
    index = KeyIndex(mask, words.from_ints(keys[:100], width))
    assert index.kind == "hashed"
    held = 100
    while held < len(keys):
        batch = keys[held:held + 997]
        assert index.add(words.from_ints(batch, width), held)
        held += len(batch)
    probes = values + [int(x) for x in rng.integers(0, 2 ** 62, 500, dtype=np.uint64)]
    assert index.rows(words.from_ints(probes, width)).tolist() == expected(mask, keys, probes)


def test_few_keys_over_many_digit_values_are_hashed_until_dense_enough():
    """A wide key whose few keys spread over many digit values gets no dense table of a million entries (it was
    rebuilt whole at each new digit value); once its keys double into a dense enough table, the index is dense."""
    rng = np.random.default_rng(3)
    mask = (1 << 36) - 1  # three 12-bit digits
    values = [rng.choice(1 << 12, 100, replace=False) for _ in range(3)]  # 100 values a digit: 10**6 combinations

    def key(i: int) -> int:
        return int(values[0][i % 100]) | int(values[1][i // 100 % 100]) << 12 | int(values[2][i // 10000]) << 24

    keys = [key(i) for i in range(0, 10 ** 6, 9973)][:100]
    index = KeyIndex(mask, np.array(keys, dtype=np.uint64))
    assert index.kind == "hashed" and index.hashed.table.size <= 1 << 10  # not 10**6 entries
    more = list(dict.fromkeys(keys + [key(i) for i in range(20000)]))
    held = len(keys)
    while held < len(more):
        batch = more[held:held + 1000]
        if not index.add(np.array(batch, dtype=np.uint64), held):
            index = KeyIndex(mask, np.array(more[:held + len(batch)], dtype=np.uint64))
        held += len(batch)
    assert index.kind == "dense"
    probes = more + [int(x) for x in rng.integers(0, 1 << 36, 500, dtype=np.uint64)]
    assert index.rows(np.array(probes, dtype=np.uint64)).tolist() == expected(mask, more, probes)


def test_raft_written_with_actions_over_the_messages_in_flight_counts_as_raft_on_both_engines():
    """The benchmark of a message bag read by a row per message (``benchmarks/raft_domains.py``): the bundled
    raft's states and the same counterexample-free verdict on either engine."""
    from consensuslab import check
    from consensuslab.loader import load_file
    from consensuslab.protocols.raft import Raft

    from paths import BENCHMARKS

    domains = load_file(str(BENCHMARKS / "raft_domains.py"))
    expected = check(Raft.configure(scenario="tiny").compile(), engine="interpreted", progress=False)
    for engine in ("interpreted", "compiled"):
        got = check(domains.configure(scenario="tiny").compile(), engine=engine, progress=False)
        assert (got.status, got.distinct_states, got.extra["engine"]) == ("ok", expected.distinct_states, engine)
    assert expected.distinct_states == 3599
