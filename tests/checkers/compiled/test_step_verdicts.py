"""A transition property's verdicts on pairs of packed states, shared by the rows of every action."""

from __future__ import annotations

from typing import NamedTuple

import pytest

from consensuslab import check
from consensuslab.checkers.compiled.engine import CompiledSearch
from consensuslab.checkers.compiled.steps import reads_its_action
from consensuslab.models.params import Param
from consensuslab.models.properties import always_step
from consensuslab.models.records import record, replace_at
from consensuslab.models.spec import Spec, action


@record
class Lights(NamedTuple):
    on: tuple  # six lamps
    switched: int  # how many times a lamp was switched, up to 3


class Panel(Spec):
    """Any lamp may be switched while fewer than three switches were made; ``bug=1`` lets lamp 5 turn on after,
    resetting the count."""

    name = "panel"
    params = {"bug": Param(0, "1: the last lamp turns on past the limit", min=0, max=1)}
    check_deadlock = False
    Lamps = tuple(range(6))

    def init(self):
        yield Lights((False,) * 6, 0)

    @action(i="Lamps")
    def Switch(self, s, i):
        if s.switched < 3:
            return s._replace(on=replace_at(s.on, i, not s.on[i]), switched=s.switched + 1)

    @action
    def Late(self, s):
        if self.bug and s.switched == 3 and not s.on[5]:
            return s._replace(on=replace_at(s.on, 5, True), switched=0)

    @always_step
    def Counted(self, s, act, t):
        """[][switched' >= switched]_switched: a switch once counted stays counted."""
        return t.switched >= s.switched


class Labelled(Spec):
    """``Add`` and ``Bad`` take the same steps; the property tells them apart by the action alone (``Add``, first in
    the action table, reads no state: its verdict must not serve ``Bad``)."""

    name = "labelled"
    check_deadlock = False

    def init(self):
        yield Lights((False,) * 6, 0)

    @action
    def Add(self, s):
        if s.switched < 3:
            return s._replace(switched=s.switched + 1)

    @action
    def Bad(self, s):
        if s.switched < 3:
            return s._replace(switched=s.switched + 1)

    @always_step
    def OnlyGoodLate(self, s, act, t):
        return act.name != "Bad" or s.switched < 2


@pytest.mark.parametrize("bug", [0, 1])
def test_the_rows_share_the_property_s_verdicts_and_answer_as_the_interpreted_search(bug):
    interpreted = check(Panel({"bug": bug}).compile(), progress=False, engine="interpreted")
    search = CompiledSearch(Panel({"bug": bug}).compile(), progress=False, insist=True)
    compiled = search.run()
    assert (compiled.status, compiled.distinct_states, compiled.states_generated) == \
        (interpreted.status, interpreted.distinct_states, interpreted.states_generated)
    verdicts = search.step_verdicts["Counted"]
    traced_rows = sum(u.traced for u in search.step_units)
    # the rows' entries took their verdicts from the shared table, which traced the property a few times
    assert verdicts.asked * 2 >= traced_rows and verdicts.missed * 4 < verdicts.asked
    if bug:
        assert compiled.violation.property == interpreted.violation.property == "Counted"
        assert list(compiled.violation.trace.states) == list(interpreted.violation.trace.states)
    else:
        assert compiled.status == "ok"


def test_a_property_that_reads_its_action_is_keyed_by_the_action():
    model = Labelled().compile()
    interpreted = check(Labelled().compile(), progress=False, engine="interpreted")
    search = CompiledSearch(model, progress=False, insist=True)
    compiled = search.run()
    assert search.step_verdicts["OnlyGoodLate"].by_action
    assert compiled.violation is not None and compiled.violation.property == "OnlyGoodLate"
    assert list(compiled.violation.trace.states) == list(interpreted.violation.trace.states)
    assert [str(a) for a, _ in compiled.violation.trace.steps] == [str(a) for a, _ in interpreted.violation.trace.steps]


def test_whether_a_property_reads_its_action_is_read_from_its_code():
    assert not reads_its_action(Panel().Counted)
    assert reads_its_action(Labelled().OnlyGoodLate)
    assert not reads_its_action(lambda before, action, after: before == after)
    assert reads_its_action(lambda before, action, after: action is None)
    assert reads_its_action(lambda before, action, after: (lambda: action)())  # used by a nested function
