"""A trace that read less than its unit's key is kept under the bits it read: a guard's early exits hit, in the
unit's memo and in its group's."""

from __future__ import annotations

from typing import NamedTuple

import pytest

from consensuslab import check
from consensuslab.checkers.compiled import memo
from consensuslab.checkers.compiled.engine import CompiledSearch
from consensuslab.models.params import Param
from consensuslab.models.properties import always
from consensuslab.models.records import record, replace_at
from consensuslab.models.spec import Spec, action


@record
class Desk(NamedTuple):
    mode: tuple  # per clerk: "idle", "away" or "busy"
    inbox: frozenset  # letters 0..5
    filed: tuple  # per clerk: how many letters of its parity it filed, up to 2


class Office(Spec):
    """A busy clerk files the letters of its parity (a filter over the inbox); an idle one reads one slot."""

    name = "office"
    params = {"bug": Param(0, "1: clerk 2 may file a third time", min=0, max=1)}
    check_deadlock = False
    Clerks, Letters = (0, 1, 2), tuple(range(6))

    def init(self):
        yield Desk(("idle",) * 3, frozenset(), (0, 0, 0))

    @action(i="Clerks")
    def Toggle(self, s, i):
        following = {"idle": "away", "away": "busy", "busy": "idle"}
        return s._replace(mode=replace_at(s.mode, i, following[s.mode[i]]))

    @action(k="Letters")
    def Post(self, s, k):
        if k not in s.inbox:
            return s._replace(inbox=s.inbox | {k})

    @action(i="Clerks")
    def File(self, s, i):
        if s.mode[i] != "busy":
            return None
        mine = [m for m in s.inbox if m % 2 == i % 2]
        limit = 3 if self.bug and i == 2 else 2
        if mine and s.filed[i] < limit:
            return s._replace(inbox=s.inbox - {min(mine)}, filed=replace_at(s.filed, i, s.filed[i] + 1))

    @always
    def FiledAtMostTwice(self, s):
        return all(f <= 2 for f in s.filed)


def file_traces(search) -> int:
    return sum(u.traced for u in search.actions if u.name.startswith("File"))


@pytest.mark.parametrize("bug", [0, 1])
def test_the_early_exits_of_a_guard_hit_and_the_answer_is_the_interpreted_search_s(bug, monkeypatch):
    interpreted = check(Office({"bug": bug}).compile(), progress=False, engine="interpreted")
    search = CompiledSearch(Office({"bug": bug}).compile(), progress=False, insist=True)
    compiled = search.run()
    assert (compiled.status, compiled.distinct_states, compiled.states_generated) == \
        (interpreted.status, interpreted.distinct_states, interpreted.states_generated)
    if bug:
        assert compiled.violation.property == "FiledAtMostTwice"
        assert list(compiled.violation.trace.states) == list(interpreted.violation.trace.states)
        return
    assert any(u.narrow for u in search.actions if u.name.startswith("File"))
    # the groups the rows were planned into keep the exits too: one look-up answers all their rows
    assert any(g.narrow for g in search.groups if any(u.name.startswith("File") for u in g.units))
    monkeypatch.setattr(memo, "NARROW_KEPT", 0)
    without = CompiledSearch(Office({"bug": bug}).compile(), progress=False, insist=True)
    assert without.run().distinct_states == compiled.distinct_states
    assert file_traces(search) * 2 < file_traces(without)  # the idle and away clerks' exits: two states in three
