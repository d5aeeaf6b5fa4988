"""The Z3 queries: cross-checked against brute force up to n=7, and the literature's bounds
(crash 2f+1, Byzantine 3f+1 with 2f+1, masking 4f+1, flexible |Q1|+|Q2|>n) out of the solver."""

import itertools
import random
from fractions import Fraction

import pytest

from consensuslab.checkers.quorum.fbas import Fbas, QuorumSet, load_stellar
from consensuslab.checkers.quorum.queries import check, check_requirement, smallest_blocking_set, smallest_splitting_set
from consensuslab.checkers.quorum.synth import largest_faulty_weight, largest_tolerable_f, synthesize
from consensuslab.checkers.quorum.systems import (
    Availability,
    Budget,
    ByzantineIntersection,
    Explicit,
    Flexible,
    Hierarchical,
    Intersection,
    Masking,
    Threshold,
    Weighted,
    requirements_for,
)

from paths import DATA

STELLAR = str(DATA / "stellar-pubnet-2025-07-20.json")


def subsets(nodes):
    return (frozenset(c) for r in range(len(nodes) + 1) for c in itertools.combinations(nodes, r))


def brute_violated(system, req) -> bool:
    """The requirement's definition, evaluated over every quorum pair and faulty set."""
    b = req.budget
    allowed = [f for f in subsets(system.nodes) if b.allows(system, f)]
    if isinstance(req, Availability):
        return any(req.violated_by(system, (), (), f) for f in allowed)
    sa, sb = system.sides()
    qa, qb = sa.quorums(), sb.quorums()
    for a, q in itertools.product(qa, qb):
        overlap = a & q
        if isinstance(req, Intersection) and not overlap:
            return True
        if isinstance(req, ByzantineIntersection) and b.allows(system, overlap):
            return True
        if isinstance(req, Masking) and len(overlap) <= 2 * b.count:
            return True
    return False


def requirements(max_f):
    out = [Intersection()]
    for f in range(max_f + 1):
        out += [ByzantineIntersection(Budget(f)), Masking(Budget(f)), Availability(Budget(f))]
    return out


def assert_agrees(system, req, encoding="auto"):
    got = check_requirement(system, req, encoding=encoding)
    expected = brute_violated(system, req)
    assert got.status == ("violated" if expected else "holds"), (system, req, got)
    if expected:       # the witness re-checks in plain Python
        w = got.witness
        assert req.violated_by(system, w.quorum_a, w.quorum_b, w.faulty)


@pytest.mark.parametrize("n", range(1, 8))
def test_threshold_matches_brute_force_for_every_q(n):
    for q in range(1, n + 1):
        for req in requirements(2):
            for encoding in ("counts", "nodes"):
                assert_agrees(Threshold(n, q), req, encoding)


def test_flexible_hierarchical_explicit_match_brute_force():
    systems = [Flexible(5, 3, 2), Flexible(5, 4, 2), Flexible(6, 2, 4),
               Hierarchical.majorities([3, 3]), Hierarchical.majorities([2, 3, 2]),
               Hierarchical((("a", "b"), ("c", "d", "e")), 1, (2, 2)),
               Explicit.parse("a,b;b,c;a,c"), Explicit.parse("a,b;c,d"), Explicit.parse("a,b,c;c,d,e;a,e,f,g")]
    for s in systems:
        for req in requirements(1):
            assert_agrees(s, req)


def test_weighted_matches_brute_force():
    rng = random.Random(7)
    for trial in range(12):
        n = rng.randint(2, 7)
        w = Weighted.of([rng.randint(0 if trial % 3 else 1, 9) for _ in range(n)],
                        rng.choice(["1/2", "2/3", "0.6"]))
        for x in ("0", "0.1", "0.2", "1/3"):
            for req in requirements_for("byzantine-weight", x) + requirements_for("crash", 1):
                assert_agrees(w, req)


def test_threshold_examples_of_the_issue():
    r = check(Threshold(4, 2), requirements_for("crash", 0))
    assert r.status == "violated" and r.decisive.witness.quorum_a == ("n1", "n2")
    assert r.decisive.witness.quorum_b == ("n3", "n4")
    assert check(Threshold(6, 4), requirements_for("byzantine", 1)).status == "holds"
    r = check(Weighted.of([40, 20, 20, 10, 10], "0.5"), requirements_for("byzantine-weight", "0.2"))
    assert r.status == "violated" and r.decisive.why == "their overlap {n2} is all faulty"
    r = check(Flexible(10, 8, 2), requirements_for("crash", 0))
    assert r.status == "violated" and len(r.decisive.witness.quorum_b) == 2
    assert r.decisive.encoding and r.decisive.solver["random_seed"] == 0


def test_large_threshold_both_verdicts():
    assert check(Threshold(49, 33), requirements_for("byzantine", 16)).status == "holds"
    r = check(Threshold(49, 33), requirements_for("byzantine", 17))
    assert r.status == "violated" and len(r.decisive.witness.faulty) == 17
    for encoding in ("nodes", "counts"):
        assert check_requirement(Threshold(49, 33), ByzantineIntersection(Budget(17)),
                                 encoding=encoding).status == "violated"


def test_literature_bounds_come_out_of_the_solver():
    fs = range(1, 7)
    assert [(r.n, r.q) for r in synthesize("crash", fs)] == [(2 * f + 1, f + 1) for f in fs]
    assert [(r.n, r.q) for r in synthesize("byzantine", fs)] == [(3 * f + 1, 2 * f + 1) for f in fs]
    assert [(r.n, r.q) for r in synthesize("masking", fs)] == [(4 * f + 1, 3 * f + 1) for f in fs]
    for r in synthesize("flexible", fs, n=13):
        assert r.q1 + r.q2 == 13 + 1 and r.q1 == 13 - r.f
        assert check_requirement(Flexible(13, r.q1, r.q2 - 1), Intersection()).status == "violated"


def test_minimal_sets_for_thresholds():
    for n, q in [(4, 3), (7, 5), (10, 7), (9, 5)]:
        s, b = smallest_splitting_set(Threshold(n, q)), smallest_blocking_set(Threshold(n, q))
        assert (s.size, b.size) == (max(0, 2 * q - n), n - q + 1)
        assert s.lower_bound_proved and b.lower_bound_proved
        assert s.queries[-1][1] == "unsat" and s.queries[-1][0] == s.size - 1 or s.size == 0


def test_largest_f_and_weight():
    assert largest_tolerable_f(Threshold(10, 7), "byzantine")[0] == 3
    bound = largest_faulty_weight(Weighted.of([40, 20, 20, 10, 10], "0.5"))
    assert bound.breaking == 20 and bound.breaking / bound.total == Fraction(1, 5)


def _toy_fbas(t):
    """Two groups of three; each node needs t of its own group and 1 of the other group."""
    left, right = ("a", "b", "c"), ("d", "e", "f")
    qs = {}
    for mine, other in ((left, right), (right, left)):
        for v in mine:
            qs[v] = QuorumSet(2, (), (QuorumSet(t, mine), QuorumSet(1, other)))
    return Fbas(tuple(qs.items()))


def brute_min(fb, good):
    for k in range(len(fb.nodes) + 1):
        for f in itertools.combinations(fb.nodes, k):
            if good(set(f)):
                return k
    return None


def test_fbas_matches_brute_force():
    for t in (1, 2, 3):
        fb = _toy_fbas(t)
        qs = [q for q in subsets(fb.nodes) if q and fb.is_quorum(q)]

        def splits(f):
            return any(fb.is_quorum(a, f) and fb.is_quorum(b, f) and a & b <= f
                       for a in subsets(fb.nodes) for b in subsets(fb.nodes))
        disjoint = any(not a & b for a in qs for b in qs)
        assert check_requirement(fb, Intersection()).status == ("violated" if disjoint else "holds")
        s, b = smallest_splitting_set(fb), smallest_blocking_set(fb)
        assert s.size == brute_min(fb, splits) and s.lower_bound_proved
        assert b.size == brute_min(fb, fb.is_blocking) and b.lower_bound_proved


def test_stellar_snapshot_published_results():
    fb = load_stellar(STELLAR)
    assert check_requirement(fb, Intersection()).status == "holds"
    s = smallest_splitting_set(fb)
    assert s.size == 3 and s.lower_bound_proved
    assert fb.is_quorum(s.quorum_a, s.nodes) and fb.is_quorum(s.quorum_b, s.nodes)
    assert set(s.quorum_a) & set(s.quorum_b) <= set(s.nodes)
    r = check_requirement(fb, ByzantineIntersection(Budget(2)))
    assert r.status == "holds"


def test_time_limit_gives_unknown_never_holds():
    rng = random.Random(1)
    w = Weighted.of([rng.randint(1, 1000) for _ in range(100)], "2/3")
    boundary = Fraction(2 * (2 * 53799 // 3 + 1) - 53799, 53799)
    r = check_requirement(w, ByzantineIntersection(Budget(weight=boundary)), time_limit=0.001)
    assert r.status == "unknown" and r.solver["timeout_ms"] == 1
    assert check_requirement(w, ByzantineIntersection(Budget(weight=boundary - Fraction(1, 53799))),
                             time_limit=30).status == "holds"
