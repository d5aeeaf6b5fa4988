"""Paxos.tla transcribed: TLC's state count, the invariants, and both broken variants caught."""

from __future__ import annotations

from itertools import combinations

import pytest

from consensuslab import check
from consensuslab.errors import UsageError
from consensuslab.protocols import protocol_class
from consensuslab.protocols.paxos import Paxos

from replaying import replay_states


def run(scenario=None, params=None, variant=None, **kw):
    return check(Paxos.configure(params, variant, scenario).model(), progress=False, **kw)


def replayed(result):
    """Re-execute the counterexample by action values; return the final state."""
    model = Paxos.configure(result.model_meta["params"], result.model_meta["variant"],
                            result.model_meta["scenario"]).model()
    return model, replay_states(model, result.violation.trace)[-1]


def test_registered():
    assert protocol_class("paxos") is Paxos


def test_mcpaxos_matches_tlc():
    # TLA+ Examples manifest, MCPaxos.cfg (1 acceptor, 1 value, MCBallot = 0..1):
    # distinctStates 25, stateDepth 9 (TLC counts the initial state as depth 1).
    r = run("mc")
    assert r.status == "ok"
    assert r.distinct_states == 25
    assert r.depth == 8
    assert r.properties == {"TypeOK": "holds", "Consistency": "holds", "Inv": "holds",
                            "value_chosen": "witnessed"}


def test_default_scenario_pinned():
    r = run("default")
    assert r.status == "ok"
    assert r.distinct_states == Paxos.scenario_named("default").states == 3921
    assert r.properties["Inv"] == "holds" and r.properties["Consistency"] == "holds"


def test_minimal_quorums_are_equivalent_to_all_majorities():
    # MCPaxos lists only the minimal majorities; with every majority the graph is the same.
    class AllMajorities(Paxos):
        def setup(self):
            super().setup()
            self.Quorum = tuple(frozenset(Q) for k in range(self.q, self.acceptors + 1)
                                for Q in combinations(self.Acceptor, k))

    r = check(AllMajorities({}).model(), progress=False)
    assert r.status == "ok" and r.distinct_states == 3921


def test_minority_quorum_shortest_counterexample_is_tlcs_eight_steps():
    r = run("minority-quorum")
    assert r.status == "violation" and r.violation.property == "Consistency"
    assert len(r.violation.trace) <= 8  # TLC's shortest counterexample has 8 steps
    assert len(r.violation.trace) == 8
    model, last = replayed(r)
    assert len(model.spec.chosen(last)) == 2


def test_no_promise_check_breaks_consistency():
    r = run("no-promise-check")
    assert r.status == "violation" and r.violation.property == "Consistency"
    assert len(r.violation.trace) == 12
    model, last = replayed(r)
    assert len(model.spec.chosen(last)) == 2


def test_no_promise_check_breaks_the_inductive_invariant_first():
    r = run(params={}, variant="no-promise-check")
    assert r.status == "violation" and r.violation.property == "Inv"
    assert len(r.violation.trace) == 7


def test_quorum_parameter_and_quorum_system():
    assert Paxos({}).quorum_system() == {"kind": "majority", "n": 3, "q": 2}
    assert Paxos({}, "minority-quorum").quorum_system() == {"kind": "threshold", "n": 3, "q": 1}
    assert Paxos({"acceptors": 4, "quorum": 2}).quorum_system() == {"kind": "threshold", "n": 4, "q": 2}
    r = run(params={"acceptors": 2, "quorum": 1})
    assert r.status == "violation" and r.violation.property == "Consistency"
    with pytest.raises(UsageError):
        Paxos({"acceptors": 3, "quorum": 4})


def test_successors_are_deterministic():
    model = Paxos({}).model()
    s0 = model.initial_states()[0]
    first = model.successors(s0)
    assert [a.key for a, _ in first] == sorted(a.key for a, _ in first)
    assert model.successors(s0) == first
