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
- when even that product is too large, a hash table of the keys (open
  addressing over a mix of the key's words, ``HashedKeys``).  Binary search
  over sorted keys took 183 ns a state there (MultiPaxos, 2 words, 110,000
  keys: 3.2 s of a 19 s run), and a sorted table is rebuilt whole for every
  batch of new keys; a probe costs a gather or two and the table grows in place.

Every operation is a numpy kernel that releases the GIL, so worker threads
run look-ups side by side.  The answer for a key the table lacks is -1.
States wider than 64 bits are rows of words (``words.py``): a digit's pieces
never straddle two words, and each reads its own word's column.
"""

from __future__ import annotations

import numpy as np

from consensuslab.checkers.compiled import words

U64 = np.uint64
_ONES = (1 << words.WORD) - 1
#: odd 64-bit multipliers of the slot mix (splitmix64's and xxHash's)
_MIX = (U64(0x9E3779B97F4A7C15), U64(0xC2B2AE3D27D4EB4F), U64(0x165667B19E3779F9), U64(0xD6E8FEB86659FD93))
#: masks of up to this many bits index a table of 2**bits rows directly (4 MB of int32 at most)
DIRECT_BITS = 20
#: the widest digit of a wider mask (its numbering table has 2**DIGIT_BITS entries)
DIGIT_BITS = 12
#: the largest dense table over numbered digits (entries)
DENSE_LIMIT = 1 << 22
#: a dense table has at most this many entries a key, beyond ``DENSE_FLOOR``; sparser keys are hashed.  Why: a
#: wide key whose few keys spread over many digit values made a table of millions of entries for a few hundred
#: keys, rebuilt whole whenever a key brought a new digit value (``benchmarks/raft_domains.py``, a row per message
#: of its bag: 318 action groups; 5.3 s of a profiled 14 s building indexes, 2.5 GB in all)
DENSE_PER_KEY = 64
DENSE_FLOOR = 1 << 16


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

    __slots__ = ("mask", "kind", "extract", "table", "digit_ids", "size", "hashed", "sparse")

    def __init__(self, mask: int, keys: np.ndarray):
        self.mask = mask
        self.sparse = False  # hashed because its keys were too few for a dense table (``add`` looks again)
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
        if size <= DENSE_LIMIT and size <= DENSE_FLOOR + DENSE_PER_KEY * len(keys):
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
        self.kind = "hashed"
        self.sparse = size <= DENSE_LIMIT
        self.hashed = HashedKeys(mask, keys)

    def _digit(self, k: int, keys: np.ndarray) -> np.ndarray:
        return self.extract[k](keys).astype(np.int64)

    def add(self, keys: np.ndarray, first_row: int) -> bool:
        """Take in more keys (rows from ``first_row`` on) in place; False when the index must be rebuilt.

        Why: a memo table gains a few thousand keys a level, and a rebuild
        costs the whole table (for a direct index, ``2**bits`` entries) however
        few keys are new.  In place works while every digit value is one the
        index numbered.
        """
        if not len(keys):
            return True
        if self.kind == "hashed":
            before = self.hashed.count
            self.hashed.add(keys, first_row)
            # sparse keys that doubled may be dense enough now: rebuilt, the kind is chosen again (once a doubling)
            return not (self.sparse and before.bit_length() < self.hashed.count.bit_length())
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
        return self.hashed.rows(states)


class HashedKeys:
    """Rows of keys by open addressing: a key's slot is the top bits of a mix of its masked words, and a
    collision takes the next free slot (linear probing), the table kept at most half full.

    Each round of a look-up is a few numpy passes over the states still probing: one gather of the table,
    one of each key word, a comparison.  At half load most states end in the first round.  Exact: a slot's
    row is only a candidate until its key's words compare equal.
    """

    __slots__ = ("masks", "columns", "keys", "table", "shift", "count")

    def __init__(self, mask: int, keys: np.ndarray):
        k = 1 if keys.ndim == 1 else keys.shape[1]
        #: the words the mask touches (a key's other words are zero), and each one's part of the mask
        self.columns = [j for j in range(k) if (mask >> (words.WORD * j)) & _ONES]
        self.masks = [U64((mask >> (words.WORD * j)) & _ONES) for j in self.columns]
        self.keys = self._words(keys)
        self.count = len(keys)
        self._build(max(len(keys), 1))

    def _words(self, states: np.ndarray) -> list[np.ndarray]:
        if states.ndim == 1:
            return [states & m for m in self.masks] if self.columns else []
        return [states[:, j] & m for j, m in zip(self.columns, self.masks)]

    def _slots(self, key_words: list[np.ndarray], n: int) -> np.ndarray:
        h = np.zeros(n, dtype=U64)
        for i, w in enumerate(key_words):
            h ^= w
            h *= _MIX[i % len(_MIX)]
            h ^= h >> U64(29)
        h *= _MIX[0]
        return (h >> self.shift).astype(np.int64)

    def _build(self, wanted: int) -> None:
        """A table of at least twice ``wanted`` slots, every key placed."""
        bits = max(10, (2 * wanted - 1).bit_length())
        self.shift = U64(words.WORD - bits)
        self.table = np.full(1 << bits, -1, dtype=np.int32)
        self._place(np.arange(self.count, dtype=np.int32), self._slots(self.keys, self.count))

    def _place(self, rows: np.ndarray, slots: np.ndarray) -> None:
        """Put ``rows`` at their slots, or the next free ones; where several want one slot, the first takes it."""
        last = len(self.table) - 1
        while len(rows):
            free = np.flatnonzero(self.table[slots] < 0)
            _, first = np.unique(slots[free], return_index=True)
            won = free[first]
            self.table[slots[won]] = rows[won]
            left = np.ones(len(rows), dtype=bool)
            left[won] = False
            rows, slots = rows[left], (slots[left] + 1) & last

    def add(self, keys: np.ndarray, first_row: int) -> None:
        """Take in keys for rows ``first_row`` on (in place; a fresh table of twice the size when over half full)."""
        new = self._words(keys)
        self.keys = [np.concatenate([old, w]) for old, w in zip(self.keys, new)]
        self.count = first_row + len(keys)
        if 2 * self.count > len(self.table):
            self._build(2 * self.count)
        else:
            self._place(np.arange(first_row, self.count, dtype=np.int32), self._slots(new, len(keys)))

    def rows(self, states: np.ndarray) -> np.ndarray:
        n = len(states)
        out = np.full(n, -1, dtype=np.int32)
        if not self.count:
            return out
        wanted = self._words(states)
        slots = self._slots(wanted, n)
        probing = np.arange(n)
        last = len(self.table) - 1
        while len(probing):
            row = self.table[slots]
            taken = row >= 0
            if not taken.all():
                probing, slots, row = probing[taken], slots[taken], row[taken]
                wanted = [w[taken] for w in wanted]
            same = np.ones(len(row), dtype=bool)
            for key, w in zip(self.keys, wanted):
                same &= key[row] == w
            out[probing[same]] = row[same]
            other = ~same
            probing, slots = probing[other], (slots[other] + 1) & last
            wanted = [w[other] for w in wanted]
        return out
