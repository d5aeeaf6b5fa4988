"""PBFT: safe with a Byzantine primary and across a view change; broken quorums are caught."""

import pytest

from consensuslab import check
from consensuslab.errors import UsageError
from consensuslab.protocols import protocol_class
from consensuslab.protocols.pbft import PBFT

from replaying import replay_states


def run(scenario=None, **kw):
    model = PBFT.configure(scenario=scenario, **kw).compile()
    return model, check(model, progress=False, time_limit=60)


def replay(model, result):
    """Re-execute the counterexample from its initial state with ``model.apply``."""
    trace = result.violation.trace
    replay_states(model, trace)
    return trace


def test_registry_name():
    assert protocol_class("pbft") is PBFT


def test_quorum_systems():
    assert PBFT.configure().quorum_system() == {"kind": "byzantine", "n": 4, "f": 1, "q": 3}
    assert PBFT.configure(variant="three-f").quorum_system() == {"kind": "byzantine", "n": 3, "f": 1, "q": 2}
    assert PBFT.configure(variant="weak-quorum").quorum_system()["q"] == 2
    assert PBFT.configure(params={"f": 2}).quorum_system() == {"kind": "byzantine", "n": 7, "f": 2, "q": 5}


def test_more_byzantine_replicas_than_f_is_a_usage_error():
    with pytest.raises(UsageError):
        PBFT.configure(params={"byzantine": "0,1"})


@pytest.mark.parametrize("scenario,states", [("default", 25768), ("byzantine-new-primary", 21816)])
def test_safe_with_a_byzantine_primary(scenario, states):
    _, r = run(scenario)
    assert r.status == "ok" and r.distinct_states == states
    assert r.properties["request_committed"] == "witnessed"
    assert r.properties["new_view_prepared"] == "witnessed"  # the view change is exercised


def test_three_f_equivocation_splits_agreement():
    model, r = run("three-f")
    assert r.status == "violation" and r.violation.property == "agreement"
    trace = replay(model, r)
    assert len(trace) == 6
    spec = model.definition
    assert all(spec.agreement(s) for s in trace.states[:-1]) and not spec.agreement(trace.states[-1])


def test_weak_quorum_loses_a_commit_across_the_view_change():
    model, r = run("weak-quorum")
    assert r.status == "violation" and r.violation.property == "agreement"
    trace = replay(model, r)
    assert len(trace) == 12
    assert any(a.name == "AcceptByzantineNewView" for a in trace.actions)
    assert not model.definition.agreement(trace.states[-1])


def test_weak_quorum_also_breaks_committed_stable():
    model, r = run(variant="weak-quorum", params={"byzantine": "1"})
    assert r.status == "violation" and r.violation.property == "committed_stable"
    trace = replay(model, r)
    (before, _), (act, after) = (trace.states[-2], None), trace.steps[-1]
    assert not model.definition.committed_stable(before, act, after)


def test_quorum_parameter_overrides_the_quorum_size():
    model, r = run(params={"quorum": 2, "byzantine": "0"})
    assert model.definition.quorum_system()["q"] == 2
    assert r.status == "violation" and r.violation.property == "agreement"
    replay(model, r)
