"""The declared renamings of ``--symmetry``, numbered, and the numpy arithmetic of fingerprints over all of them.

Renaming ``k`` is the ``k``-th of ``symmetry.mappings`` (the product of each
declared set's permutations, the first set slowest).  A vector holds one
fingerprint per renaming (``orbit_order``); the operations here are the
orbit order's, entry by entry, modulo 2**64.
"""

from __future__ import annotations

import itertools

import numpy as np

from consensuslab.checkers.reduction.orbit_order import C1, C2, Fingerprints, position

#: a value's possible images are listed (to match a set's elements to their images) up to this many
OPTIONS = 64
#: vectors remembered per place: about 8 MB of them whatever the group's size
VECTORS_KEPT = 1 << 20
_S30, _S27, _S31 = np.uint64(30), np.uint64(27), np.uint64(31)
_C1, _C2 = np.uint64(C1), np.uint64(C2)


def mix_vector(z: np.ndarray) -> np.ndarray:
    """``orbit_order.mix`` of every entry."""
    z = (z ^ (z >> _S30)) * _C1
    z = (z ^ (z >> _S27)) * _C2
    return z ^ (z >> _S31)


def numbered(sets: list[tuple]) -> list[tuple]:
    """Every renaming of the declared sets, numbered: renaming ``k`` gives set ``j``'s names the order
    ``numbered(sets)[k][j]`` (the product of each set's permutations, the first set slowest).  The one
    numbering ``symmetry.mappings`` and ``Group`` share."""
    return list(itertools.product(*(itertools.permutations(names) for names in sets)))


class Group:
    """The declared renamings (``numbered``) and what the learnt shape needs of each."""

    def __init__(self, sets: list[tuple]):
        self.sets = sets
        combos = numbered(sets)
        self.size = len(combos)
        #: renamed[j][k]: set j's names under renaming k
        self.renamed = [[dict(zip(names, combo[j])) for combo in combos] for j, names in enumerate(sets)]
        #: moved[j][k][i]: where entry i of a tuple indexed by set j goes under renaming k
        self.moved = [[[names.index(combo[j][i]) for i in range(len(names))] for combo in combos]
                      for j, names in enumerate(sets)]
        #: multipliers[j][i, k]: the position multiplier entry i of a tuple indexed by set j gets under k
        self.multipliers = [np.array([[position(dest[i]) for dest in self.moved[j]] for i in range(len(names))],
                                     dtype=np.uint64) for j, names in enumerate(sets)]
        self.names = frozenset(itertools.chain.from_iterable(sets))
        self.fingerprint = Fingerprints()
        self.kept = max(256, VECTORS_KEPT // self.size)
        self._positions: dict = {}

    def positions(self, n: int) -> np.ndarray:
        """The multipliers of the first ``n`` positions."""
        found = self._positions.get(n)
        if found is None:
            found = self._positions[n] = np.array([position(i) for i in range(n)], dtype=np.uint64)
        return found

    def constant(self, value: int) -> np.ndarray:
        return np.full(self.size, value, dtype=np.uint64)


def weighted_sum(group: Group, base: int, vecs: list, moved: np.ndarray | None = None) -> np.ndarray:
    """``base + sum(position(i) * vecs[i])`` modulo 2**64, entry by entry (a record's or tuple's fingerprints);
    ``moved``: entry i's multiplier per renaming (``Group.multipliers``), for a tuple indexed by a set."""
    if not vecs:
        return group.constant(base)
    if moved is not None:
        return (moved * np.array(vecs)).sum(axis=0, dtype=np.uint64) + np.uint64(base)
    return np.dot(group.positions(len(vecs)), np.array(vecs)) + np.uint64(base)


def placed(moved: list):
    """Entries in a tuple indexed by a set, each moved to its node's new index."""
    def build(entries: list) -> tuple:
        out = [None] * len(entries)
        for i, dest in enumerate(moved):
            out[dest] = entries[i]
        return tuple(out)
    return build


def combinations(choices: list, build):
    """Every value ``build`` makes from one choice per part; None when a part is unlisted or there are too many."""
    total = 1
    for c in choices:
        if c is None:
            return None
        total *= len(c)
        if total > OPTIONS:
            return None
    return {build(list(combo)) for combo in itertools.product(*choices)}
