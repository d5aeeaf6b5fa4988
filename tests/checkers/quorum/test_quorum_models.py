"""Plain-Python quorum systems: membership, enumeration, parsing, the Stellar reader."""

from fractions import Fraction

import pytest

from consensuslab.checkers.quorum.fbas import Fbas, QuorumSet, from_stellar, load_stellar
from consensuslab.checkers.quorum.systems import (
    Availability,
    ByzantineIntersection,
    Explicit,
    Flexible,
    Hierarchical,
    Intersection,
    Masking,
    Threshold,
    Weighted,
    byzantine,
    majority,
    names,
    ordered,
    requirements_for,
)
from consensuslab.errors import UsageError

from paths import DATA

STELLAR = str(DATA / "stellar-pubnet-2025-07-20.json")


def test_threshold_membership_and_enumeration():
    t = Threshold(5, 3)
    assert t.is_quorum(["n1", "n2", "n3"]) and not t.is_quorum(["n1", "n2"])
    assert len(t.quorums()) == 10 + 5 + 1
    assert majority(4).q == 3 and byzantine(4, 1).q == 3 and byzantine(7, 2).q == 5


def test_natural_order():
    assert ordered(["n10", "n2", "n1"]) == ("n1", "n2", "n10")


def test_weighted_strictly_more_than_fraction():
    w = Weighted.of([40, 20, 20, 10, 10], "0.5")
    assert w.total == 100 and w.fraction == Fraction(1, 2)
    assert not w.is_quorum(["n1", "n5"])          # 50 is not more than half
    assert w.is_quorum(["n1", "n2"])              # 60
    assert w.interchangeable() == (("n4", "n5"), ("n2", "n3"), ("n1",))


def test_flexible_sides_and_hierarchical():
    f = Flexible(10, 8, 2)
    a, b = f.sides()
    assert (a.q, b.q) == (8, 2) and f.is_quorum(["n1", "n2"])
    h = Hierarchical.majorities([3, 3, 3])
    assert h.is_quorum(["g1n1", "g1n2", "g2n1", "g2n3"])
    assert not h.is_quorum(["g1n1", "g1n2", "g1n3", "g2n1"])


def test_explicit_is_upward_closed():
    e = Explicit.parse("a,b;b,c")
    assert e.nodes == ("a", "b", "c") and e.is_quorum(["a", "b", "c"]) and not e.is_quorum(["a", "c"])


@pytest.mark.parametrize("build, text", [
    (lambda: Threshold(4, 5), "between 1 and n=4"),
    (lambda: Weighted.of([1, -2]), "weights must be >= 0"),
    (lambda: Explicit.parse(";"), "expected quorums"),
    (lambda: requirements_for("omission", 1), "unknown fault kind"),
    (lambda: requirements_for("byzantine", "x"), "whole number"),
])
def test_bad_parameters_are_usage_errors(build, text):
    with pytest.raises(UsageError, match=text):
        build()


def test_requirement_checks_in_plain_python():
    t = Threshold(4, 3)
    assert ByzantineIntersection(requirements_for("byzantine", 2)[0].budget).violated_by(
        t, ["n1", "n2", "n3"], ["n2", "n3", "n4"], ["n2", "n3"])
    assert not ByzantineIntersection(requirements_for("byzantine", 1)[0].budget).violated_by(
        t, ["n1", "n2", "n3"], ["n2", "n3", "n4"], ["n2"])
    assert Intersection().violated_by(Threshold(4, 2), ["n1", "n2"], ["n3", "n4"], [])
    assert Availability(requirements_for("crash", 2)[1].budget).violated_by(t, (), (), ["n1", "n2"])
    assert Masking(requirements_for("masking", 1)[0].budget).violated_by(
        Threshold(5, 4), names(4), ("n1", "n2", "n3", "n5"), ["n1"]) is False  # overlap 3 > 2f


def _toy():
    # a, b, c need 2 of {a, b, c}; d needs d and e; e has no quorum set (possibly faulty)
    two = QuorumSet(2, ("a", "b", "c"))
    return Fbas((("a", two), ("b", two), ("c", two), ("d", QuorumSet(2, ("d", "e")))))


def test_fbas_quorums_and_possibly_faulty_nodes():
    fb = _toy()
    assert fb.nodes == ("a", "b", "c", "d", "e") and fb.known() == ("a", "b", "c", "d")
    assert fb.is_quorum(["a", "b"]) and fb.is_quorum(["d", "e"]) and not fb.is_quorum(["e"])
    assert not fb.is_quorum(["a"]) and fb.is_quorum(["a"], faulty=["a"]) is False
    assert fb.is_quorum(["a", "b"], faulty=["b"])
    assert fb.greatest_quorum_in(["a", "b", "d"]) == frozenset({"a", "b"})
    assert fb.is_blocking(["a", "b", "d"]) and not fb.is_blocking(["a", "d"])


def test_stellar_reader():
    fb = load_stellar(STELLAR)
    assert len(fb.nodes) == 637 and len(fb.known()) == 104 and len(fb.relevant()) == 104


@pytest.mark.parametrize("data, text", [
    ({}, "non-empty JSON list"),
    ([{"quorumSet": None}], "missing publicKey"),
    ([{"publicKey": "A", "quorumSet": {"threshold": 3, "validators": ["A", "B"]}}], "threshold 3"),
    ([{"publicKey": "A", "quorumSet": {"threshold": 1, "validators": "A"}}], "list of public keys"),
    ([{"publicKey": "A"}, {"publicKey": "A"}], "twice"),
])
def test_malformed_network(data, text):
    with pytest.raises(UsageError, match=text):
        from_stellar(data)


def test_empty_quorum_set_is_possibly_faulty(tmp_path):
    fb = from_stellar([{"publicKey": "A", "quorumSet": {"threshold": 0, "validators": [],
                                                        "innerQuorumSets": []}},
                       {"publicKey": "B", "quorumSet": {"threshold": 1, "validators": ["A"]}}])
    assert fb.table["A"] is None and fb.is_quorum(["A", "B"]) and not fb.is_quorum(["A"])
    bad = tmp_path / "net.json"
    bad.write_text("[{")
    with pytest.raises(UsageError, match="not JSON"):
        load_stellar(str(bad))
