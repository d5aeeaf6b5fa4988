"""--symmetry: one state per orbit, exactly; traces in the original node names."""

from math import comb

import pytest

from consensuslab.checkers.explicit import check
from consensuslab.checkers.symmetry import brute_force, canonicaliser, check_symmetric, mappings
from consensuslab.errors import UsageError
from consensuslab.protocols.paxos import Paxos
from consensuslab.protocols.two_phase import TwoPhase
from test_parallel import replays
from tiny_models import Ring


def reachable(model):
    seen, todo = set(model.initial_states()), list(model.initial_states())
    while todo:
        for _, nxt in model.successors(todo.pop()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def orbits(model, states):
    """Orbit count by brute force over the unreduced state space (no use of the checker's canonicaliser)."""
    d = model.definition
    maps = mappings(d)
    return len({frozenset(d.permute(s, m) for m in maps) for s in states})  # an orbit names itself


def two_phase_orbits(n):
    """TM init: RMs working/prepared-unreceived/prepared-received/aborted (4 kinds); TM aborted: 6 kinds;
    TM committed: prepared or committed, all received (2 kinds): multisets of n RMs over each."""
    return comb(n + 3, 3) + comb(n + 5, 5) + (n + 1)


@pytest.mark.parametrize("rm", [3, 4, 5])
def test_two_phase_orbit_count_is_exact(rm):
    model = TwoPhase({"rm": rm}).compile()
    r = check_symmetric(model)
    assert r.status == "ok" and r.extra["symmetry"] is True
    assert r.distinct_states == two_phase_orbits(rm)
    assert r.distinct_states < check(model, progress=False).distinct_states
    if rm < 5:  # n! permutations per state: keep it small
        assert r.distinct_states == orbits(model, reachable(model))
        assert check_symmetric(model, canon=brute_force(model.definition)).distinct_states == r.distinct_states


def test_signature_sort_is_a_representative_of_the_orbit():
    d = TwoPhase({"rm": 4})
    model, maps = d.compile(), mappings(d)
    for s in list(reachable(model))[:300]:
        c = d.canonical(s)
        assert c == d.canonical(c)
        assert any(d.permute(s, m) == c for m in maps)


def test_two_phase_rm10_is_3300_orbits():
    assert check_symmetric(TwoPhase({"rm": 10}).compile()).distinct_states == 3300 == two_phase_orbits(10)


def test_paxos_acceptors_and_values():
    model = Paxos.configure(scenario="default").compile()
    r = check_symmetric(model, workers=2)
    assert r.status == "ok"
    assert r.distinct_states == orbits(model, reachable(model)) == 443


def test_violation_trace_in_original_names_replays():
    model = Paxos.configure(scenario="minority-quorum").compile()
    r = check_symmetric(model)
    assert r.status == "violation" and r.violation.property == "Consistency"
    assert len(r.violation.trace) == len(check(model, progress=False).violation.trace)
    last = replays(model, r.violation.trace)
    assert model.first_broken_invariant(last).name == "Consistency"


def test_refusals():
    with pytest.raises(UsageError, match="declares no symmetry"):
        canonicaliser(Ring({}).compile())
    with pytest.raises(UsageError, match="unsound for liveness"):
        canonicaliser(TwoPhase({}).compile(), liveness=True)


def test_default_runs_unchanged_and_cli():
    from clirun import cli_json

    assert check(TwoPhase({}).compile(), progress=False).distinct_states == 288
    proc, out = cli_json("check", "two-phase", "-p", "rm=6", "--symmetry")
    assert proc.returncode == 0, proc.stderr
    assert out["distinct_states"] == two_phase_orbits(6) and out["symmetry"] is True
    assert out["reduction"].startswith("symmetry(RM:6)")
