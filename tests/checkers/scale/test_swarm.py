"""--swarm N: finds violations with replayable traces, never claims ok, same seed same answer."""

from consensuslab.checkers.scale.swarm import check_swarm
from consensuslab.protocols.two_phase import TwoPhase

from replaying import replays
from tiny_models import Ring


def test_finds_the_violation_and_the_trace_replays():
    model = TwoPhase({"rm": 6}, variant="no-wait").compile()
    r = check_swarm(model, 6, seed=7, max_states=3000)
    assert r.status == "violation" and r.violation.property == "TCConsistent"
    last = replays(model, r.violation.trace)
    assert model.first_broken_invariant(last).name == "TCConsistent"
    again = check_swarm(model, 6, seed=7, max_states=3000)
    assert again.violation.trace.actions == r.violation.trace.actions
    assert again.extra["swarm"] == r.extra["swarm"]


def test_nothing_found_is_incomplete_with_coverage():
    model = TwoPhase({"rm": 4}).compile()
    r = check_swarm(model, 4, seed=1, max_states=400)
    assert r.status == "incomplete" and r.exit_code != 0
    cov = r.extra["swarm"]
    assert cov["searches_run"] == 4 and all(s["states"] <= 400 for s in cov["per_search"])
    assert 400 <= cov["union_states"] == r.distinct_states <= 1568
    assert len({s["order"] for s in cov["per_search"]}) >= 2


def test_transition_violation_and_seeds_differ():
    ring = Ring({"size": 30, "step_bad": 20}).compile()
    r = check_swarm(ring, 2, seed=0)
    assert r.violation.kind == "transition" and replays(ring, r.violation.trace).n == 20
    model = TwoPhase({"rm": 7}, variant="no-wait").compile()
    a, b = (check_swarm(model, 3, seed=s, max_states=2000) for s in (1, 2))
    assert a.violation.trace.actions != b.violation.trace.actions


def test_forked_workers_give_the_same_answer():
    model = TwoPhase({"rm": 6}, variant="no-wait").compile()
    one = check_swarm(model, 6, seed=4, max_states=2000)
    two = check_swarm(model, 6, seed=4, max_states=2000, workers=2)
    assert two.extra["workers"] == 2
    assert two.violation.trace.actions == one.violation.trace.actions
    assert two.extra["swarm"]["per_search"] == one.extra["swarm"]["per_search"]
