"""The shape learnt from ``permute`` (``structural.Shape``): what it answers is what ``permute`` makes.

The least image of an orbit is the image with the least fingerprint
(``orbit_order``).  With ``permute`` alone that takes every renaming of every
new state; the shape answers from what it learnt instead.  These tests compare
its answers with ``permute``'s on every reachable state of protocols written
without it in mind, check that it answers for most states (else the speed-up
is not there), that a ``permute`` its rules cannot describe retires it with the
count still exact, and that a time-limited symmetric search keeps its count.
"""

from __future__ import annotations

import time
from typing import NamedTuple

import attrs
import pytest

from consensuslab import Spec, action, always, check, record
from consensuslab.checkers.reduction.orbit_order import Fingerprints, least
from consensuslab.checkers.reduction.structural import UNKNOWN
from consensuslab.checkers.reduction.symmetry import LeastImage, brute_force
from consensuslab.checkers.scale.partition import check_local
from consensuslab.checkers.search.limits import watchdog
from consensuslab.protocols.paxos import Paxos
from consensuslab.protocols.raft import Raft
from consensuslab.protocols.two_phase import TwoPhase

from benchmark_specs import spec_class
from orbits import count_orbits, reachable


class PermuteOnly(TwoPhase):
    canonical = None


class RaftPermuteOnly(Raft):
    """Raft's state: logs, a bag of (message, count) pairs, per-server tuples of server names."""

    canonical = None


def fast_paxos():
    return spec_class("fast_paxos")({"replicas": 3, "values": 2, "ballots": 4, "fast": 2})


@pytest.mark.parametrize("make", [lambda: Paxos({"values": 3}), lambda: PermuteOnly({"rm": 4}), fast_paxos,
                                  lambda: RaftPermuteOnly({"servers": 3})],
                         ids=["paxos", "two-phase", "fast-paxos", "raft"])
def test_the_shape_answers_what_permute_makes_for_most_states(make):
    definition = make()
    model = definition.compile()
    states = reachable(model, limit=4000)
    canonical = LeastImage(definition)
    calls = [0]
    permute = canonical.permute

    def counted(state, mapping):
        calls[0] += 1
        return permute(state, mapping)

    canonical.permute = counted
    reps = [canonical(s) for s in states]
    fingerprint = Fingerprints()
    for s, rep in zip(states[::7], reps[::7]):  # the representative: least fingerprint, ties by canon
        assert rep == least([definition.permute(s, m) for m in canonical.maps], fingerprint)
    size = len(canonical.maps)
    assert calls[0] < len(set(reps)) * size / 2  # far fewer than every renaming of every orbit
    answered = 0
    for s in states[:600]:
        vec = canonical.shape.vector(s)
        if vec is None:
            continue
        answered += 1
        for k, mapping in enumerate(canonical.maps):
            image = definition.permute(s, mapping)
            assert canonical.shape.image(s, k) == image
            assert int(vec[k]) == fingerprint(image)
    assert answered >= 0.9 * min(len(states), 600)


def test_raft_with_permute_alone_counts_what_its_own_canonical_counts():
    own = check(Raft({"servers": 3}).compile(), symmetry=True, progress=False)
    alone = check(RaftPermuteOnly({"servers": 3}).compile(), symmetry=True, progress=False)
    assert alone.distinct_states == own.distinct_states == 7889
    assert alone.extra["warnings"] == []  # learnt: nothing to tell
    assert "least of 6 permutations" in alone.extra["reduction"]


@record
class Owners(NamedTuple):
    owners: tuple  # (node, value) pairs, sorted: a map written as an association list
    turn: int


class SortedPairs(Spec):
    """``permute`` re-sorts an association list: no per-entry rule describes that, so the shape must retire."""

    name = "sorted-pairs"
    Node = ("a", "b", "c")
    symmetry = ("Node",)
    check_deadlock = False

    def init(self):
        yield Owners((), 0)

    @action(n="Node")
    def Claim(self, s, n):
        if s.turn < 3 and all(o != n for o, _ in s.owners):
            yield Owners(tuple(sorted(s.owners + ((n, s.turn),))), s.turn + 1)

    @action(n="Node")
    def Release(self, s, n):
        if any(o == n for o, _ in s.owners):
            yield Owners(tuple(p for p in s.owners if p[0] != n), s.turn)

    @always
    def AtMostThree(self, s):
        return len(s.owners) <= 3

    def permute(self, s, mapping):
        return Owners(tuple(sorted((mapping[o], v) for o, v in s.owners)), s.turn)


def test_a_permute_outside_the_rules_retires_the_shape_and_the_count_stays_exact():
    spec = SortedPairs()
    model = spec.compile()
    states = reachable(model)
    orbits = count_orbits(spec, states)
    canonical = LeastImage(spec)
    assert len({canonical(s) for s in states}) == orbits
    assert canonical.shape.alive is False
    result = check(SortedPairs().compile(), symmetry=True, progress=False)
    assert result.distinct_states == orbits < len(states)
    assert any("permute renames field owners" in w for w in result.extra["warnings"])  # the user is told why


def test_a_symmetric_search_stopped_by_its_time_limit_keeps_what_it_counted():
    """The search ends itself at the limit; the watchdog must then stand down, or building and freeing the
    result (seconds on a big run) is cut short and the run reports nothing."""
    model = PermuteOnly({"rm": 7}).compile()  # 5,040 renamings: far from done in half a second
    with watchdog(0.5):
        result = check_local(model, brute_force(model.definition), time_limit=0.5)
        time.sleep(0.6)  # past the limit and its grace: the watchdog would fire here
    assert result.stopped_by == "time-limit" and result.distinct_states > 0


def test_a_retired_shape_answers_nothing():
    canonical = LeastImage(SortedPairs())
    state = Owners((("b", 0), ("c", 1)), 2)  # renaming b and c re-sorts the pairs
    canonical(state)
    assert canonical.shape.alive is False and canonical.shape.vector(state) is None
    assert all(canonical.shape.image(state, k) is UNKNOWN for k in range(len(canonical.maps)))


@attrs.frozen
class Token:
    """An attrs value that cannot be rebuilt from its fields in order (keyword-only): the shape leaves it be."""

    holder: str = attrs.field(kw_only=True)


@record
class Ring(NamedTuple):
    token: Token
    passes: int


class KeywordOnly(Spec):
    name = "keyword-only"
    Node = ("a", "b", "c")
    symmetry = ("Node",)
    check_deadlock = False

    def init(self):
        yield Ring(Token(holder="a"), 0)

    @action(n="Node")
    def Pass(self, s, n):
        if s.passes < 4 and n != s.token.holder:
            yield Ring(Token(holder=n), s.passes + 1)

    @always
    def Bounded(self, s):
        return s.passes <= 4

    def permute(self, s, mapping):
        return Ring(Token(holder=mapping[s.token.holder]), s.passes)


def test_a_record_that_cannot_be_rebuilt_positionally_is_left_to_permute():
    spec = KeywordOnly()
    model = spec.compile()
    states = reachable(model)
    canonical = LeastImage(spec)
    assert len({canonical(s) for s in states}) == count_orbits(spec, states) == 5 < len(states)
    assert canonical.shape.vector(states[-1]) is None  # never answered, never a crash
