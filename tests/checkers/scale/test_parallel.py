"""--workers N: the partitioned search agrees with the single-worker checker."""

import pytest

from consensuslab import check
from consensuslab.checkers.scale.partition import check_local
from consensuslab.checkers.scale.workers import check_parallel
from consensuslab.protocols.hash_chain import HashChain
from consensuslab.protocols.two_phase import TwoPhase

from replaying import replays
from tiny_models import Grid, Ring, TwoBits


def check_parallel_now(model, workers, **kw):
    """``check_parallel`` handing over to the workers from the first level, so they do the search."""
    return check_parallel(model, workers, split=1, **kw)


@pytest.mark.parametrize("rm", [3, 4, 5])
def test_two_phase_counts_match_one_worker(rm):
    model = TwoPhase({"rm": rm}).compile()
    one = check(model, progress=False)
    two = check_parallel_now(model, 2, progress=False)
    assert (two.status, two.distinct_states, two.states_generated, two.depth) == \
        (one.status, one.distinct_states, one.states_generated, one.depth)
    assert two.extra["workers"] == 2 and two.extra["symmetry"] is False
    assert two.properties == one.properties


def test_three_workers_on_hash_chain_and_its_broken_variant():
    for variant in (None, "unlinked"):
        model = HashChain({}, variant=variant).compile()
        one = check(model, progress=False)
        three = check_parallel_now(model, 3, progress=False)
        assert three.status == one.status
        if one.status == "ok":
            assert three.distinct_states == one.distinct_states == 1517
        else:
            assert three.violation.property == one.violation.property
            assert len(three.violation.trace) == len(one.violation.trace)  # both shortest
            replays(model, three.violation.trace)


def test_violation_trace_is_rebuilt_from_owners_and_replays():
    model = TwoPhase({"rm": 4}, variant="no-wait").compile()
    one = check(model, progress=False)
    two = check_parallel_now(model, 2, progress=False)
    assert two.status == "violation" and two.violation.property == "TCConsistent"
    assert len(two.violation.trace) == len(one.violation.trace)
    last = replays(model, two.violation.trace)
    assert model.first_broken_invariant(last).name == "TCConsistent"


def test_transition_property_and_deadlock_and_witness():
    ring = Ring({"size": 7, "step_bad": 4}).compile()
    r = check_parallel_now(ring, 2, progress=False)
    assert r.status == "violation" and r.violation.kind == "transition" and len(r.violation.trace) == 4
    assert replays(ring, r.violation.trace).n == 4
    grid = Grid({"size": 3}).compile()
    grid.definition.done = None
    assert check_parallel_now(grid, 2, progress=False).status == check(grid, progress=False).status
    bits = TwoBits({"witness": True}).compile()
    assert check_parallel_now(bits, 2, progress=False).properties == check(bits, progress=False).properties


def test_limits_make_it_incomplete_never_ok():
    model = TwoPhase({"rm": 4}).compile()
    r = check_parallel_now(model, 2, max_depth=3, progress=False)
    assert r.status == "incomplete" and r.stopped_by == "max-depth"
    assert r.distinct_states == check(model, max_depth=3, progress=False).distinct_states
    assert check_local(model, max_states=100).status == "incomplete"


def test_cli_workers_json():
    from clirun import cli_json

    proc, out = cli_json("check", "two-phase", "-p", "rm=4", "--workers", "2", "--engine", "interpreted")
    assert proc.returncode == 0, proc.stderr
    assert out["distinct_states"] == 1568 and out["workers"] == 2 and out["symmetry"] is False
    assert "reduction" in out


def test_scaled_searches_refuse_liveness_and_bad_combinations():
    from consensuslab.errors import UsageError

    model = TwoPhase({}).compile()
    with pytest.raises(UsageError, match="cannot be combined"):
        check(model, workers=2, checkpoint="ck", cluster="local:2", progress=False)
    from consensuslab.protocols.two_phase_actors import TwoPhaseActors

    model = TwoPhaseActors.configure(scenario="fair").compile()  # its scenario names a liveness property
    with pytest.raises(UsageError, match="safety only"):
        check(model, workers=2, progress=False)
    with pytest.raises(UsageError, match="unsound for liveness"):
        check(model, workers=2, symmetry=True, progress=False)


SAME_SEARCH = """
import json
from consensuslab.checkers.scale.workers import check_parallel
from consensuslab.protocols.two_phase import TwoPhase
r = check_parallel(TwoPhase({"rm": 4}, variant="no-wait").compile(), 2, progress=False, split=1)
print(json.dumps([str(a) for a, _ in r.violation.trace.steps]))
"""


def test_same_counterexample_whatever_the_hash_salt():
    """Which worker keeps a state found twice does not depend on hash values, so runs agree."""
    import os
    import subprocess
    import sys

    runs = [subprocess.run([sys.executable, "-c", SAME_SEARCH], capture_output=True, text=True, check=True,
                           env={**os.environ, "PYTHONHASHSEED": seed}).stdout for seed in ("1", "2", "3")]
    assert runs[0] and runs[0] == runs[1] == runs[2]
