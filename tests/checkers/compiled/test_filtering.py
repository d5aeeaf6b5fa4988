"""Filtered iteration: traced copies of spec code read only the set elements a filter accepts, and stay exact."""

from __future__ import annotations

from typing import NamedTuple

import pytest

from consensuslab import check
from consensuslab.checkers.compiled.engine import CompiledSearch
from consensuslab.checkers.compiled.filtering import rewritten_function
from consensuslab.models.params import Param
from consensuslab.models.properties import always
from consensuslab.models.records import record
from consensuslab.models.spec import Spec, action
from consensuslab.protocols.paxos import Paxos


def test_paxos_phase2a_reads_only_the_messages_of_its_ballot():
    model = Paxos({"ballots": 2}).compile()
    search = CompiledSearch(model, progress=False, insist=True)
    r = search.run()
    assert r.extra["engine"] == "compiled" and r.distinct_states == 3921
    msgs = search.layout.by_name["msgs"]
    phase2a = next(u for u in search.actions if str(u.label) == "Phase2a(0, v1)")
    read = phase2a.mask & msgs.mask
    assert read and read != msgs.mask  # some message bits, not the whole set
    for i, m in enumerate(msgs.interner.values[:msgs.width]):  # never a 1a or 2b message, nor another ballot's
        if read >> (msgs.offset + i) & 1:
            assert type(m).__name__ in ("Msg1b", "Msg2a") and m.bal == 0


def loop_carried(s):
    best = -1
    for m in s:
        if m > best:
            best = m
    return best


def plain_filter(s, b):
    for m in s:
        if m[0] == b:
            return True
    return False


def test_a_filter_that_sees_the_loops_own_work_is_not_rewritten():
    assert rewritten_function(loop_carried) is None  # ``best`` changes inside the loop
    twin = rewritten_function(plain_filter)
    assert twin is not None and twin(frozenset({(1, 2), (3, 4)}), 3) is True and twin(frozenset(), 3) is False


@record
class Inbox(NamedTuple):
    msgs: frozenset
    done: bool


class LateMessages(Spec):
    """Messages appear one by one; ``Finish`` counts the even ones: a filter over elements numbered later."""

    name = "late-messages"
    params = {"n": Param(6), "bug": Param(0)}
    check_deadlock = False

    def init(self):
        yield Inbox(frozenset(), False)

    @action(k=lambda self: range(self.n))
    def Send(self, s, k):
        if not s.done and (k == 0 or (k - 1) in s.msgs):
            return s._replace(msgs=s.msgs | {k})

    @action
    def Finish(self, s):
        evens = [m for m in s.msgs if m % 2 == 0]
        if not s.done and len(evens) >= 2 and all(m < self.n for m in s.msgs):
            return s._replace(done=True)

    @always
    def few_evens_when_done(self, s):
        return not s.done or self.bug or sum(1 for m in s.msgs if m % 2 == 0) <= self.n // 2


@pytest.mark.parametrize("n", [4, 6])
def test_elements_numbered_after_a_trace_are_not_missed(n):
    model = LateMessages({"n": n}).compile()
    plain = check(model, progress=False, engine="interpreted")
    compiled = check(model, progress=False, engine="compiled")
    assert compiled.extra["engine"] == "compiled"
    assert (compiled.status, compiled.distinct_states, compiled.states_generated) == \
        (plain.status, plain.distinct_states, plain.states_generated)


@record
class Bag(NamedTuple):
    b: frozenset
    c: int


class StateFilter(Spec):
    """An invariant whose loop filter reads the state: ``for i in s.b: if any(x != 1 for x in s.b)``."""

    name = "state-filter"
    check_deadlock = False

    def init(self):
        yield Bag(frozenset(), 0)

    @action(v=lambda self: (1, 0))
    def Add(self, s, v):
        if s.c < 2:
            return Bag(s.b | {v}, s.c + 1)

    @always
    def only_ones(self, s):
        for i in s.b:
            if any(x != 1 for x in s.b):
                return False
        return True


def test_a_filter_that_reads_the_state_counts_every_element_numbered_later():
    """Traced on the initial state (``b`` empty, no element numbered), the filter read nothing; asked later about
    element 0 on that state it said no, the entry answered for every state, and the check said ok."""
    model = StateFilter().compile()
    plain = check(model, progress=False, engine="interpreted")
    compiled = check(model, progress=False, engine="compiled")
    assert plain.status == "violation" and plain.violation.trace.states[-1] == Bag(frozenset({0}), 1)
    assert compiled.extra["engine"] == "compiled"
    assert compiled.status == "violation"
    assert compiled.violation.trace.states == plain.violation.trace.states
