"""Auto's evidence rules, invariant pieces moved out of the memo, and actions whose domain reads the state."""

from __future__ import annotations

from typing import NamedTuple

from consensuslab import check
from consensuslab.checkers.compiled import domains as domains_module
from consensuslab.checkers.compiled.domains import StateDomains
from consensuslab.checkers.compiled.engine import CompiledSearch
from consensuslab.checkers.compiled.evidence import Evidence
from consensuslab.models.properties import always
from consensuslab.models.records import record
from consensuslab.models.spec import Spec, action
from consensuslab.protocols.paxos import Paxos


def evidence(us_a_state: float) -> Evidence:
    e = Evidence(model=None, judging=True)
    e.interpreted_seconds, e.samples = us_a_state * 1e-6, 1
    return e


def test_a_first_window_far_slower_with_many_misses_hands_over_at_once():
    e = evidence(100)
    assert e.level(1000, 1000 * 1000e-6, 40 * 1000) is not None  # 10x slower, 40 traced calls a state


def test_a_first_window_slightly_slower_waits_for_a_second():
    e = evidence(100)
    assert e.level(1000, 1000 * 200e-6, 40 * 1000) is None  # 2x slower: the memo may be warming up


def test_a_slower_window_after_a_cheaper_one_waits_for_a_second():
    """LamportMutex with two workers handed over at 68 us a state against 62 after a window at 60 us."""
    e = evidence(62)
    assert e.level(2186, 2186 * 60e-6, 900) is None  # cheaper
    assert e.level(2186, 2186 * 68e-6, 900) is None  # slower, but the window before was cheaper
    assert e.level(2186, 2186 * 68e-6, 900) is not None  # slower twice, misses and cost not falling


def test_a_far_slower_window_that_hardly_traces_waits_too():
    e = evidence(100)
    assert e.level(1000, 1000 * 1000e-6, 1000) is None  # 1 traced call a state: not the memo's misses


def test_during_the_memo_s_warm_up_only_a_far_slower_window_hands_over():
    e = evidence(100)
    assert e.level(1000, 1000 * 200e-6, 40 * 1000, warm=False) is None
    assert e.level(1000, 1000 * 200e-6, 40 * 1000, warm=False) is None  # two slower windows, but warming up
    assert e.level(1000, 1000 * 200e-6, 40 * 1000) is None  # warm: the first slower window waits for a second
    assert e.level(1000, 1000 * 200e-6, 40 * 1000) is not None
    assert evidence(100).level(1000, 1000 * 1000e-6, 40 * 1000, warm=False) is not None


def test_a_window_in_which_units_moved_out_of_the_memo_is_not_judged():
    e = evidence(100)
    assert e.level(1000, 1000 * 1000e-6, 40 * 1000, reshaped=True) is None  # far slower, at the old cost
    assert e.level(1000, 1000 * 200e-6, 40 * 1000) is None  # the first judged window waits for a second
    assert e.level(1000, 1000 * 200e-6, 40 * 1000) is not None


def test_the_level_expanded_before_the_regrouping_is_judged_as_the_warm_up():
    """The levels search regroups after a level's expansion: that level's cost is still the warm-up's."""
    seen = []  # (judged as past the warm-up, regrouped when judged)

    search = CompiledSearch(Paxos({"ballots": 2}).compile(), progress=False, insist=True, workers=2)

    class Recording(Evidence):
        def level(self, states, seconds, traced, warm=True, reshaped=False):
            seen.append((warm, search.grouped))
            return super().level(states, seconds, traced, warm, reshaped)

    search.evidence = Recording(search.model, judging=True)
    search.run()
    assert (False, True) in seen  # the level that crossed the warm-up, judged as the warm-up
    assert all(not warm or regrouped for warm, regrouped in seen)
    assert (True, True) in seen


def test_a_piece_that_misses_on_every_state_is_called_directly_with_the_same_answer():
    model = Paxos({"ballots": 2}).compile()
    search = CompiledSearch(model, progress=False, insist=True)
    compiled = search.run()
    interpreted = check(Paxos({"ballots": 2}).compile(), progress=False, engine="interpreted")
    assert [u.name for u in search.direct.units] == ["Inv[8]"]  # the loop over every message
    assert (compiled.status, compiled.distinct_states, compiled.states_generated) == \
        (interpreted.status, interpreted.distinct_states, interpreted.states_generated)
    assert (compiled.status, compiled.distinct_states) == ("ok", 3921)


def test_a_direct_piece_still_finds_a_violation():
    broken = Paxos({"ballots": 2}, "no-promise-check").compile()
    compiled = check(broken, progress=False, engine="compiled", liveness=False)
    interpreted = check(Paxos({"ballots": 2}, "no-promise-check").compile(), progress=False, engine="interpreted",
                        liveness=False)
    assert compiled.status == interpreted.status == "violation"
    assert [str(a) for a, _ in compiled.violation.trace.steps] == [str(a) for a, _ in interpreted.violation.trace.steps]


# -- a domain that reads the state: which message to take from the set in flight ---------------------------
@record
class Relay(NamedTuple):
    inflight: frozenset  # (hop, value) messages
    delivered: tuple  # values, in order


class Relaying(Spec):
    """Each delivered message sends one more hop; the messages that can exist are met level by level."""

    name = "relaying"
    variants = {"skip": "a hop-2 message is delivered twice over"}

    def init(self):
        yield Relay(frozenset({(0, "a"), (0, "b")}), ())

    @action(m=lambda self, s: sorted(s.inflight))
    def Deliver(self, s, m):
        hop, value = m
        more = {(hop + 1, value)} if hop < 3 else set()
        delivered = s.delivered + ((value,) * (2 if self.variant == "skip" and hop == 2 else 1))
        return Relay(s.inflight - {m} | more, delivered)

    @always
    def AtMostEight(self, s):
        return len(s.delivered) <= 8 - (1 if self.variant == "skip" else 0)


def relaying(variant=None):
    model = Relaying({}, variant).compile()
    model.check_deadlock = False  # every message delivered is the end
    return model


def test_a_domain_that_reads_the_state_compiles_with_the_interpreted_counts():
    compiled = check(relaying(), progress=False, engine="compiled")
    interpreted = check(relaying(), progress=False, engine="interpreted")
    assert compiled.extra["engine"] == "compiled"
    assert (compiled.status, compiled.distinct_states, compiled.states_generated) == \
        (interpreted.status, interpreted.distinct_states, interpreted.states_generated)
    assert compiled.status == "ok"


def test_a_domain_that_reads_the_state_gives_the_interpreted_counterexample():
    compiled = check(relaying("skip"), progress=False, engine="compiled")
    interpreted = check(relaying("skip"), progress=False, engine="interpreted")
    assert compiled.status == interpreted.status == "violation"
    assert compiled.violation.trace.states == interpreted.violation.trace.states
    assert (compiled.distinct_states, compiled.states_generated) == \
        (interpreted.distinct_states, interpreted.states_generated)


def test_the_rows_of_one_action_compute_its_domain_once_a_real_state(monkeypatch):
    """A domain listed per state (one the membership test does not take, ``membership.py``)."""
    monkeypatch.setattr(domains_module, "member_domain", lambda *args: None)
    model = relaying()
    calls = []
    for d in model._per_state:
        def counted(s, domain=d.arguments):
            calls.append(s)
            return domain(s)
        d.arguments = counted
    domains = StateDomains(model)
    first = model.initial_states()[0]
    domains.seed([first, Relay(frozenset({(1, "a"), (2, "b")}), ())])
    rows = domains.rows()
    assert len(rows) == 4
    calls.clear()
    steps = [fn(first, *args) for _, fn, args in rows]
    assert len(calls) == 1  # one domain for the four rows
    assert [s is not None for s in steps] == [True, True, False, False]  # (0, a), (0, b) in flight at first
    assert steps[0] == Relaying({}).Deliver(first, (0, "a"))
    other = Relay(frozenset({(1, "a")}), ("b",))
    assert [fn(other, *args) is not None for _, fn, args in rows] == [False, False, True, False]
    assert len(calls) == 2  # a new state, a new domain
