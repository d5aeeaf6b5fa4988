"""Invariant groups of few bits judged together: one look-up per bundle, whose entry combines their verdicts.

Why: a spec's ``TypeOK`` and ``Inv`` cut into pieces (``splitting.py``) give a
group per slot they read (``pc[i] \\in {...}`` for every ``i``), and each
group costs a look-up per state of every level: SimpleRegular's 54 invariant
groups took 0.27 s of a 0.61 s search.  Groups whose masks together have at
most ``BUNDLE_BITS`` bits share one table indexed by those bits, whose entry
is "all hold", "one fails" or "not known yet".  An entry is learnt from the
groups' own tables the first time a state shows it (no tracing: a group's
verdict for a key never changes), so an entry is known once all its groups
know their keys, and the kernel defers the states whose entry is not known,
as it defers those a group lacks.
"""

from __future__ import annotations

import numpy as np

from consensuslab.checkers.compiled.keyindex import Extractor, digits_of

#: the widest union of masks a bundle takes (its table: a byte per combination, 4 KB, in the L1 cache; 8 to 14 bits
#: measured alike on SimpleRegular, Slush, EWD840 and ACP_SB, 16 and 20 slower on SimpleRegular)
BUNDLE_BITS = 12
UNKNOWN, FAILS, HOLDS = -1, 0, 1


class Bundle:
    """Properties judged as one: ``verdict[bits of the union of their masks]`` is UNKNOWN or the answer.

    Each *item* is a conjunct's table, or a clause's alternatives (tables, in their order: the first that
    does not answer 0 decides).  A bundle whose ``clause`` is None answers HOLDS where every item holds, else
    FAILS; a bundle of some of one clause's alternatives (``clause`` set, one item) answers as the first of
    them that decided, else 0, and the kernel combines it with the clause's other bundles as it combines
    alternatives.
    """

    __slots__ = ("items", "mask", "clause", "extract", "verdict")

    def __init__(self, items: list[list], clause=None):
        self.items, self.clause = items, clause
        self.mask = _union([t for item in items for t in item])
        bits = self.mask.bit_count()
        digits = digits_of(self.mask, max(bits, 1))
        self.extract = Extractor(digits[0] if digits else [])  # a mask of no bits: every state at entry 0
        self.verdict = np.full(1 << bits, UNKNOWN, dtype=np.int8)

    def key(self) -> tuple:
        return _key(self.items, self.clause)

    def judge(self, block: np.ndarray) -> np.ndarray:
        """Each state's answer; entries first needed here are learnt from the groups' tables."""
        at = self.extract(block).view(np.int64)
        verdict = self.verdict[at]
        unknown = np.flatnonzero(verdict < 0)
        if len(unknown):
            entries, first, back = np.unique(at[unknown], return_index=True, return_inverse=True)
            learnt = self._learn(block[unknown[first]])  # one state per entry: they agree on every bit read
            known = learnt >= 0
            self.verdict[entries[known]] = learnt[known]  # racing threads write the same values
            verdict[unknown] = learnt[back]
        return verdict

    def _learn(self, states: np.ndarray) -> np.ndarray:
        n = len(states)
        known = np.ones(n, dtype=bool)
        answer = np.full(n, HOLDS, dtype=np.int8)
        for item in self.items:
            decided = np.zeros(n, dtype=np.int8)
            for t in item:
                rows = t.index.rows(states)
                found = rows >= 0
                known &= found
                mine = np.zeros(n, dtype=np.int8)
                mine[found] = t.ok[rows[found]]
                np.copyto(decided, mine, where=decided == 0)  # the first alternative that decided
            if self.clause is not None:
                answer = decided  # a part of a clause: its first decision (the kernel reads RAISED as failing)
            else:
                answer &= decided == HOLDS
        answer[~known] = UNKNOWN
        return answer


class Plan:
    """Which property tables are judged in bundles, and which alone (witnesses, wide masks).

    A clause whose alternatives read at most ``BUNDLE_BITS`` bits in all is one item of a bundle, like a
    conjunct; a wider one is cut into bundles of consecutive alternatives, so the kernel meets them in
    their order.
    """

    __slots__ = ("tables", "bundles", "alone")

    def __init__(self, tables: list, invariants_from: int, before: "Plan | None" = None):
        self.tables = list(tables)
        kept = {b.key(): b for b in before.bundles} if before is not None else {}  # what they learnt stays
        alone = list(range(invariants_from))
        items, clauses = [], {}
        for k in range(invariants_from, len(tables)):
            t = tables[k]
            if t.group.clause is not None:
                clauses.setdefault(t.group.clause, []).append(k)
            elif t.mask.bit_count() <= BUNDLE_BITS:
                items.append([k])
            else:
                alone.append(k)
        wide = []  # clauses cut into bundles of consecutive alternatives
        for ks in clauses.values():
            if _union([tables[k] for k in ks]).bit_count() <= BUNDLE_BITS:
                items.append(ks)
            elif any(tables[k].mask.bit_count() > BUNDLE_BITS for k in ks):
                alone.extend(ks)
            else:
                wide.append(ks)
        self.bundles = []
        for packed in _packed(tables, items):
            if len(packed) == 1 and len(packed[0]) == 1:
                alone.extend(packed[0])
            else:
                self.bundles.append(_made(kept, [[tables[k] for k in item] for item in packed], None))
        for ks in wide:
            runs = _packed(tables, [[k] for k in ks], in_order=True)
            if all(len(packed) == 1 for packed in runs):
                alone.extend(ks)  # no run of two: as many look-ups either way
                continue
            for packed in runs:
                self.bundles.append(_made(kept, [[tables[item[0]] for item in packed]], tables[ks[0]].group.clause))
        self.alone = sorted(alone)

    def fits(self, tables: list) -> bool:
        """Whether this plan was made for these very tables (a table rebuilt or widened is a new one)."""
        return len(tables) == len(self.tables) and all(a is b for a, b in zip(tables, self.tables))


def _made(kept: dict, items: list[list], clause) -> Bundle:
    """A bundle of these tables: the earlier plan's, where it had one (its entries hold while its tables do)."""
    bundle = kept.get(_key(items, clause))
    return bundle if bundle is not None else Bundle(items, clause)


def _key(items: list[list], clause) -> tuple:
    return clause, tuple(tuple(id(t) for t in item) for item in items)


def _union(tables: list) -> int:
    mask = 0
    for t in tables:
        mask |= t.mask
    return mask


def _packed(tables: list, items: list[list[int]], in_order: bool = False) -> list[list[list[int]]]:
    """``items`` (lists of table numbers) in bundles whose masks' union has at most ``BUNDLE_BITS`` bits: each
    into the first that takes it (``in_order``: consecutive runs, for a clause's alternatives)."""
    open_: list[list] = []  # [union, items]
    for item in items:
        mask = _union([tables[k] for k in item])
        for entry in (open_[-1:] if in_order else open_):
            if (entry[0] | mask).bit_count() <= BUNDLE_BITS:
                entry[0] |= mask
                entry[1].append(item)
                break
        else:
            open_.append([mask, [item]])
    return [packed for _, packed in open_]


def plan_for(search, tables: list, invariants_from: int) -> Plan:
    """The search's plan for ``tables``, made again when they changed."""
    plan = getattr(search, "bundle_plan", None)
    if plan is None or not plan.fits(tables):
        plan = search.bundle_plan = Plan(tables, invariants_from, plan)
    return plan
