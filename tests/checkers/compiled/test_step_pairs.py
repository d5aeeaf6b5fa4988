"""Transition properties judged over all the steps of a level at once (``compiled/step_pairs.py``)."""

from __future__ import annotations

from typing import NamedTuple

import pytest

from consensuslab import check
from consensuslab.checkers.compiled import memo, step_pairs
from consensuslab.checkers.compiled.step_pairs import reads_its_action
from consensuslab.checkers.compiled.engine import CompiledSearch
from consensuslab.errors import ModelError
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


class Watched(Panel):
    """``Panel`` with a property that reads lamp 5 only once the count reaches 2 (its keys widen after the first
    traces), and raises on a step that switches lamp 5 at count 2 (``raises=1``)."""

    name = "watched"
    params = {**Panel.params, "raises": Param(0, "1: the property raises on one kind of step", min=0, max=1)}

    @always_step
    def Counted(self, s, act, t):
        if s.switched < 2 or s.on[5] == t.on[5]:
            return True
        if self.raises and s.switched == 2:
            raise ValueError("lamp 5 switched at count 2")
        return t.switched >= s.switched


class Guarded(Panel):
    """``Panel`` whose property returns on lamp 0 alone while it is off, and reads the count once it is on."""

    name = "guarded"

    @always_step
    def Counted(self, s, act, t):
        if not s.on[0]:
            return True
        return t.switched >= s.switched


class Stalled(Panel):
    """``Panel`` with ``Wait``, a step back to the state itself at count 2: its memo entry counts it but does not
    list it (no new state), and ``Moves`` (``by_action=1``: ``Moves`` of ``Wait`` only) forbids it."""

    name = "stalled"
    params = {**Panel.params, "by_action": Param(0, "1: the property reads its action", min=0, max=1)}

    @action
    def Wait(self, s):
        if s.switched == 2:
            return s

    @always_step
    def Moves(self, s, act, t):
        if self.by_action:
            return act.name != "Wait" or t != s
        return t != s


def _both(spec, params=None):
    interpreted = check(spec(params or {}).compile(), progress=False, engine="interpreted")
    search = CompiledSearch(spec(params or {}).compile(), progress=False, insist=True)
    return interpreted, search, search.run()


def _same(compiled, interpreted):
    assert (compiled.status, compiled.distinct_states, compiled.states_generated) == \
        (interpreted.status, interpreted.distinct_states, interpreted.states_generated)
    if interpreted.violation is not None:
        assert compiled.violation.property == interpreted.violation.property
        assert list(compiled.violation.trace.states) == list(interpreted.violation.trace.states)
        assert [str(a) for a, _ in compiled.violation.trace.steps] == \
            [str(a) for a, _ in interpreted.violation.trace.steps]


@pytest.mark.parametrize("bug", [0, 1])
def test_a_property_is_traced_once_per_key_of_the_bits_it_reads_and_answers_as_the_interpreted_search(bug):
    interpreted, search, compiled = _both(Panel, {"bug": bug})
    _same(compiled, interpreted)
    assert compiled.status == ("violation" if bug else "ok")
    (table,) = search.step_pairs.tables
    # ``switched`` takes four values: before and after, a handful of keys serve every step of every action
    assert table.traces <= 8 and table.judged >= 30 * table.traces
    assert sum(u.traced for u in search.step_units) == 0  # no row traced a step


def test_a_property_that_reads_its_action_is_keyed_by_the_action():
    interpreted, search, compiled = _both(Labelled)
    assert search.step_pairs.tables[0].by_action
    assert compiled.violation is not None and compiled.violation.property == "OnlyGoodLate"
    _same(compiled, interpreted)


@pytest.mark.parametrize("bug", [0, 1])
def test_keys_that_widen_keep_every_verdict_and_the_interpreted_answer(bug):
    interpreted, search, compiled = _both(Watched, {"bug": bug})
    _same(compiled, interpreted)
    (table,) = search.step_pairs.tables
    assert table.read_before.bit_count() > 2  # it read the count, then lamp 5
    # every verdict kept, under its step's wider key: each traced, or read from a trace that read less
    assert len(table.ok) == table.traces + table.narrowed


@pytest.mark.parametrize("bug", [0, 1])
def test_a_step_with_the_bits_of_a_trace_that_read_less_takes_its_verdict(bug, monkeypatch):
    """``Guarded.Counted`` reads lamp 0 alone while it is off: once its key holds the counts too, a step from a
    state with lamp 0 off and counts not seen yet takes the verdict of a trace that read lamp 0 alone, untraced."""
    interpreted, search, compiled = _both(Guarded, {"bug": bug})
    _same(compiled, interpreted)
    (table,) = search.step_pairs.tables
    assert table.narrowed > 0 and table.narrow
    monkeypatch.setattr(memo, "NARROW_KEPT", 0)
    _, wide, again = _both(Guarded, {"bug": bug})
    _same(again, interpreted)
    (every,) = wide.step_pairs.tables
    assert every.narrowed == 0 and every.traces > table.traces


@pytest.mark.parametrize("by_action", [0, 1])
def test_a_step_back_to_the_state_itself_is_judged(by_action):
    interpreted, search, compiled = _both(Stalled, {"by_action": by_action})
    assert compiled.violation is not None and compiled.violation.property == "Moves"
    assert str(compiled.violation.trace.steps[-1][0]) == "Wait"
    _same(compiled, interpreted)
    assert [t.name for t in search.step_pairs.tables] == ["Counted", "Moves"]


def test_a_property_that_raises_goes_back_to_its_rows_which_report_the_raise():
    with pytest.raises(ModelError, match="lamp 5 switched at count 2") as interpreted:
        check(Watched({"raises": 1}).compile(), progress=False, engine="interpreted")
    search = CompiledSearch(Watched({"raises": 1}).compile(), progress=False, insist=True)
    with pytest.raises(ModelError) as compiled:
        search.run()
    assert str(compiled.value) == str(interpreted.value)
    assert not search.step_pairs.tables  # handed back to its rows


def test_a_property_that_traces_most_steps_goes_back_to_its_rows(monkeypatch):
    monkeypatch.setattr(step_pairs, "HAND_BACK_AFTER", 10)
    monkeypatch.setattr(step_pairs, "HAND_BACK_SHARE", 0.0)
    interpreted, search, compiled = _both(Panel, {"bug": 1})
    assert not search.step_pairs.tables
    _same(compiled, interpreted)


def test_whether_a_property_reads_its_action_is_read_from_its_code():
    assert not reads_its_action(Panel().Counted)
    assert reads_its_action(Labelled().OnlyGoodLate)
    assert not reads_its_action(lambda before, action, after: before == after)
    assert reads_its_action(lambda before, action, after: action is None)
    assert reads_its_action(lambda before, action, after: (lambda: action)())  # used by a nested function


def test_a_spec_without_transition_properties_makes_no_steps_to_judge(monkeypatch):
    def made(*args):
        raise AssertionError("a level's steps were made for no property")

    monkeypatch.setattr(step_pairs, "steps_by_parent", made)
    plain = Panel().compile()
    plain.step_properties = []
    assert check(plain, progress=False, engine="compiled").distinct_states == \
        check(Panel().compile(), progress=False, engine="interpreted").distinct_states
