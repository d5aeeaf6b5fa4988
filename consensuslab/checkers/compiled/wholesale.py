"""Actions whose memo misses on nearly every state, answered on the decoded state and keyed by all of it.

Why: an action that reads the whole state (ReadersWriters' ``ReadOrWrite``
reads the queue, the readers and the writers: all three variables) is a new
key on nearly every state, so each state pays a traced call on a view and the
real call that confirms it, and the entry is never read again (NumActors = 4:
3.2 million traced calls for 2.2 million states, the compiled search 1.2 times
the interpreted one's time).  Keyed by the whole state, the real call's answer
is the answer, with nothing to record and nothing to confirm: such a unit costs
what the interpreted search pays for it, and every other unit keeps its memo.

Which units: an action unit whose traced calls, once it has been judged on
``JUDGED_FIRST`` states, exceed ``MISS_SHARE`` of the states expanded, and did
on the last level too (at least ``LEVEL_EXPANDED`` states), as
``direct.DirectPieces`` moves invariant pieces.  Its tables learnt so far stay
readable (``memo.Unit.older``): each entry is right for every state its key
matches.
"""

from __future__ import annotations

#: an action whose memo missed on more than this share of the states expanded is keyed by the whole state
MISS_SHARE = 0.9
#: ... once this many states were expanded (the first levels are small and all misses)
JUDGED_FIRST = 500
#: ... and on the last level, of at least this many states, as often
LEVEL_EXPANDED = 256


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
            now = u.traced - before[id(u)]
            states, traced = self.seen.get(id(u), (0, 0))
            states, traced = states + expanded, traced + now
            self.seen[id(u)] = (states, traced)
            if expanded >= LEVEL_EXPANDED and now > MISS_SHARE * expanded and states >= JUDGED_FIRST \
                    and traced > MISS_SHARE * states:
                u.key_by_whole_state()
                self.moved.append(u)

    def describe(self) -> list[str]:
        return [u.name for u in self.moved]
