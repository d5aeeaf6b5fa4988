"""The state constraint as a filter on steps in the compiled level search (``checkers/compiled/constraint.py``)."""

from __future__ import annotations

from typing import NamedTuple

import pytest

from consensuslab import Param, Spec, action, always, check, constraint, record
from consensuslab.checkers.compiled.engine import CompiledSearch
from tests.models.test_constraints import Cons


def outcome(result):
    v = result.violation
    return (result.status, result.distinct_states, result.states_generated, result.depth,
            None if v is None else (v.property, v.trace.states, [str(a) for a in v.trace.actions]),
            result.properties)


@pytest.mark.parametrize("params", [{}, {"inv": "five"}, {"inv": "three"}, {"inv": "step"}, {"stuck": True}])
def test_compiled_and_interpreted_agree_inside_and_outside_the_constraint(params):
    """Counts, verdicts and counterexamples, where properties break outside the constraint and where a
    state whose steps all leave it is no deadlock (the cases ``Cons`` pins against TLC)."""
    compiled = check(Cons(params).compile(), engine="compiled", progress=False)
    interpreted = check(Cons(params).compile(), engine="interpreted", progress=False)
    assert compiled.extra["engine"] == "compiled" and compiled.extra["compiled"]["search"] == "levels"
    assert outcome(compiled) == outcome(interpreted)


@record
class Pair(NamedTuple):
    a: int
    b: int


class Counters(Spec):
    """Two counters; the constraint bounds both, and each action moves one: ``IncA`` reads ``a`` alone."""

    name = "counters"
    params = {"top": Param(6, "bound of the constraint"), "inv": Param(99, "a and b stay below this")}

    def init(self):
        yield Pair(0, 0)

    @action
    def IncA(self, s):
        return s._replace(a=s.a + 1)

    @action
    def IncB(self, s):
        return s._replace(b=s.b + 1)

    @constraint
    def Bounded(self, s):
        return s.a <= self.top and s.b <= self.top

    @always
    def Small(self, s):
        return s.a < self.inv and s.b < self.inv


def test_a_row_s_key_holds_only_what_its_action_reads():
    """Folded into the row, the constraint made ``IncA`` read ``b`` too: a key per (a, b), a miss per state."""
    search = CompiledSearch(Counters({}).compile(), progress=False, insist=True)
    result = search.run()
    assert (result.status, result.distinct_states) == ("ok", 49)
    inc_a = next(u for u in search.actions if u.label.name == "IncA")
    b = search.layout.by_name["b"]
    assert inc_a.mask and not inc_a.mask & b.mask
    assert len(inc_a.table) <= 8  # one entry per value of a (7 inside, and the one the constraint drops)
    assert search.constraint.unit.mask & b.mask  # the constraint itself reads both


def test_a_successor_outside_that_breaks_an_invariant_is_the_counterexample():
    params = {"top": 3, "inv": 4}
    compiled = check(Counters(params).compile(), engine="compiled", progress=False)
    interpreted = check(Counters(params).compile(), engine="interpreted", progress=False)
    assert compiled.extra["engine"] == "compiled"
    assert compiled.violation.property == "Small" and compiled.violation.trace.states[-1] == Pair(4, 0)
    assert outcome(compiled) == outcome(interpreted)


def test_two_workers_give_the_same_counts():
    one = check(Counters({}).compile(), engine="compiled", progress=False)
    two = check(Counters({}).compile(), engine="compiled", workers=2, progress=False)
    assert outcome(one) == outcome(two) == outcome(check(Counters({}).compile(), engine="interpreted",
                                                         progress=False))


def test_a_field_that_keeps_overflowing_gets_room_for_four_times_its_values():
    """Each overflow restarts the search; a field that overflowed twice before is widened fourfold."""
    from consensuslab.checkers.compiled.packing import ROOMIER_AFTER, Layout

    layout = Layout.learn([Pair(0, 0)])
    a, b = layout.by_name["a"], layout.by_name["b"]
    for k in range(1, 40):
        a.interner.id(k)
        b.interner.id(k)
    widths = []
    for _ in range(ROOMIER_AFTER + 1):
        layout.widen("a")
        widths.append((a.width, b.width))
    # 40 values need 6 bits, and one more for twice as many: b (never overflowed) and a until its third overflow;
    # each has one more from the word's spare bits (``packing._widths``)
    assert widths[:ROOMIER_AFTER] == [(8, 8)] * ROOMIER_AFTER and widths[-1] == (9, 8)
