"""State constraints (TLA+'s CONSTRAINT) applied as TLC applies them, pinned against TLC 2.15.

The spec below is ``Cons.tla``::

    VARIABLES x, y
    Init == x \\in {0, 5} /\\ y = 0
    Inc  == x' = x + 1 /\\ y' = y
    Flip == x = 1 /\\ y' = 1 - y /\\ x' = x
    Next == Inc \\/ Flip
    Constr == x < 3

TLC 2.15 (``CONSTRAINT Constr``, deadlock checked) reports: no error, 5
distinct states; with ``INVARIANT NotFive`` (``x # 5``), "Invariant NotFive
is violated by the initial state" x = 5 (an initial state outside the
constraint); with ``INVARIANT NotThree`` (``x # 3``), a violation after 3
steps (a successor outside the constraint); with ``PROPERTY [][x' < 3]_<<x,
y>>``, an action property violated on the third step.  The states with x = 2,
whose only successors leave the constraint, are no deadlock.
"""

from typing import NamedTuple

import pytest

from consensuslab import (
    Param, Spec, action, always, always_step, check, constraint, record, sometimes,
)
from consensuslab.checkers.replay import replay_document
from consensuslab.traces.itf import trace_document


@record
class XY(NamedTuple):
    x: int
    y: int


class Cons(Spec):
    name = "cons"
    params = {"inv": Param("", "which property to switch on"), "stuck": Param(False, "no Inc from x = 1")}

    def init(self):
        for x in (0, 5):
            yield XY(x, 0)

    @action
    def Inc(self, s):
        if not (self.stuck and s.x == 1):
            return s._replace(x=s.x + 1)

    @action
    def Flip(self, s):
        if s.x == 1 and not self.stuck:
            return s._replace(y=1 - s.y)

    @constraint
    def Constr(self, s):
        return s.x < 3

    @always
    def NotFive(self, s):
        return self.inv != "five" or s.x != 5

    @always
    def NotThree(self, s):
        return self.inv != "three" or s.x != 3

    @always_step
    def StepBelowThree(self, before, act, after):
        return self.inv != "step" or after.x < 3

    @sometimes
    def two(self, s):
        return s.x == 2


def run(**params):
    model = Cons(params).compile()
    return model, check(model, progress=False)


def test_counts_and_deadlocks_as_tlc():
    model, r = run()
    assert (r.status, r.distinct_states) == ("ok", 5)  # TLC: 5 distinct states, no error
    assert all(model.within(s) for s in model.initial_states())
    edge = XY(2, 0)
    assert model.successors(edge) == [] and model.is_done(edge)  # only steps out of the constraint: no deadlock


def test_a_state_with_no_step_at_all_is_still_a_deadlock():
    _, r = run(stuck=True)
    assert r.status == "deadlock" and r.violation.trace.states[-1] == XY(1, 0)


@pytest.mark.parametrize("inv,prop,steps", [("five", "NotFive", 0), ("three", "NotThree", 3),
                                             ("step", "StepBelowThree", 3)])
def test_properties_are_checked_outside_the_constraint_as_tlc_does(inv, prop, steps):
    model, r = run(inv=inv)
    assert r.status == "violation" and r.violation.property == prop
    assert len(r.violation.trace) == steps  # TLC: the initial state x = 5; the 3rd step to x = 3
    assert not model.within(r.violation.trace.states[-1])
    done = replay_document(trace_document(model, r.violation.trace, r.violation), Cons({"inv": inv}).compile())
    assert done.violation.property == prop


def test_witnesses_are_not_looked_for_outside_the_constraint():
    model = Cons({}).compile()
    assert model.initial_states() == [XY(0, 0)]  # x = 5 is outside and breaks nothing: not a state of the model
    assert check(model, progress=False).properties["two"] == "witnessed"


def compiled(**params):
    model = Cons(params).compile()
    model.select_properties(["NotFive", "NotThree", "two"])  # no transition property: the compiled engine runs it
    return model, check(model, engine="compiled", progress=False)


def test_the_compiled_engine_applies_the_constraint_as_tlc_does():
    model, r = compiled()
    assert r.extra["engine"] == "compiled"
    assert (r.status, r.distinct_states, r.properties["two"]) == ("ok", 5, "witnessed")
    for inv, prop, steps in (("five", "NotFive", 0), ("three", "NotThree", 3)):
        _, r = compiled(inv=inv)
        assert (r.status, r.violation.property, len(r.violation.trace)) == ("violation", prop, steps)


def test_every_engine_agrees():
    assert check(Cons({}).compile(), search="dfs", progress=False).distinct_states == 5
    assert check(Cons({}).compile(), workers=2, progress=False).distinct_states == 5
    assert check(Cons({}).compile(), symmetry=False, engine="interpreted", progress=False).distinct_states == 5
