"""Raft's leader election as actors: pinned counts, safety, and the broken variants found and replayed."""

import pytest

from consensuslab import check
from consensuslab.protocols.raft_election import LEADER, RaftElection
from replaying import replays


@pytest.mark.parametrize("scenario, states", [("default", 248), ("restart", 1675), ("two-terms", 179)])
def test_scenarios_hold_with_pinned_counts(scenario, states):
    result = check(RaftElection.configure(scenario=scenario).compile(), progress=False)
    assert result.status == "ok"
    assert result.distinct_states == states
    assert result.properties == {"election_safety": "holds", "leader_elected": "witnessed"}


def test_a_forgotten_vote_elects_two_leaders_in_one_term():
    model = RaftElection.configure(scenario="forget-vote").compile()
    result = check(model, progress=False)
    assert result.status == "violation" and result.violation.property == "election_safety"
    last = replays(model, result.violation.trace)
    leaders = [s.term for s in last.locals if s.role == LEADER]
    assert len(leaders) == 2 and len(set(leaders)) == 1
    kinds = [a.kind for a in result.violation.trace.actions]
    assert "crash" in kinds and "recover" in kinds  # the second vote needs the restart


def test_the_same_crash_keeps_the_vote_when_it_is_durable():
    restart = check(RaftElection.configure(scenario="restart").compile(), progress=False)
    assert restart.status == "ok"  # the forget-vote scenario, with votedFor on stable storage


def test_quorums_of_one_elect_two_leaders_at_once():
    result = check(RaftElection.configure(scenario="small-quorum").compile(), progress=False)
    assert result.violation.property == "election_safety" and len(result.violation.trace) == 2
