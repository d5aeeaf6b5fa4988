"""Paxos as the TLA+ Examples write it beside Simplified Fast Paxos, transcribed.

Source: ``specifications/SimplifiedFastPaxos/Paxos.tla`` and its model
``Paxos.cfg`` in the TLA+ Examples repository (github tlaplus/Examples): Paxos
without explicit leaders or learners, every message ever sent kept in
``messages``.  Variables, actions and their parameters are those of the spec:

- ``PaxosPrepare``: ``\\E b \\in Ballots \\ {0}``, the argument ``b``;
- ``PaxosPromise(a, m)``: ``\\E a \\in Replicas, m \\in p1aMessages``, the
  domain of ``m`` read from the state as the spec's set is;
- ``PaxosAccept(b, q, v)``: as the spec's ``\\E``; ``ForcedValue(M)`` is the
  ``maxValue`` of a promise with the highest ``maxVBallot`` in ``M``.  The spec
  takes it with ``CHOOSE``; promises that tie on the highest ``maxVBallot``
  report the same value (a ballot has one P2a, its guard), or all report
  ``none``, where the first disjunct already allows any value;
- ``PaxosAccepted(a, m)``: ``\\E a \\in Replicas, m \\in p2aMessages``, the same
  way;
- ``PaxosDecide(b, q, w)``: the spec's ``\\E m \\in M : decision' = m.value`` is
  the argument ``w``, one next state per value voted.

Sending a message already sent changes nothing (a step back to the same
state, as in TLC).  Constants (``Paxos.cfg``): ``Replicas = {r1, r2, r3, r4}``,
``Values = {v1, v2, v3}``, ``Ballots = {0, 1, 2}``, ``Quorums`` the four
3-subsets.  The cfg checks the invariants ``PaxosTypeOK`` and
``PaxosNontriviality`` and the property ``PaxosConsistency ==
[][decision = none]_<<decision>>`` (here ``@always_step``), under ``SYMMETRY
PaxosSymmetry`` (``symmetry`` and ``permute`` below, for ``--symmetry``).

Distinct states: TLC 1,207 under the cfg's symmetry (manifest, Paxos.cfg);
ours with ``--symmetry`` 1,207 (``consensuslab check
benchmarks/specs/classic_paxos.py --scenario cfg --symmetry``).

Variant ``no-forced-value``: the proposer of phase 2a ignores the values its
quorum of promises reports and proposes any value; a second ballot then
decides another value, and ``PaxosConsistency`` fails.
"""

from __future__ import annotations

from itertools import combinations
from typing import NamedTuple

from consensuslab import Param, Scenario, Spec, action, always, always_step, message, record, replace_at

NONE = "none"


@message
class P1a:
    ballot: int


@message
class P1b:
    ballot: int
    acceptor: str
    maxVBallot: int
    maxValue: str  # a value, or NONE


@message
class P2a:
    ballot: int
    value: str


@message
class P2b:
    ballot: int
    acceptor: str
    value: str


@record
class PaxosState(NamedTuple):
    messages: frozenset
    decision: str  # a value, or NONE
    maxBallot: tuple  # per replica
    maxVBallot: tuple
    maxValue: tuple  # a value, or NONE


class ClassicPaxos(Spec):
    name = "classic-paxos"
    summary = "Paxos, SimplifiedFastPaxos/Paxos.tla (TLA+ Examples)"
    params = {
        "replicas": Param(4, "number of replicas (acceptors)", min=1, max=5),
        "values": Param(3, "number of values", min=1, max=4),
        "ballots": Param(3, "ballots are 0..ballots-1", min=1, max=5),
    }
    variants = {"no-forced-value": "phase 2a proposes any value, whatever the promises report"}
    scenarios = (
        Scenario("cfg", "Paxos.cfg: 4 replicas, 3 values, ballots 0..2 (with --symmetry: TLC's 1,207)", {}),
        Scenario("no-forced-value", "a decided value overturned", {"replicas": 3, "values": 2, "ballots": 3},
                 variant="no-forced-value", expect="violation", expect_property="PaxosConsistency"),
    )

    #: TLC's SYMMETRY PaxosSymmetry == Permutations(Values) \cup Permutations(Replicas)
    symmetry = ("Replicas", "Values")

    def setup(self):
        self.Replicas = tuple(f"r{i + 1}" for i in range(self.replicas))
        self.Values = tuple(f"v{i + 1}" for i in range(self.values))
        self.Ballots = tuple(range(self.ballots))
        self.Prepared = self.Ballots[1:]  # Ballots \ {0}
        self.Quorums = tuple(frozenset(q) for q in combinations(self.Replicas, self.replicas // 2 + 1))
        self.index = {r: i for i, r in enumerate(self.Replicas)}

    def init(self):
        n = self.replicas
        yield PaxosState(frozenset(), NONE, (0,) * n, (0,) * n, (NONE,) * n)

    # -- helpers of the spec ------------------------------------------------------------------
    @staticmethod
    def of(s, kind, b, q) -> list:
        """{m \\in messages of this kind : m.ballot = b /\\ m.acceptor \\in q}"""
        return [m for m in s.messages if type(m) is kind and m.ballot == b and m.acceptor in q]

    # -- the actions ----------------------------------------------------------------------------
    @action(b="Prepared")
    def PaxosPrepare(self, s, b):
        return s._replace(messages=s.messages | {P1a(b)})

    @action(a="Replicas", m=lambda self, s: [m for m in s.messages if type(m) is P1a])  # m \in p1aMessages
    def PaxosPromise(self, s, a, m):
        i = self.index[a]
        if s.maxBallot[i] < m.ballot:
            return s._replace(maxBallot=replace_at(s.maxBallot, i, m.ballot),
                              messages=s.messages | {P1b(m.ballot, a, s.maxVBallot[i], s.maxValue[i])})

    @action(b="Ballots", q="Quorums", v="Values")
    def PaxosAccept(self, s, b, q, v):
        if any(type(m) is P2a and m.ballot == b for m in s.messages):
            return None
        M = self.of(s, P1b, b, q)
        if {m.acceptor for m in M} < q:
            return None
        if self.variant != "no-forced-value" and not all(m.maxValue == NONE for m in M):
            top = max(m.maxVBallot for m in M)
            if v not in {m.maxValue for m in M if m.maxVBallot == top}:  # v = ForcedValue(M)
                return None
        return s._replace(messages=s.messages | {P2a(b, v)})

    @action(a="Replicas", m=lambda self, s: [m for m in s.messages if type(m) is P2a])  # m \in p2aMessages
    def PaxosAccepted(self, s, a, m):
        i = self.index[a]
        if m.value in self.Values and s.maxBallot[i] <= m.ballot:
            return s._replace(maxBallot=replace_at(s.maxBallot, i, m.ballot),
                              maxVBallot=replace_at(s.maxVBallot, i, m.ballot),
                              maxValue=replace_at(s.maxValue, i, m.value),
                              messages=s.messages | {P2b(m.ballot, a, m.value)})

    @action(b="Ballots", q="Quorums", w="Values")
    def PaxosDecide(self, s, b, q, w):
        M = self.of(s, P2b, b, q)
        if {m.acceptor for m in M} >= q and any(m.value == w for m in M):
            return s._replace(decision=w)

    # -- properties -------------------------------------------------------------------------------
    @always
    def PaxosTypeOK(self, s):
        values, ballots = set(self.Values), set(self.Ballots)
        for m in s.messages:
            kind = type(m)
            if kind is P1a:
                ok = m.ballot in ballots and m.ballot != 0
            elif kind is P1b:
                ok = (m.ballot in ballots and m.acceptor in self.index and m.maxVBallot in ballots
                      and (m.maxValue in values or m.maxValue == NONE))
            elif kind is P2a:
                ok = m.ballot in ballots and m.value in values
            else:
                ok = kind is P2b and m.ballot in ballots and m.acceptor in self.index and m.value in values
            if not ok:
                return False
        return (s.decision in values | {NONE} and all(b in ballots for b in s.maxBallot)
                and all(b in ballots for b in s.maxVBallot) and all(v in values | {NONE} for v in s.maxValue))

    @always
    def PaxosNontriviality(self, s):
        """Only proposed values are learnt; a promise reports a value exactly when it reports a ballot."""
        if s.decision != NONE and not any(type(m) is P2a and m.value == s.decision for m in s.messages):
            return False
        return all((m.maxValue != NONE) == (m.maxVBallot > 0) for m in s.messages if type(m) is P1b)

    @always_step
    def PaxosConsistency(self, s, act, t):
        """[][decision = none]_<<decision>>: once decided, the decision never changes."""
        return t.decision == s.decision or s.decision == NONE

    # -- symmetry -----------------------------------------------------------------------------------
    def permute(self, s, mapping):
        """``s`` with replicas and values renamed by ``mapping`` (per-replica tuples move with their replica)."""
        def value(v):
            return mapping.get(v, v)  # NONE stays

        def moved(entries, rename=lambda x: x):
            out = [None] * len(entries)
            for r, entry in zip(self.Replicas, entries):
                out[self.index[mapping[r]]] = rename(entry)
            return tuple(out)

        def message_renamed(m):
            kind = type(m)
            if kind is P1b:
                return P1b(m.ballot, mapping[m.acceptor], m.maxVBallot, value(m.maxValue))
            if kind is P2a:
                return P2a(m.ballot, value(m.value))
            if kind is P2b:
                return P2b(m.ballot, mapping[m.acceptor], value(m.value))
            return m

        return PaxosState(frozenset(message_renamed(m) for m in s.messages), value(s.decision),
                          moved(s.maxBallot), moved(s.maxVBallot), moved(s.maxValue, value))
