"""Invariant pieces called on the decoded state, for those whose memo misses on nearly every state.

Why: a piece that reads most of the state (Paxos.tla's ``Inv`` over every
message) is a new key on almost every state, so its memo only costs: a traced
call on a view is several plain calls, the real call that confirms it is one
more, and the entry is never read again.  Called the way the interpreted
search calls it, on the decoded state and untraced, such a piece costs what it
costs there, and every other piece and action keeps its memo.

Which pieces: while each piece still has a group of its own (the memo's
warm-up, ``memo.WARMUP``), one whose memo missed on more than ``MISS_SHARE`` of
the states it judged, once it has judged ``JUDGED_FIRST``, and on as large a
share of the last level's states (at least ``LEVEL_JUDGED`` of them).  The
last level tells a key over the whole state from a memo still filling up:
two-phase rm=9's type invariant reads every resource manager's state, missed
on 95% of the first 20 states but on 50% of the 4,029 of the sixth level, and
then hit on nearly all of 10 million (moved by the first rule alone, the run
took 43 s instead of 13).  Nothing is lost by the move but speed: the answer is
the model's own, on the real state.
"""

from __future__ import annotations

import numpy as np

from consensuslab.checkers.compiled.elementwise import ElementVerdicts
from consensuslab.checkers.compiled.words import to_ints

#: a piece whose memo missed on more than this share of the states it judged is called directly
MISS_SHARE = 0.9
#: ... once it has judged this many states (the first levels are small and all misses)
JUDGED_FIRST = 500
#: ... and the last level, of at least this many states, missed as often
LEVEL_JUDGED = 256


def missing_nearly_always(seen: dict, key, judged: int, now: int) -> bool:
    """Count ``now`` memo misses over a level of ``judged`` states under ``key`` in ``seen``; whether the memo
    missed on more than ``MISS_SHARE`` of every state so far (at least ``JUDGED_FIRST``) and of this level (at
    least ``LEVEL_JUDGED``).  The one rule for moving a unit out of the memo (here, and ``wholesale.py``)."""
    states, traced = seen.get(key, (0, 0))
    states, traced = states + judged, traced + now
    seen[key] = (states, traced)
    return (judged >= LEVEL_JUDGED and now > MISS_SHARE * judged
            and states >= JUDGED_FIRST and traced > MISS_SHARE * states)


class DirectPieces:
    """The invariant pieces moved out of the memo, and what the warm-up saw of the others."""

    def __init__(self):
        self.units: list = []
        self.seen: dict[int, tuple[int, int]] = {}  # id(unit) -> (states judged, traced calls)
        self.elements: list[ElementVerdicts] = []  # pieces judged per element of a set field (``elementwise.py``)

    def __bool__(self) -> bool:
        return bool(self.units or self.elements)

    def judge_per_element(self, unit, field: str, verdict) -> None:
        """Judge ``unit`` (a piece over a set field that reads the element alone) by its elements' verdicts."""
        self.elements.append(ElementVerdicts(unit, field, verdict))

    def handled(self) -> set[int]:
        """The units judged here, not by a memo group."""
        return {id(u) for u in self.units} | {id(e.unit) for e in self.elements}

    def before(self, groups: list) -> dict[int, tuple[int, int]]:
        """Each group's misses so far, before a level is judged: its piece's traced calls (a group of one), or
        its entries (a group of several, whose key widened to most of the state after it was planned: the
        transition property units of EWD998's refinement, 36 of them with one key over all 60 bits)."""
        return {id(g): (g.units[0].traced, len(g.table)) for g in groups}

    def learn(self, groups: list, before: dict[int, tuple[int, int]], judged: int) -> list:
        """After a level of ``judged`` states: the groups that stay (those whose pieces move out are dropped)."""
        moving = []
        for g in groups:
            if id(g) not in before or g.clause is not None:
                continue  # an alternative is judged with its clause's others (``kernels.judge_part``)
            traced_before, size_before = before[id(g)]
            if len(g.units) == 1:
                key, now = id(g.units[0]), g.units[0].traced - traced_before
            else:  # a key that widened empties the table: what it holds then are all new
                key, now = id(g), len(g.table) - size_before if len(g.table) >= size_before else len(g.table)
            if missing_nearly_always(self.seen, key, judged, now):
                moving.append(id(g))
                self.units += g.units
        return [g for g in groups if id(g) not in moving] if moving else groups

    def failing(self, layout, states: np.ndarray, helper=None) -> list[int]:
        """The packed ``states`` (an array) where a direct piece does not hold (or raises: the search reports
        that); with a ``helper`` (``--workers``), it takes the later part of a large level."""
        out = []
        for judged in list(self.elements):
            out += judged.failing(layout, states)
            if judged.broken:  # its verdicts disagreed with the real piece: called on the state from now on
                self.elements.remove(judged)
                self.units.append(judged.unit)
        if not self.units:
            return out
        states = to_ints(states)  # the pieces are called on each decoded state
        decode = layout.decode
        if helper is not None:
            return out + helper.direct(self.units, states, lambda part: failing_states(self.units, decode, part))
        return out + failing_states(self.units, decode, states)

    def describe(self) -> list[str]:
        return [u.name for u in self.units] + [f"{e.unit.name} (per element of {e.field})" for e in self.elements]


def failing_states(units: list, decode, states: list[int]) -> list[int]:
    """The packed ``states`` where one of ``units`` (called on the decoded state) does not hold or raises."""
    calls = [(u.fn, u.args) for u in units]
    out = []
    for s in states:
        state = decode(s)
        try:
            for fn, args in calls:
                if not fn(state, *args):
                    out.append(s)
                    break
        except Exception:
            out.append(s)
    return out
