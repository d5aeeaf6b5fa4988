"""Actions whose memo misses on nearly every state, answered on the decoded state and keyed by all of it.

Why: an action that reads the whole state (ReadersWriters' ``ReadOrWrite``
reads the queue, the readers and the writers: all three variables) is a new
key on nearly every state, so each state pays a traced call on a view and the
real call that confirms it, and the entry is never read again (NumActors = 4:
3.2 million traced calls for 2.2 million states, the compiled search 1.2 times
the interpreted one's time).  Keyed by the whole state, the real call's answer
is the answer, with nothing to record and nothing to confirm: such a unit costs
what the interpreted search pays for it, and every other unit keeps its memo.

Which units: an action unit whose traced calls exceed nearly every state
expanded, by the rule that moves invariant pieces out of the memo
(``direct.missing_nearly_always``).  Its tables learnt so far stay readable
(``memo.Unit.older``): each entry is right for every state its key matches.
"""

from __future__ import annotations

from consensuslab.checkers.compiled import direct


class WholeStateActions:
    """The action units keyed by the whole state, and what the levels so far saw of the others."""

    def __init__(self):
        self.moved: list = []
        self.seen: dict[int, tuple[int, int]] = {}  # id(unit) -> (states expanded, traced calls)

    def before(self, units: list) -> dict[int, int]:
        return {id(u): u.traced for u in units}

    def learn(self, units: list, before: dict[int, int], expanded: int) -> None:
        """After a level of ``expanded`` states: key the units that missed on nearly all of them by the state."""
        for u in units:
            if u.whole or id(u) not in before:
                continue
            if direct.missing_nearly_always(self.seen, id(u), expanded, u.traced - before[id(u)]):
                u.key_by_whole_state()
                self.moved.append(u)

    def describe(self) -> list[str]:
        return [u.name for u in self.moved]
