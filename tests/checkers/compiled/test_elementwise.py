"""A check over a set field that reads the element alone (a TypeOK over messages) is judged per element."""

from __future__ import annotations

from typing import NamedTuple

import attrs
import pytest

from consensuslab import check
from consensuslab.checkers.compiled import elementwise
from consensuslab.checkers.compiled.engine import CompiledSearch
from consensuslab.checkers.compiled.filtering import TracedSpec
from consensuslab.checkers.compiled.packing import Layout
from consensuslab.checkers.compiled.piece_functions import invariant_pieces
from consensuslab.models.params import Param
from consensuslab.models.properties import always
from consensuslab.models.records import message, record
from consensuslab.models.spec import Spec, action


@message
class Ping:
    n: int


@message
class Pong:
    n: int
    who: int


@record
class Net(NamedTuple):
    msgs: frozenset
    answered: int


class Chatter(Spec):
    """Pings are answered by any of two nodes; ``bug=1`` lets node 1 sign its answer to ping 3 as node 9."""

    name = "chatter"
    params = {"bug": Param(0, "1: an answer with a node that does not exist", min=0, max=1)}
    check_deadlock = False
    K, W = (0, 1, 2, 3), (0, 1)

    def init(self):
        yield Net(frozenset(), 0)

    @action(k="K")
    def SendPing(self, s, k):
        if Ping(k) not in s.msgs:
            return s._replace(msgs=s.msgs | {Ping(k)})

    @action(m=lambda self, s: [m for m in s.msgs if type(m) is Ping], w="W")
    def Answer(self, s, m, w):
        reply = Pong(m.n, 9 if self.bug and m.n == 3 and w == 1 else w)
        if reply not in s.msgs:
            return s._replace(msgs=s.msgs | {reply}, answered=min(s.answered + 1, 3))

    @always
    def TypeOK(self, s):
        """Written as a transcription of TLA+'s ``msgs \\subseteq Message`` often is: a branch per kind."""
        nodes = set(self.W)
        for m in s.msgs:
            kind = type(m)
            if kind is Ping:
                ok = m.n in self.K
            elif kind is Pong:
                ok = m.n in self.K and m.who in nodes
            else:
                ok = False
            if not ok:
                return False
        return 0 <= s.answered <= 3

    # -- forms for the recognition tests (not checked: ``Chatter`` checks TypeOK alone) ---------------------
    def quantified(self, s):
        return all(type(m) is Ping or m.who in self.W for m in s.msgs) and s.answered >= 0

    def none_forged(self, s):
        return not any(type(m) is Pong and m.who == 9 for m in s.msgs if m.n > 0) and s.answered >= 0

    def reads_the_state(self, s):
        for m in s.msgs:
            if m.n > s.answered:
                return False
        return s.answered >= 0

    def carried(self, s):
        for m in s.msgs:
            if type(m) is Pong and m.n == last:  # noqa: F821 - read before this pass assigns it
                return False
            last = m.n
        return s.answered >= 0

    def outlived(self, s):
        ok = True
        for m in s.msgs:
            ok = m.n in self.K
            if not ok:
                return False
        return ok and s.answered >= 0

    def bound_from_the_state(self, s):
        limit = s.answered + 3
        for m in s.msgs:
            if m.n > limit:
                return False
        return s.answered >= 0

    def guarded(self, s):
        if s.answered == 0:
            return True
        return all(m.n in self.K for m in s.msgs) and s.answered >= 0


def elements(method: str) -> list:
    """The per-element verdicts ``invariant_pieces`` gives ``Chatter.<method>``: ``(piece, field)`` each."""
    spec = Chatter()
    model = spec.compile()
    prop = attrs.evolve(next(p for p in model.invariants if p.name == "TypeOK"), fn=getattr(spec, method))
    layout = Layout.learn(model.initial_states())
    return [(name, e[0]) for name, *_, e in invariant_pieces(prop, spec, TracedSpec(spec), layout) if e]


@pytest.mark.parametrize("method", ["TypeOK", "quantified", "none_forged"])
def test_checks_of_the_element_alone_are_judged_per_element(method):
    assert [field for _, field in elements(method)] == ["msgs"]


@pytest.mark.parametrize("method", ["reads_the_state", "carried", "outlived", "bound_from_the_state", "guarded"])
def test_checks_that_read_more_than_the_element_are_not(method):
    assert elements(method) == []


def test_the_verdict_of_an_element_is_the_loop_s_verdict_on_it():
    spec = Chatter()
    model = spec.compile()
    prop = next(p for p in model.invariants if p.name == "TypeOK")
    pieces = invariant_pieces(prop, spec, TracedSpec(spec), Layout.learn(model.initial_states()))
    (_, fn, _, args, _, (field, verdict)), = [p for p in pieces if p[-1]]
    for m in (Ping(0), Ping(7), Pong(1, 0), Pong(1, 9), Pong(5, 1), ("a", "tuple")):
        assert bool(verdict(m)) == fn(Net(frozenset({m}), 0), *args), m


@pytest.mark.parametrize("bug", [0, 1])
def test_the_compiled_search_gives_the_interpreted_answer_and_trace(bug):
    interpreted = check(Chatter({"bug": bug}).compile(), progress=False, engine="interpreted")
    search = CompiledSearch(Chatter({"bug": bug}).compile(), progress=False, insist=True)
    compiled = search.run()
    assert "TypeOK[1] (per element of msgs)" in search.direct.describe()
    assert search.direct.units == []  # nothing called on the decoded state
    assert (compiled.status, compiled.distinct_states, compiled.states_generated) == \
        (interpreted.status, interpreted.distinct_states, interpreted.states_generated)
    if bug:
        assert compiled.violation.property == interpreted.violation.property == "TypeOK"
        assert list(compiled.violation.trace.states) == list(interpreted.violation.trace.states)
    else:
        assert compiled.status == "ok" and compiled.distinct_states > 100


def test_a_verdict_that_disagrees_with_the_real_check_sends_it_back_to_the_state(monkeypatch):
    """The verdicts are confirmed on the first states: one made wrong on purpose is caught there, the piece is
    called on the decoded state, and the violation is still found."""
    real = elementwise.ElementVerdicts.__init__

    def wrong(self, unit, field, verdict):
        real(self, unit, field, lambda element: True)

    monkeypatch.setattr(elementwise.ElementVerdicts, "__init__", wrong)
    search = CompiledSearch(Chatter({"bug": 1}).compile(), progress=False, insist=True)
    compiled = search.run()
    assert [u.name for u in search.direct.units] == ["TypeOK[1]"]
    assert compiled.violation is not None and compiled.violation.property == "TypeOK"
