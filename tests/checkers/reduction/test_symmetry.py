"""--symmetry: one state per orbit, exactly; traces in the original node names."""

from math import comb

import pytest

from consensuslab import check
from consensuslab.checkers.reduction.orbit_order import Fingerprints
from consensuslab.checkers.reduction.symmetry import brute_force, canonicaliser, mappings
from consensuslab.checkers.scale.partition import check_local
from consensuslab.errors import UsageError
from consensuslab.models.values import canon as canon_key
from consensuslab.protocols.paxos import Paxos
from consensuslab.protocols.two_phase import TwoPhase

from orbits import count_orbits, reachable
from replaying import replays
from tiny_models import Ring


def two_phase_orbits(n):
    """TM init: RMs working/prepared-unreceived/prepared-received/aborted (4 kinds); TM aborted: 6 kinds;
    TM committed: prepared or committed, all received (2 kinds): multisets of n RMs over each."""
    return comb(n + 3, 3) + comb(n + 5, 5) + (n + 1)


@pytest.mark.parametrize("rm", [3, 4, 5])
def test_two_phase_orbit_count_is_exact(rm):
    model = TwoPhase({"rm": rm}).compile()
    r = check(model, symmetry=True, progress=False)
    assert r.status == "ok" and r.extra["symmetry"] is True
    assert r.distinct_states == two_phase_orbits(rm)
    assert r.distinct_states < check(model, progress=False).distinct_states
    if rm < 5:  # n! permutations per state: keep it small
        assert r.distinct_states == count_orbits(model.definition, reachable(model))
        assert check_local(model, brute_force(model.definition)).distinct_states == r.distinct_states


def test_signature_sort_is_a_representative_of_the_orbit():
    d = TwoPhase({"rm": 4})
    model, maps = d.compile(), mappings(d)
    for s in list(reachable(model))[:300]:
        c = d.canonical(s)
        assert c == d.canonical(c)
        assert any(d.permute(s, m) == c for m in maps)


def test_two_phase_rm10_is_3300_orbits():
    assert check(TwoPhase({"rm": 10}).compile(), symmetry=True, progress=False).distinct_states == 3300 == two_phase_orbits(10)


def test_paxos_acceptors_and_values():
    model = Paxos.configure(scenario="default").compile()
    r = check(model, symmetry=True, workers=2, progress=False)
    assert r.status == "ok"
    assert r.distinct_states == count_orbits(model.definition, reachable(model)) == 443


def test_violation_trace_in_original_names_replays():
    model = Paxos.configure(scenario="minority-quorum").compile()
    r = check(model, symmetry=True, progress=False)
    assert r.status == "violation" and r.violation.property == "Consistency"
    assert len(r.violation.trace) == len(check(model, progress=False).violation.trace)
    last = replays(model, r.violation.trace)
    assert model.first_broken_invariant(last).name == "Consistency"


def test_refusals():
    with pytest.raises(UsageError, match="declares no symmetry"):
        canonicaliser(Ring({}).compile())
    from consensuslab.protocols.two_phase_actors import TwoPhaseActors

    with pytest.raises(UsageError, match="unsound for liveness"):  # the fair scenario names a liveness property
        check(TwoPhaseActors.configure(scenario="fair").compile(), symmetry=True, progress=False)


def test_default_runs_unchanged_and_cli():
    from clirun import cli_json

    assert check(TwoPhase({}).compile(), progress=False).distinct_states == 288
    proc, out = cli_json("check", "two-phase", "-p", "rm=6", "--symmetry")
    assert proc.returncode == 0, proc.stderr
    assert out["distinct_states"] == two_phase_orbits(6) and out["symmetry"] is True
    assert out["reduction"].startswith("symmetry(RM:6)")


# -- raft: servers are interchangeable (all of them, or within the ``candidates`` classes) ----------
def raft(scenario=None, **params):
    from consensuslab.protocols.raft import Raft

    model = Raft.configure(params, scenario=scenario).compile()
    return model


RAFT_CASES = [
    pytest.param(raft("tiny"), 6, 613, id="tiny"),  # 3,599 states unreduced
    # only s1, s2 may stand for election: the group keeps s3 in place
    pytest.param(raft(servers=3, max_term=3, candidates=2, drop=False), 2, 2764, id="two-candidates"),  # 5,523
]


@pytest.mark.parametrize("model,group,orbit_count", RAFT_CASES)
def test_raft_orbit_count_is_exact(model, group, orbit_count):
    states = reachable(model)
    assert len(mappings(model.definition)) == group
    assert count_orbits(model.definition, states) == orbit_count < len(states)
    r = check(model, symmetry=True, progress=False)
    assert r.status == "ok" and r.distinct_states == orbit_count
    assert "by signature sort" in r.extra["reduction"] and "checked against permute" in r.extra["reduction"]
    assert check_local(model, brute_force(model.definition)).distinct_states == orbit_count


@pytest.mark.parametrize("model,group,orbit_count", RAFT_CASES)
def test_raft_group_is_a_symmetry_of_the_model(model, group, orbit_count):
    """Renaming commutes with the successor relation, fixes the initial state and keeps every verdict;
    the canonical form is one state of the orbit, the same for every renaming.  (Every other
    reachable state, in a fixed order, to keep the test quick.)"""
    d = model.definition
    maps = mappings(d)
    props = [p.fn for p in model.invariants + model.witnesses]
    assert all(d.permute(s0, m) == s0 for s0 in model.initial_states() for m in maps)
    for s in sorted(reachable(model), key=canon_key)[::2]:
        after = {t for _, t in model.successors(s)}
        images = {d.permute(s, m) for m in maps}
        c = d.canonical(s)
        assert c in images and all(d.canonical(ps) == c for ps in images)
        for m in maps:
            ps = d.permute(s, m)
            assert {t for _, t in model.successors(ps)} == {d.permute(t, m) for t in after}
            assert [p(model.view(ps)) for p in props] == [p(model.view(s)) for p in props]
            assert all(d.committed_entries_immutable(ps, None, d.permute(t, m))
                       == d.committed_entries_immutable(s, None, t) for t in after)


def test_raft_candidates_bound_breaks_the_full_group():
    """With ``candidates=2`` s3 never times out: renaming s1 to s3 is no symmetry, so it is not declared."""
    model = raft(servers=3, candidates=2)
    d = model.definition
    assert d.symmetry == ("Candidate", "Voter") and d.Candidate == ("s1", "s2")
    s0 = model.initial_states()[0]
    swap = {"s1": "s3", "s2": "s2", "s3": "s1"}
    assert {d.permute(t, swap) for _, t in model.successors(s0)} != {t for _, t in model.successors(s0)}


def test_raft_small_quorum_same_verdict_and_trace_in_original_names():
    model = raft("small-quorum")
    plain, reduced = check(model, progress=False), check(model, symmetry=True, progress=False)
    assert (reduced.status, reduced.violation.property) == (plain.status, plain.violation.property) \
        == ("violation", "election_safety")
    assert len(reduced.violation.trace) == len(plain.violation.trace) == 4
    assert model.first_broken_invariant(replays(model, reduced.violation.trace)).name == "election_safety"


def test_raft_figure8_transition_violation_with_symmetry_replays():
    """Figure 8 breaks committed_entries_immutable (a transition property) in 44 steps unreduced too
    (tests/test_scenarios.py checks that run; 148,680 states, here half as many)."""
    from replaying import replay_states

    model = raft("figure8-immutable")
    r = check(model, symmetry=True, progress=False)
    assert r.status == "violation" and r.violation.property == "committed_entries_immutable"
    assert r.violation.kind == "transition" and len(r.violation.trace) == 44
    assert r.extra["reduction"] == "symmetry(Candidate:2, Voter:1) by signature sort (checked against permute)"
    states = replay_states(model, r.violation.trace)
    step = model.property_named("committed_entries_immutable").fn
    assert not step(states[-2], r.violation.trace.steps[-1][0], states[-1])
    assert all(step(a, None, b) for a, b in zip(states[:-2], states[1:-1]))


def test_raft_cli_symmetry_and_liveness_refusal():
    from clirun import cli, cli_json

    proc, out = cli_json("check", "raft", "-p", "servers=3", "-p", "max_term=2", "--symmetry")
    assert proc.returncode == 0, proc.stderr
    assert out["distinct_states"] == 613 and out["reduction"] == "symmetry(Server:3) by signature sort (checked against permute)"
    proc = cli("check", "raft", "--scenario", "no-gst", "--symmetry")
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "liveness" in proc.stderr


# -- the default (permute only) and a protocol's own canonical, checked ------------------------------
class SortsByStateOnly(TwoPhase):
    """A plausible but wrong signature sort: RMs sorted by rmState alone forget which sent Prepared."""

    def canonical(self, s):
        order = sorted(range(self.rm), key=lambda i: s.rmState[i])
        mapping = {self.RM[i]: self.RM[k] for k, i in enumerate(order)}
        return self.permute(s, mapping)


class KeepsTheState(TwoPhase):
    """Not a representative at all: every state is its own."""

    def canonical(self, s):
        return s


@pytest.mark.parametrize("cls", [SortsByStateOnly, KeepsTheState])
def test_a_wrong_canonical_is_an_error_not_a_wrong_count(cls):
    from consensuslab.errors import ModelError

    model = cls({"rm": 3}).compile()
    with pytest.raises(ModelError, match="canonical"):
        check(model, symmetry=True, progress=False)


def test_the_default_least_image_matches_orbits_counted_by_brute_force():
    from consensuslab.checkers.reduction.symmetry import LeastImage

    d = Paxos({"values": 3})
    model = d.compile()
    least = LeastImage(d)
    states = list(reachable(model))
    assert len(least.maps) == 36
    reps = {least(s) for s in states}
    assert len(reps) == count_orbits(model.definition, states)
    fingerprint = Fingerprints()  # the representative is the image with the least fingerprint, ties by canon
    for s in states[:200]:
        assert least(s) == min((d.permute(s, m) for m in least.maps), key=lambda i: (fingerprint(i), canon_key(i)))
    r = check(model, symmetry=True, progress=False)
    assert r.distinct_states == len(reps) and "least of 36 permutations" in r.extra["reduction"]
    assert r.extra["engine"] == "interpreted" and r.extra["engine_reason"].startswith("--symmetry")
