"""Which memoised units share one look-up: the plan made once the warm-up has shown what each unit reads.

A group answers for its units under the union of their masks, so one probe
per group per state serves them all.  Merging pays when the union's keys are
about as many as each unit's: units reading the same fields.  It costs when
the units read unrelated bits, since the group then has a key per
*combination* of their values, and every new combination is a miss served in
Python (SimpleRegular: eight two-bit ``TypeOK`` conjuncts, one per process,
merged into a 16-bit group that missed 62,893 times, each miss four
look-ups of units that knew the answer).

So property units (invariant conjuncts, witnesses, transition properties) are
merged only where a sample of reached states shows the union's keys barely
outnumber the larger unit's.  Actions are planned by bits alone: their
groups' misses are few on the specs measured, and fewer groups mean fewer
numpy calls in the hot kernel that makes steps.
"""

from __future__ import annotations

import heapq

import numpy as np

from consensuslab.checkers.compiled.memo import Group, Unit
from consensuslab.checkers.compiled.words import to_ints

#: a group's key has at most this many bits (so at most 2**16 entries)
GROUP_BITS = 16
#: states of the sample that merges of property units are judged on
SAMPLE = 512
#: a merge of property units keeps the union's keys on the sample within this many times the larger unit's ...
KEY_GROWTH = 1.25
#: ... plus this many (two tiny tables may as well be one)
KEY_SLACK = 8
#: key counts a plan computes at most; pairs beyond stay apart (a plan over hundreds of units stays quick)
MAX_JUDGED = 2000


class KeyCounts:
    """Each candidate group's key, numbered per sampled state: how many keys a merged table would hold."""

    def __init__(self, sample: list[int]):
        self.sample = sample
        self.judged = 0

    def numbered(self, mask: int) -> np.ndarray:
        ids: dict[int, int] = {}
        return np.fromiter((ids.setdefault(s & mask, len(ids)) for s in self.sample), dtype=np.int64,
                           count=len(self.sample))

    def union(self, a: np.ndarray, b: np.ndarray) -> np.ndarray | None:
        """The numbering of the union of two keys (``s & (m1 | m2)`` is fixed by the pair), or None once the
        plan has judged ``MAX_JUDGED`` pairs."""
        if self.judged >= MAX_JUDGED:
            return None
        self.judged += 1
        _, inverse = np.unique(a * (int(b.max(initial=0)) + 1) + b, return_inverse=True)
        return inverse.reshape(-1)


def keys_in(numbering: np.ndarray) -> int:
    return int(numbering.max(initial=-1)) + 1


def plan_groups(units: list[Unit], full: int, grown: list, budget: int = GROUP_BITS,
                sample: list[int] | None = None) -> list[Group]:
    """Merge units into groups: equal masks first, then the pair that adds fewest bits, within ``budget``;
    with a ``sample`` of packed states, only pairs whose union has about as many keys there as the larger.

    Deterministic: ties go to the earlier units, and groups keep the units' order.
    """
    by_mask: dict[int, list[int]] = {}
    for i, u in enumerate(units):
        by_mask.setdefault(u.mask, []).append(i)
    members = [ids for ids in by_mask.values()]
    masks = [units[ids[0]].mask for ids in members]
    counts = KeyCounts(sample) if sample else None
    numbered = [counts.numbered(m) for m in masks] if counts else []
    alive = [True] * len(members)
    heap = []

    def push(i: int, j: int) -> None:
        union = masks[i] | masks[j]
        bits = union.bit_count()
        if bits <= budget:
            added = bits - max(masks[i].bit_count(), masks[j].bit_count())
            heapq.heappush(heap, (added, bits, min(members[i][0], members[j][0]), i, j))

    def merged_keys(i: int, j: int) -> np.ndarray | None:
        """The union's numbering when the merge pays on the sample, else None."""
        if masks[i] | masks[j] == masks[i]:
            return numbered[i]
        if masks[i] | masks[j] == masks[j]:
            return numbered[j]
        union = counts.union(numbered[i], numbered[j])
        larger = max(keys_in(numbered[i]), keys_in(numbered[j]))
        if union is None or keys_in(union) > larger * KEY_GROWTH + KEY_SLACK:
            return None
        return union

    for i in range(len(members)):
        for j in range(i + 1, len(members)):
            push(i, j)
    while heap:
        added, bits, _, i, j = heapq.heappop(heap)
        if not (alive[i] and alive[j]):
            continue
        if (masks[i] | masks[j]).bit_count() != bits:  # one of them grew since: judge the pair again
            push(i, j)
            continue
        if counts:
            union = merged_keys(i, j)
            if union is None:
                continue  # judged again only if one of them grows
            numbered[i] = union
        alive[j] = False
        members[i] = sorted(members[i] + members[j])
        masks[i] |= masks[j]
        for k in range(len(members)):
            if k != i and alive[k]:
                push(min(i, k), max(i, k))
    groups = [members[i] for i in range(len(members)) if alive[i]]
    groups.sort(key=lambda ids: ids[0])
    return [Group([units[i] for i in ids], full, grown) for ids in groups]


def reached_sample(levels: list, size: int = SAMPLE) -> list[int]:
    """About ``size`` states spread over the latest levels (a level is sorted: its first states share their
    high fields), to judge which property units may share a table."""
    picked: list[np.ndarray] = []
    wanted = size
    for run in reversed(levels):
        states = run.states()
        picked.append(states[::max(1, len(states) // wanted)][:wanted])
        wanted -= len(picked[-1])
        if wanted <= 0:
            break
    return [s for piece in picked for s in to_ints(piece)]
