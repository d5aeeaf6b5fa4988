"""Two-phase commit: TLC's counts for TwoPhase.tla, and the actor layer agreeing with them."""

import pytest

from consensuslab import check
from consensuslab.protocols.two_phase import TwoPhase
from consensuslab.protocols.two_phase_actors import TwoPhaseActors

# rm=3: 288 (the TLA+ Examples' model); rm=6: 50,816 (stated in TwoPhase.tla's closing comment).
TLC_COUNTS = {3: 288, 6: 50816}


@pytest.mark.parametrize("rm,expected", sorted(TLC_COUNTS.items()))
def test_spec_matches_tlc(rm, expected):
    r = check(TwoPhase({"rm": rm}).compile(), progress=False)
    assert r.status == "ok"
    assert r.distinct_states == expected
    assert r.properties == {"TPTypeOK": "holds", "TCConsistent": "holds", "some_commit": "witnessed"}


@pytest.mark.parametrize("rm", [1, 2, 3, 4])
def test_actor_layer_gives_the_spec_counts(rm):
    spec = check(TwoPhase({"rm": rm}).compile(), progress=False)
    actors = check(TwoPhaseActors({"rm": rm}).compile(), progress=False)
    assert actors.status == spec.status == "ok"
    assert actors.distinct_states == spec.distinct_states
    assert actors.depth == spec.depth


def test_dfs_agrees_with_bfs():
    assert check(TwoPhase({"rm": 4}).compile(), search="dfs", progress=False).distinct_states == \
        check(TwoPhase({"rm": 4}).compile(), progress=False).distinct_states


def test_early_commit_variant_breaks_consistency():
    model = TwoPhase({"rm": 2}, variant="no-wait").compile()
    r = check(model, progress=False)
    assert r.violation.property == "TCConsistent"
    last = r.violation.trace.states[-1]
    assert "committed" in last.rmState and "aborted" in last.rmState


def test_coordinator_crash_blocks_but_stays_consistent():
    blocked = check(TwoPhaseActors.configure(scenario="coordinator-crash").compile(), progress=False)
    assert blocked.status == "deadlock"
    final = blocked.violation.trace.states[-1]
    assert "tm" in final.down
    assert any(s.phase == "prepared" for s in final.locals[1:])
    model = TwoPhaseActors.configure(scenario="coordinator-crash").compile()
    model.check_deadlock = False
    full = check(model, progress=False)
    assert full.status == "ok"
    assert full.properties["consistent"] == "holds"
    assert full.distinct_states > check(TwoPhaseActors({"rm": 2}).compile(), progress=False).distinct_states
