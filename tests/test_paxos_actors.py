"""Paxos as proposer, acceptor and learner actors: scenarios pinned, variants caught and replayed."""

from __future__ import annotations

import pytest

from consensuslab.checkers.explicit import check
from consensuslab.protocols import protocol_class
from consensuslab.protocols.paxos_actors import PaxosActors
from replaying import replay_states

SMALL = ("default", "lossy", "crash", "stable-leader")


def run(scenario=None, params=None, variant=None, **kw):
    return check(PaxosActors.configure(params, variant, scenario).model(), progress=False, **kw)


def replay(result):
    meta = result.model_meta
    model = PaxosActors.configure(meta["params"], meta["variant"], meta["scenario"]).model()
    trace = result.violation.trace
    replay_states(model, trace)
    return model, trace


def test_registered():
    assert protocol_class("paxos-actors") is PaxosActors


@pytest.mark.parametrize("name", SMALL)
def test_small_scenarios_exhaustively(name):
    scenario = PaxosActors.scenario_named(name)
    r = run(name)
    assert r.status == "ok"
    assert r.distinct_states == scenario.states
    assert r.properties == {"agreement": "holds", "validity": "holds", "decision_stable": "holds",
                            "some_decision": "witnessed"}


def test_dueling_proposers_safe_within_a_budget():
    r = run("dueling-proposers", max_states=20_000)
    assert r.status == "incomplete" and r.violation is None


def test_minority_quorum_caught():
    r = run("minority-quorum")
    assert r.status == "violation" and r.violation.property == "decision_stable"
    assert len(r.violation.trace) == 10
    model, trace = replay(r)
    before, after = model.view(trace.states[-2]), model.view(trace.states[-1])
    decisions = (before.states("learner")[0].decision, after.states("learner")[0].decision)
    assert decisions == ("v1", "v2")


def test_minority_quorum_breaks_agreement_between_learners():
    r = run(params={"learners": 2}, variant="minority-quorum", search="dfs")
    assert r.status == "violation" and r.violation.property in ("agreement", "decision_stable")
    replay(r)


def test_no_promise_check_caught():
    # BFS finds the 18-step counterexample but visits ~180,000 states; DFS is quicker.
    r = run("no-promise-check", search="dfs")
    assert r.status == "violation" and r.violation.property == "decision_stable"
    replay(r)


def test_quorum_system():
    assert PaxosActors({}).quorum_system() == {"kind": "majority", "n": 3, "q": 2}
    assert PaxosActors({}, "minority-quorum").quorum_system()["q"] == 1
    assert PaxosActors({"acceptors": 4, "quorum": 2}).quorum_system() == {"kind": "threshold", "n": 4, "q": 2}


def test_ballots_are_owned_round_robin():
    p = PaxosActors({"proposers": 2, "max_ballot": 4})
    assert p.owned == {"p1": (0, 2, 4), "p2": (1, 3)}
