"""A refinement's step property in the compiled search: each packed state mapped once, the interpreted answer."""

from __future__ import annotations

from typing import NamedTuple

import pytest

from consensuslab import check
from consensuslab.checkers.compiled.engine import CompiledSearch
from consensuslab.models.params import Param
from consensuslab.models.records import record, replace_at
from consensuslab.models.refinement import refines
from consensuslab.models.spec import Spec, action


@record
class Level(NamedTuple):
    n: int


class Climb(Spec):
    """The abstract spec: a level that goes up by one, or back to zero."""

    name = "climb"

    def init(self):
        yield Level(0)

    @action
    def Up(self, s):
        return Level(s.n + 1)

    @action
    def Fall(self, s):
        return Level(0)


@record
class Steps(NamedTuple):
    feet: tuple  # two feet on steps 0..6
    moves: int  # up to 9


class Walk(Spec):
    """A walker's two feet climb a stair one foot at a time; the level is the lower foot.  ``bug=1``: the right
    foot may jump two steps, and the lower foot with it (the level then rises by two)."""

    name = "walk"
    params = {"bug": Param(0, "1: a jump of two", min=0, max=1)}
    check_deadlock = False
    Feet = (0, 1)

    def init(self):
        yield Steps((0, 0), 0)

    @action(i="Feet")
    def Step(self, s, i):
        if s.moves < 9 and s.feet[i] < 6 and s.feet[i] <= s.feet[1 - i]:
            return s._replace(feet=replace_at(s.feet, i, s.feet[i] + 1), moves=s.moves + 1)

    @action
    def Jump(self, s):
        if self.bug and s.moves < 9 and s.feet[0] == s.feet[1] == 1:
            return s._replace(feet=(3, 3), moves=s.moves + 1)

    @action
    def Slip(self, s):
        if s.moves < 9 and s.feet != (0, 0):
            return s._replace(feet=(0, 0), moves=s.moves + 1)

    mapped = 0

    @refines(Climb)
    def Climbing(self, s):
        type(self).mapped += 1
        return Level(min(s.feet))


@pytest.mark.parametrize("bug", [0, 1])
def test_each_state_is_mapped_once_and_the_answer_is_the_interpreted_search_s(bug):
    Walk.mapped = 0
    interpreted = check(Walk({"bug": bug}).compile(), progress=False, engine="interpreted")
    mapped_interpreted, Walk.mapped = Walk.mapped, 0
    search = CompiledSearch(Walk({"bug": bug}).compile(), progress=False, insist=True)
    compiled = search.run()
    assert (compiled.status, compiled.distinct_states, compiled.states_generated) == \
        (interpreted.status, interpreted.distinct_states, interpreted.states_generated)
    assert search.refinement_steps.names() == ["Climbing_step"]
    if bug:
        assert compiled.violation.property == interpreted.violation.property == "Climbing_step"
        assert list(compiled.violation.trace.states) == list(interpreted.violation.trace.states)
        return
    assert compiled.status == "ok"
    # a step's target is mapped once, then looked up (the interpreted search maps it at every step reaching it:
    # 173 calls for 67 states); the audits' real calls on the first states map some again (78 calls)
    assert Walk.mapped * 3 < mapped_interpreted * 2
