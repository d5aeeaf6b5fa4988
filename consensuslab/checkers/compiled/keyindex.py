"""Rows of memo keys found by direct indexing, not by search: the look-up of the compiled level search.

A memo key is ``state & mask``.  Binary search over a table's sorted keys
(``np.searchsorted``) costs a chain of dependent loads per state, about 75 ns
for a 20,000-entry table on the machine the figures in ``levels.py`` come from,
and it was the largest kernel of the search after generating steps.  Here the
mask's bits are gathered into a small integer instead, with a few shifts and
ands per run of consecutive mask bits, and that integer indexes an array of
rows directly:

- a mask of at most ``DIRECT_BITS`` bits indexes a table of ``2**bits`` rows;
- a wider mask is cut into digits of at most ``DIGIT_BITS`` bits; each digit's
  values that occur in the keys are numbered, and the numbers index a dense
  table of the digits' product (a tuple field of 9 slots of 3 bits, whose slots
  take 4 values, is 27 bits but 4**9 combinations at most);
- when even that product is too large, sorted keys and ``np.searchsorted``.

Every operation is a numpy kernel that releases the GIL, so worker threads
run look-ups side by side.  The answer for a key the table lacks is -1.
States wider than 64 bits are rows of words (``words.py``): a digit's pieces
never straddle two words, and each reads its own word's column.
"""

from __future__ import annotations

import numpy as np

from consensuslab.checkers.compiled import words

U64 = np.uint64
#: masks of up to this many bits index a table of 2**bits rows directly (4 MB of int32 at most)
DIRECT_BITS = 20
#: the widest digit of a wider mask (its numbering table has 2**DIGIT_BITS entries)
DIGIT_BITS = 12
#: the largest dense table over numbered digits (entries)
DENSE_LIMIT = 1 << 22


def bit_runs(mask: int) -> list[tuple[int, int]]:
    """``mask``'s runs of consecutive one bits as ``(shift, width)``, lowest first."""
    runs = []
    shift = 0
    while mask:
        low = (mask & -mask).bit_length() - 1
        mask >>= low
        shift += low
        width = (~mask & (mask + 1)).bit_length() - 1
        runs.append((shift, width))
        mask >>= width
        shift += width
    return runs


def digits_of(mask: int, limit: int) -> list[list[tuple[int, int, int]]]:
    """The mask's bits as digits of at most ``limit`` bits: per digit, ``(shift, width, to)`` pieces.

    A piece takes ``width`` bits from ``shift`` of the state to bit ``to`` of its digit; no piece
    crosses a multiple of 64 bits (a word of a wide state).
    """
    digits: list[list[tuple[int, int, int]]] = [[]]
    used = 0
    for shift, width in bit_runs(mask):
        while width:
            if used == limit:
                digits.append([])
                used = 0
            take = min(width, limit - used, words.WORD - shift % words.WORD)
            digits[-1].append((shift, take, used))
            used += take
            shift += take
            width -= take
    return digits if digits[0] else []


class Extractor:
    """Gathers one digit's bits of many states into a small integer: a software ``pext``."""

    __slots__ = ("pieces", "bits")

    def __init__(self, pieces: list[tuple[int, int, int]]):
        self.pieces = [(shift // words.WORD, U64(shift % words.WORD), U64((1 << width) - 1), U64(to))
                       for shift, width, to in pieces]
        self.bits = sum(width for _, width, _ in pieces)

    def __call__(self, states: np.ndarray, out: np.ndarray | None = None, tmp: np.ndarray | None = None) -> np.ndarray:
        if out is None:
            out = np.empty(len(states), dtype=U64)
        first = True
        wide = states.ndim > 1
        for word, shift, ones, to in self.pieces:
            target = out if first else (tmp if tmp is not None else np.empty(len(states), dtype=U64))
            np.right_shift(states[:, word] if wide else states, shift, out=target)
            np.bitwise_and(target, ones, out=target)
            if to:
                np.left_shift(target, to, out=target)
            if not first:
                np.bitwise_or(out, target, out=out)
            first = False
        if first:
            out[:] = 0
        return out


class KeyIndex:
    """The row of each state's key among ``keys`` (row ``i`` holds ``keys[i]``), -1 where it is missing."""

    __slots__ = ("mask", "kind", "extract", "table", "digit_ids", "size", "sorted_keys", "sorted_order", "order",
                 "u64mask")

    def __init__(self, mask: int, keys: np.ndarray):
        self.mask = mask
        self.u64mask = words.as_row(mask, 1 if keys.ndim == 1 else keys.shape[1])
        rows = np.arange(len(keys), dtype=np.int32)
        bits = mask.bit_count()
        if bits <= DIRECT_BITS:
            self.kind = "direct"
            self.extract = [Extractor(p) for p in digits_of(mask, max(bits, 1))]
            self.table = np.full(1 << bits, -1, dtype=np.int32)
            if len(keys):
                self.table[self._digit(0, keys) if self.extract else np.zeros(len(keys), np.int64)] = rows
            return
        self.extract = [Extractor(p) for p in digits_of(mask, DIGIT_BITS)]
        values = [self._digit(k, keys) for k in range(len(self.extract))]
        distinct = [np.unique(v) for v in values]
        size = 1
        for d in distinct:
            size *= max(len(d), 1)
        if size <= DENSE_LIMIT:
            self.kind = "dense"
            self.digit_ids = []
            stride = 1
            compact = np.zeros(len(keys), dtype=np.int64)
            for ex, d, v in zip(reversed(self.extract), reversed(distinct), reversed(values)):
                # a digit value no key has sends the sum below zero: -2**40 outweighs every stride
                ids = np.full(1 << ex.bits, -(1 << 40), dtype=np.int64)
                ids[d.astype(np.int64)] = np.arange(len(d), dtype=np.int64) * stride
                compact += ids[v.astype(np.int64)]
                self.digit_ids.append(ids)
                stride *= max(len(d), 1)
            self.digit_ids.reverse()
            self.size = size
            self.table = np.full(size + 1, -1, dtype=np.int32)  # entry ``size``: any missing digit
            self.table[compact] = rows
            return
        self.kind = "sorted"
        order_keys = words.order_key(keys)
        self.order = np.argsort(order_keys, kind="stable").astype(np.int32)
        self.sorted_keys = keys[self.order]
        self.sorted_order = order_keys[self.order]

    def _digit(self, k: int, keys: np.ndarray) -> np.ndarray:
        return self.extract[k](keys).astype(np.int64)

    def add(self, keys: np.ndarray, first_row: int) -> bool:
        """Take in more keys (rows from ``first_row`` on) in place; False when the index must be rebuilt.

        Why: a memo table gains a few thousand keys a level, and a rebuild
        costs the whole table (for a direct index, ``2**bits`` entries) however
        few keys are new.  In place works while every digit value is one the
        index numbered.
        """
        if self.kind == "sorted" or not len(keys):
            return not len(keys)
        rows = np.arange(first_row, first_row + len(keys), dtype=np.int32)
        if self.kind == "direct":
            self.table[self._digit(0, keys) if self.extract else np.zeros(len(keys), np.int64)] = rows
            return True
        compact = np.zeros(len(keys), dtype=np.int64)
        for k, ids in enumerate(self.digit_ids):
            compact += ids[self._digit(k, keys)]
        if compact.min() < 0:
            return False
        self.table[compact] = rows
        return True

    def rows(self, states: np.ndarray) -> np.ndarray:
        """Each state's row, or -1 where the table lacks its key."""
        n = len(states)
        if self.kind == "direct":
            if not self.extract:
                return self.table[np.zeros(n, dtype=np.int64)]
            buf, tmp = np.empty(n, dtype=U64), np.empty(n, dtype=U64)
            return self.table[self.extract[0](states, buf, tmp).view(np.int64)]
        if self.kind == "dense":
            buf, tmp = np.empty(n, dtype=U64), np.empty(n, dtype=U64)
            acc = np.zeros(n, dtype=np.int64)
            for ex, ids in zip(self.extract, self.digit_ids):
                acc += ids[ex(states, buf, tmp).view(np.int64)]
            np.putmask(acc, acc < 0, self.size)
            return self.table[acc]
        pos = words.locate(self.sorted_keys, self.sorted_order, states & self.u64mask)
        out = self.order[np.maximum(pos, 0)] if len(self.order) else np.zeros(n, dtype=np.int32)
        out[pos < 0] = -1
        return out
