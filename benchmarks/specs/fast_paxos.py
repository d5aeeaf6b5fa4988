"""Simplified Fast Paxos (Lamport's Fast Paxos with one coordinator), transcribed from the TLA+ Examples.

Source: ``specifications/SimplifiedFastPaxos/FastPaxos.tla`` (which extends the
``Paxos.tla`` beside it) and its model ``FastPaxos.cfg`` in the TLA+ Examples
repository (github tlaplus/Examples).

One coordinator, so phases 1a and 1b are left out.  A fast ballot starts with a
P2a message carrying ``any``; each acceptor then votes for a value of its own
(``FastPropose``), and a fast quorum voting alike decides (``FastDecide``).
Where a fast quorum's votes collide, the coordinator starts a classic ballot
with a value chosen by the collision rule (``ClassicAccept``): the value a
majority of that quorum voted for if there is one, else any value voted.  The
classic ballot then runs as in Paxos (``ClassicAccepted``, ``ClassicDecide``).
Every message ever sent stays in ``messages``.  Variables, actions and their
parameters are those of the spec:

- ``FastAny``: ``\\E f \\in FastBallots``, the argument ``f``; sending a message
  already sent changes nothing (a step back to the same state, as in TLC);
- ``FastPropose(a, m, v)``: ``\\E a \\in Replicas, m \\in p2aMessages, v \\in
  Values``, the domain of ``m`` read from the state as the spec's set is;
- ``FastDecide(b, q)``, ``ClassicAccept(b, f, q, v)``, as the spec's ``\\E``;
- ``ClassicAccepted(a, m)``: ``\\E a \\in Replicas, m \\in p2aMessages``, the
  same way;
- ``ClassicDecide(b, q, w)``: the spec's ``\\E m \\in M : decision' =
  m.value`` is the argument ``w``, one next state per value voted.

Constants (``FastPaxos.cfg``): ``Replicas = {r1, r2, r3, r4}``, ``Values = {v1,
v2, v3}``, ``Ballots = {0, 1, 2, 3, 4}``, ``FastBallots = {1, 3}``, and
``Quorums`` and ``FastQuorums`` both the four 3-subsets.  The cfg checks the
invariants ``FastTypeOK`` and ``FastNontriviality`` and the property
``PaxosConsistency == [][decision = none]_<<decision>>`` (here
``@always_step``: a step that changes ``decision`` leaves ``none``), under
``SYMMETRY PaxosSymmetry`` (permutations of the values and of the replicas:
``symmetry`` and ``permute`` below, for ``--symmetry``).  TLC also checks
deadlock; there is none (``FastAny`` is always enabled).

Distinct states: TLC 25,617 under the cfg's symmetry (manifest,
FastPaxos.cfg); ours with ``--symmetry`` 25,617 (``consensuslab check
benchmarks/specs/fast_paxos.py --scenario cfg --symmetry``).  Without the
symmetry (no TLC figure): ours 3,043,684, and 154,588 with ``-p ballots=4``
(the benchmark).

Variant ``no-majority-rule``: the coordinator ignores a majority in a
collision and may pick any value voted; a value decided in a fast round is
then overturned by a classic one, and ``PaxosConsistency`` fails.
"""

from __future__ import annotations

from itertools import combinations
from typing import NamedTuple

from consensuslab import Param, Scenario, Spec, action, always, always_step, message, record, replace_at, sometimes

ANY, NONE = "any", "none"


@message
class P2a:
    ballot: int
    value: str  # a value, or ANY


@message
class P2b:
    ballot: int
    acceptor: str
    value: str


@record
class FastPaxosState(NamedTuple):
    messages: frozenset
    decision: str  # a value, or NONE
    maxBallot: tuple  # per replica
    maxVBallot: tuple
    maxValue: tuple  # a value, or NONE
    cValue: str  # the value the coordinator chose, or NONE


class FastPaxos(Spec):
    name = "fast-paxos"
    summary = "Simplified Fast Paxos, SimplifiedFastPaxos/FastPaxos.tla (TLA+ Examples)"
    params = {
        "replicas": Param(4, "number of replicas (acceptors)", min=1, max=5),
        "values": Param(3, "number of values", min=1, max=4),
        "ballots": Param(5, "ballots are 0..ballots-1", min=1, max=6),
        "fast": Param(2, "fast ballots are the first this many odd ballots", min=0, max=3),
    }
    variants = {"no-majority-rule": "a collision lets the coordinator pick any value voted, ignoring a majority"}
    scenarios = (
        Scenario("small", "3 replicas, 2 values, ballots 0..2, fast ballot 1", {"replicas": 3, "values": 2,
                                                                                "ballots": 3, "fast": 1}),
        Scenario("cfg", "FastPaxos.cfg without its symmetry: 4 replicas, 3 values, ballots 0..4, fast 1 and 3", {}),
        Scenario("no-majority-rule", "a fast decision overturned", {"replicas": 4, "values": 2, "ballots": 3,
                                                                    "fast": 1},
                 variant="no-majority-rule", expect="violation", expect_property="PaxosConsistency"),
    )

    #: TLC's SYMMETRY PaxosSymmetry == Permutations(Values) \cup Permutations(Replicas)
    symmetry = ("Replicas", "Values")

    def setup(self):
        self.Replicas = tuple(f"r{i + 1}" for i in range(self.replicas))
        self.Values = tuple(f"v{i + 1}" for i in range(self.values))
        self.Ballots = tuple(range(self.ballots))
        self.FastBallots = tuple(b for b in self.Ballots if b % 2 == 1)[:self.fast]
        self.ClassicBallots = tuple(b for b in self.Ballots if b not in self.FastBallots)
        size = self.replicas // 2 + 1  # the cfg's quorums: every 3 of the 4 replicas
        self.Quorums = tuple(frozenset(q) for q in combinations(self.Replicas, size))
        size = -(-3 * self.replicas // 4)  # FastAssume: (3 * |Replicas|) \div 4 <= |q|
        self.FastQuorums = tuple(frozenset(q) for q in combinations(self.Replicas, max(size, self.replicas // 2 + 1)))
        self.index = {r: i for i, r in enumerate(self.Replicas)}

    def init(self):
        n = self.replicas
        yield FastPaxosState(frozenset(), NONE, (0,) * n, (0,) * n, (NONE,) * n, NONE)

    # -- helpers of the spec ---------------------------------------------------------------
    def p2b(self, s):
        return [m for m in s.messages if type(m) is P2b]

    def votes_in(self, s, b, q) -> list:
        """M == {m \\in p2bMessages : m.ballot = b /\\ m.acceptor \\in q}"""
        return [m for m in s.messages if type(m) is P2b and m.ballot == b and m.acceptor in q]

    @staticmethod
    def is_majority_value(M, v) -> bool:
        return len(M) // 2 < sum(1 for m in M if m.value == v)

    # -- the actions --------------------------------------------------------------------------
    @action(f="FastBallots")
    def FastAny(self, s, f):
        return s._replace(messages=s.messages | {P2a(f, ANY)})

    @action(a="Replicas", m=lambda self, s: [m for m in s.messages if type(m) is P2a], v="Values")
    def FastPropose(self, s, a, m, v):
        i = self.index[a]
        if m.value != ANY or s.maxBallot[i] > m.ballot:
            return None
        if s.maxValue[i] != NONE and s.maxValue[i] != v:
            return None
        if any(type(n) is P2b and n.ballot == m.ballot and n.acceptor == a for n in s.messages):
            return None
        return s._replace(maxBallot=replace_at(s.maxBallot, i, m.ballot),
                          maxVBallot=replace_at(s.maxVBallot, i, m.ballot),
                          maxValue=replace_at(s.maxValue, i, v),
                          messages=s.messages | {P2b(m.ballot, a, v)})

    @action(b="FastBallots", q="FastQuorums")
    def FastDecide(self, s, b, q):
        M = self.votes_in(s, b, q)
        V = {m.value for m in M}
        if {m.acceptor for m in M} >= q and len(V) == 1:
            return s._replace(decision=next(iter(V)))

    @action(b="ClassicBallots", f="FastBallots", q="FastQuorums", v="Values")
    def ClassicAccept(self, s, b, f, q, v):
        if not f < b or s.cValue not in (NONE, v):
            return None
        if any(type(m) is P2a and m.ballot == b for m in s.messages):
            return None
        M = self.votes_in(s, f, q)
        V = {m.value for m in M}
        if not {m.acceptor for m in M} >= q or len(V) <= 1:
            return None
        if self.variant != "no-majority-rule" and any(self.is_majority_value(M, w) for w in V):
            allowed = self.is_majority_value(M, v)
        else:
            allowed = v in V
        if allowed:
            return s._replace(cValue=v, messages=s.messages | {P2a(b, v)})

    @action(a="Replicas", m=lambda self, s: [m for m in s.messages if type(m) is P2a])
    def ClassicAccepted(self, s, a, m):
        i = self.index[a]
        if m.value in self.Values and s.maxBallot[i] <= m.ballot:
            return s._replace(maxBallot=replace_at(s.maxBallot, i, m.ballot),
                              maxVBallot=replace_at(s.maxVBallot, i, m.ballot),
                              maxValue=replace_at(s.maxValue, i, m.value),
                              messages=s.messages | {P2b(m.ballot, a, m.value)})

    @action(b="ClassicBallots", q="Quorums", w="Values")
    def ClassicDecide(self, s, b, q, w):
        M = self.votes_in(s, b, q)
        if {m.acceptor for m in M} >= q and any(m.value == w for m in M):
            return s._replace(decision=w)

    # -- properties -----------------------------------------------------------------------
    @always
    def FastTypeOK(self, s):
        values = set(self.Values)
        for m in s.messages:
            if type(m) is P2a:
                if m.ballot not in self.Ballots or (m.value not in values and m.value != ANY):
                    return False
            elif type(m) is not P2b or m.ballot not in self.Ballots or m.acceptor not in self.index \
                    or m.value not in values:
                return False
        return (s.decision in values | {NONE}
                and all(b in self.Ballots for b in s.maxBallot) and all(b in self.Ballots for b in s.maxVBallot)
                and all(v in values | {NONE} for v in s.maxValue) and s.cValue in values | {NONE})

    @always
    def FastNontriviality(self, s):
        """Only proposed values can be learnt: a decision is a value voted in a fast ballot."""
        return s.decision == NONE or any(
            type(m) is P2b and m.value == s.decision and m.ballot in self.FastBallots for m in s.messages)

    @always_step
    def PaxosConsistency(self, s, act, t):
        """[][decision = none]_<<decision>>: once decided, the decision never changes."""
        return t.decision == s.decision or s.decision == NONE

    @sometimes
    def decided_after_collision(self, s):
        """A classic ballot decides (the collision rule is reached)."""
        return s.decision != NONE and s.cValue != NONE

    # -- symmetry ---------------------------------------------------------------------------
    def permute(self, s, mapping):
        """``s`` with replicas and values renamed by ``mapping`` (per-replica tuples move with their replica)."""
        def value(v):
            return mapping.get(v, v)  # NONE and ANY stay

        n = self.replicas
        order = [self.index[mapping[r]] for r in self.Replicas]
        slots = [[None] * n for _ in range(3)]
        for i, j in enumerate(order):
            slots[0][j], slots[1][j], slots[2][j] = s.maxBallot[i], s.maxVBallot[i], value(s.maxValue[i])
        msgs = frozenset(P2a(m.ballot, value(m.value)) if type(m) is P2a else
                         P2b(m.ballot, mapping[m.acceptor], value(m.value)) for m in s.messages)
        return FastPaxosState(msgs, value(s.decision), tuple(slots[0]), tuple(slots[1]), tuple(slots[2]),
                              value(s.cValue))

