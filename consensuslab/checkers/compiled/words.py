"""Packed states wider than 64 bits as rows of 64-bit words, for the numpy level search.

A state of at most 64 bits is one ``uint64`` and an array of them is 1-D, as
before.  A wider state is a row of ``k`` words (word ``j`` holds bits
``64j .. 64j+63``), an array of them is ``(n, k)``, and everything the level
search does with states works on rows: ``state & keep | bits`` broadcasts,
indexing and concatenation take whole rows.  What does not carry over is
order, so this module gives it: sorting, removing repeats and looking states
up in a sorted run.

Why not sort rows lexicographically: ``np.lexsort`` over two words took 4.5
times a one-word sort (400,000 states), and sorting the rows as 16-byte
strings 3 times.  So wide states are ordered by a 64-bit mix of their words,
the *order key* (sorted with one ``argsort``), and rows whose keys tie are put
in the order of their words.  Two different rows share a key about once in
2**64 pairs, but that is not never, so every look-up compares whole rows and
scans the rows of a tied key: exact, like the one-word search.  For one word
the order key is the state itself, so narrow states keep their numeric order.
"""

from __future__ import annotations

import numpy as np

from consensuslab.checkers.compiled.packing import WORD

U64 = np.uint64
_ONES = (1 << WORD) - 1
#: odd 64-bit constants of the mix (from splitmix64 and xxHash)
_MIX = (U64(0x9E3779B97F4A7C15), U64(0xC2B2AE3D27D4EB4F), U64(0x165667B19E3779F9), U64(0xD6E8FEB86659FD93))


def words_for(bits: int) -> int:
    """Words a state of ``bits`` bits takes (at least one)."""
    return max(1, -(-bits // WORD))


def empty(k: int) -> np.ndarray:
    return np.zeros(0 if k == 1 else (0, k), dtype=U64)


def from_ints(values, k: int) -> np.ndarray:
    """Python ints as states: 1-D for one word, else rows of ``k`` words."""
    values = list(values)
    if k == 1:
        return np.fromiter(values, dtype=U64, count=len(values))
    out = np.empty((len(values), k), dtype=U64)
    for j in range(k):
        shift = WORD * j
        out[:, j] = np.fromiter(((v >> shift) & _ONES for v in values), dtype=U64, count=len(values))
    return out


def to_ints(states: np.ndarray) -> list[int]:
    """States as Python ints."""
    if states.ndim == 1:
        return states.tolist()
    out = []
    for row in states.tolist():
        v = 0
        for j, w in enumerate(row):
            v |= w << (WORD * j)
        out.append(v)
    return out


def as_row(value: int, k: int):
    """One Python int as a value that broadcasts against states (a scalar or a row)."""
    return U64(value) if k == 1 else from_ints([value], k)[0]


def holding_any(states: np.ndarray, mask: int) -> np.ndarray:
    """Whether each state has one of the bits of ``mask``."""
    if states.ndim == 1:
        return (states & U64(mask)) != 0
    return (states & as_row(mask, states.shape[1])).any(axis=1)


def order_key(states: np.ndarray) -> np.ndarray:
    """The 64-bit key states are ordered by: the state itself for one word, a mix of the words for more."""
    if states.ndim == 1:
        return states
    k = states.shape[1]
    h = states[:, 0] * _MIX[0]
    for j in range(1, k):
        h ^= h >> U64(31)
        h += states[:, j] * _MIX[j % len(_MIX)]
    h ^= h >> U64(29)
    h *= _MIX[1]
    h ^= h >> U64(32)
    return h


def _tied_in_word_order(rows: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """``rows`` (ordered by ``keys``) with each run of tied keys put in the order of its rows' words.

    Only different rows with one key need it (about never); repeats of a row are next to each other
    either way once this is done, so that removing repeats compares neighbours only.
    """
    tied = np.flatnonzero(keys[1:] == keys[:-1])
    starts = tied[np.concatenate(([True], tied[1:] != tied[:-1] + 1))]
    for start in starts.tolist():
        end = start + 1
        while end < len(keys) and keys[end] == keys[start]:
            end += 1
        group = rows[start:end]
        rows[start:end] = group[np.lexsort(group.T[::-1])]
    return rows


def distinct_sorted(cand: np.ndarray) -> np.ndarray:
    """``cand`` in order without repeats (one word: sorted in place)."""
    if cand.ndim == 1:
        cand.sort()
        if len(cand) < 2:
            return cand
        keep = np.ones(len(cand), dtype=bool)
        np.not_equal(cand[1:], cand[:-1], out=keep[1:])
        return cand[keep]
    if len(cand) < 2:
        return cand
    keys = order_key(cand)
    order = np.argsort(keys)
    keys = keys[order]
    repeat = np.empty(len(keys), dtype=bool)  # the key of the one before
    repeat[0] = False
    np.equal(keys[1:], keys[:-1], out=repeat[1:])
    tied = np.flatnonzero(repeat)
    if not len(tied) or _all_repeats(cand, order[tied], order[tied - 1]):
        # only the distinct rows are gathered: most of a level's successors are repeats (PaxosCommit: 2.5 s of
        # a profiled 8.7 s run sorting them, with every row gathered and compared whole)
        return cand[order[~repeat]]
    rows = _tied_in_word_order(cand[order], keys)  # two different rows with one key: about never
    tied -= 1  # each repeat's row before it
    same = np.all(rows[tied + 1] == rows[tied], axis=1)
    keep = np.ones(len(rows), dtype=bool)
    keep[tied[same] + 1] = False
    return rows[keep]


def _all_repeats(rows: np.ndarray, these: np.ndarray, those: np.ndarray) -> bool:
    """Whether ``rows[these]`` equal ``rows[those]``, word by word (a column gathered at a time)."""
    same = np.ones(len(these), dtype=bool)
    for j in range(rows.shape[1]):
        column = rows[:, j]
        same &= column[these] == column[those]
    return bool(same.all())


def sort_states(states: np.ndarray) -> np.ndarray:
    """Distinct ``states`` in order (a copy)."""
    return distinct_sorted(states.copy())


def merge_sorted(parts: list[np.ndarray], out: np.ndarray | None = None) -> np.ndarray:
    """The disjoint sorted ``parts`` as one sorted array (into ``out`` when given)."""
    if parts and parts[0].ndim == 1:
        if out is None:
            out = np.concatenate(parts)
        else:
            np.concatenate(parts, out=out)
        out.sort(kind="stable")  # sorted runs: merged
        return out
    rows = np.concatenate(parts)
    keys = order_key(rows)
    order = np.argsort(keys, kind="stable")
    rows = rows[order]
    keys = keys[order]
    if len(keys) > 1 and (keys[1:] == keys[:-1]).any():
        rows = _tied_in_word_order(rows, keys)
    if out is not None:
        out[...] = rows
        return out
    return rows


def member(run: np.ndarray, run_keys: np.ndarray, cand: np.ndarray, cand_keys: np.ndarray) -> np.ndarray:
    """Which of ``cand`` are in the sorted ``run`` (whose order keys are ``run_keys``)."""
    n = len(run)
    if not n or not len(cand):
        return np.zeros(len(cand), dtype=bool)
    pos = np.searchsorted(run_keys, cand_keys)
    np.minimum(pos, n - 1, out=pos)
    found = run_keys[pos] == cand_keys
    if cand.ndim == 1:
        return found
    hits = np.flatnonzero(found)
    same = np.all(run[pos[hits]] == cand[hits], axis=1)
    pending = hits[~same]
    found[pending] = False
    at = pos[pending] + 1
    while len(pending):  # a key shared by different rows: look at the next rows with that key
        inside = at < n
        pending, at = pending[inside], at[inside]
        tied = run_keys[at] == cand_keys[pending]
        pending, at = pending[tied], at[tied]
        same = np.all(run[at] == cand[pending], axis=1)
        found[pending[same]] = True
        pending, at = pending[~same], at[~same] + 1
    return found


def equal_to(states: np.ndarray, value) -> np.ndarray:
    """Which of ``states`` equal the state ``value`` (as ``as_row`` gives it)."""
    return states == value if states.ndim == 1 else np.all(states == value, axis=1)


def least(states: np.ndarray) -> int:
    """The first of ``states`` in order, as an int."""
    return to_ints(sort_states(states)[:1])[0]
