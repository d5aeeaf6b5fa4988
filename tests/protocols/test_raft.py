"""Raft (raft.tla): pinned small scenarios, the Figure 8 violation replayed, quorum configuration."""

from collections import deque

import pytest

from consensuslab import check
from consensuslab.models.properties import sometimes
from consensuslab.protocols import protocol_class
from consensuslab.protocols.raft import CANDIDATE, FOLLOWER, LEADER, Raft, RaftState

from replaying import replay_states


def run(scenario, params=None, variant=None, cls=Raft):
    model = cls.configure(params=params, variant=variant, scenario=scenario).compile()
    return model, check(model, progress=False, time_limit=240)


def replay(model, trace):
    """Re-execute the trace by action from its initial state; returns the states reached."""
    return replay_states(model, trace)


def reachable(model):
    seen, queue = set(), deque(model.initial_states())
    seen.update(queue)
    while queue:
        s = queue.popleft()
        for _, t in model.successors(s):
            if t not in seen:
                seen.add(t)
                queue.append(t)
    return seen


def test_registered_under_its_cli_name():
    assert protocol_class("raft") is Raft


def test_tiny_holds_with_pinned_count():
    _, r = run("tiny")
    assert r.status == "ok"
    assert r.distinct_states == 3599
    assert set(r.properties.values()) == {"holds", "witnessed"}


class RaftWithFaultWitnesses(Raft):
    """The restart scenario must actually restart servers and duplicate messages."""

    @sometimes
    def restarted(self, s):
        return s.restarts > 0

    @sometimes
    def duplicated(self, s):
        return any(k > 1 for _, k in s.messages)


def test_restart_scenario_exercises_restarts_and_duplicates():
    _, r = run("restart", cls=RaftWithFaultWitnesses)
    assert r.status == "ok", r.violation
    assert r.distinct_states == 11972
    assert r.properties["restarted"] == r.properties["duplicated"] == "witnessed"


def test_role_dispatch_gives_the_action_tables_successors():
    model = Raft.configure(scenario="tiny", params={"max_copies": 2, "max_messages": 2, "max_term": 2,
                                                    "max_restarts": 1, "servers": 2}).compile()
    states = reachable(model)
    assert len(states) > 500
    for s in states:
        assert model.successors(s) == model.all_successors(s)


@pytest.fixture(scope="module")
def figure8():
    return run("figure8")


def test_figure8_violates_state_machine_safety(figure8):
    model, r = figure8
    assert r.status == "violation"
    assert r.violation.property == "state_machine_safety"
    trace = r.violation.trace
    assert len(trace) == 48  # breadth-first: no shorter counterexample exists within these bounds
    states = replay(model, trace)
    prop = model.property_named("state_machine_safety")
    assert not prop.fn(states[-1])
    assert all(prop.fn(s) for s in states[:-1])
    # the paper's story: an entry of term 2 is committed by the leader of term 4, then
    # the leader of term 5 overwrites it with its own entry of term 3 and commits that
    committed = {(index, term, when) for index, term, _, when in states[-1].committed}
    assert committed == {(1, 2, 4), (1, 3, 5)}
    leaders = {(s.currentTerm[k], k) for s in states for k, st in enumerate(s.state) if st == LEADER}
    assert {t for t, _ in leaders} == {2, 3, 4, 5}


def test_correct_protocol_passes_the_figure8_bounds():
    model, r = run("figure8-bounds")
    assert r.status == "ok"
    assert r.distinct_states == 109433
    assert r.properties["entry_committed"] == "witnessed"


def test_small_quorum_elects_two_leaders_in_one_term():
    model, r = run("small-quorum")
    assert r.status == "violation" and r.violation.property == "election_safety"
    states = replay(model, r.violation.trace)
    last = states[-1]
    assert len(r.violation.trace) == 4
    assert sorted(t for t, st in zip(last.currentTerm, last.state) if st == LEADER) == [2, 2]
    # the same bounds with majorities are safe (no entries, so entry_committed stays unwitnessed)
    _, ok = run("small-quorum", params={"quorum": 0})
    assert ok.properties["election_safety"] == "holds"
    assert ok.violation is None or ok.violation.kind == "sometimes"


def test_quorum_system():
    assert Raft().quorum_system() == {"kind": "majority", "n": 3, "q": 2}
    assert Raft({"servers": 4}).quorum_system() == {"kind": "majority", "n": 4, "q": 3}
    assert Raft({"quorum": 1}).quorum_system() == {"kind": "threshold", "n": 3, "q": 1}


def state(**changes):
    """A 3-server state, the initial one with ``changes``."""
    return next(iter(Raft().init()))._replace(**changes)


def test_properties_reject_bad_states():
    spec = Raft()
    assert spec.election_safety(state(state=(LEADER, LEADER, FOLLOWER), currentTerm=(2, 3, 1)))
    assert not spec.election_safety(state(state=(LEADER, LEADER, FOLLOWER), currentTerm=(2, 2, 2)))
    # same (index, term) at index 2 but different entries below it
    assert not spec.log_matching(state(log=(((2, 1), (3, 1)), ((2, 2), (3, 1)), ())))
    assert spec.log_matching(state(log=(((2, 1), (3, 1)), ((2, 1), (4, 1)), ((2, 1),))))
    applied = frozenset({(1, 2, 1, 2)})
    assert not spec.leader_completeness(state(committed=applied, state=(FOLLOWER, LEADER, FOLLOWER),
                                              currentTerm=(2, 3, 3), log=(((2, 1),), ((3, 1),), ())))
    assert spec.leader_completeness(state(committed=applied, state=(LEADER, FOLLOWER, FOLLOWER),
                                          currentTerm=(2, 3, 3), log=(((2, 1),), ((3, 1),), ())))
    assert not spec.state_machine_safety(state(committed=applied | {(1, 3, 1, 3)}))
    before = state(log=(((2, 1),), (), ()), commitIndex=(1, 0, 0))
    assert not spec.committed_entries_immutable(before, None, before._replace(log=((), (), ())))
    assert spec.committed_entries_immutable(before, None, before._replace(log=(((2, 1), (2, 1)), (), ())))


def test_restart_keeps_term_vote_and_log():
    spec = Raft({"max_restarts": 1})
    s = state(currentTerm=(3, 1, 1), state=(CANDIDATE, FOLLOWER, FOLLOWER), votedFor=("s1", "Nil", "Nil"),
              log=(((2, 1),), (), ()), commitIndex=(1, 0, 0), votesResponded=(frozenset({"s1"}),) + (frozenset(),) * 2,
              votesGranted=(frozenset({"s1"}),) + (frozenset(),) * 2)
    t = spec.Restart(s, "s1")
    assert (t.currentTerm, t.votedFor, t.log) == (s.currentTerm, s.votedFor, s.log)
    assert t.state[0] == FOLLOWER and t.commitIndex[0] == 0 and not t.votesGranted[0]
    assert spec.Restart(t, "s2") is None  # the restart budget is spent
    assert isinstance(t, RaftState)
