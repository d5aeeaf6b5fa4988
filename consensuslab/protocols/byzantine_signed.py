"""The signed-messages algorithm SM(m) (Lamport, Shostak and Pease 1982, Section 4), lock-step.

A message is ``v:0:j1:...:jk`` — a value and the chain of generals who signed
it, commander first.  A traitor cannot forge a loyal general's signature, so a
traitor can send only what traitors hold: chains received by some traitor,
extended with traitors' own signatures (traitors collude and share keys), or,
for a traitor commander, either order signed afresh.  A message with k
signatures is sent in round k; loyal lieutenants ignore chains of the wrong
length for the round (the timing assumption that lets them detect absence).

Each loyal lieutenant i keeps V_i; on a new value v in ``v:0:j1..jk`` it adds
v and, if k < m, relays ``v:0:j1..jk:i`` to the lieutenants not in the chain.
(When one round brings i several chains with the same new value, i relays the
first in canonical order; any one is the paper's behaviour.)  After round
m+1 it obeys choice(V_i): the single value, else RETREAT.

Each traitor message a traitor could send to a loyal general is a send/withhold
choice, resolved one at a time in a fixed order.
"""

from __future__ import annotations

from typing import NamedTuple

from consensuslab.models.messages import Channel, Participants
from consensuslab.models.properties import sometimes
from consensuslab.models.records import record
from consensuslab.models.scenario import Scenario
from consensuslab.models.spec import action
from consensuslab.models.values import canon
from consensuslab.protocols.byzantine_generals import RETREAT, UNSENT, VALUES, GeneralsBase


def choice(values: frozenset) -> str:
    """The paper's choice(V): the value if V has exactly one, RETREAT otherwise."""
    return next(iter(values)) if len(values) == 1 else RETREAT


@record
class SMState(NamedTuple):
    traitors: frozenset
    order: str  # a loyal commander's order; "" for a traitor commander
    round: int  # the round being delivered (1..m+1); m+2 once over
    wire: frozenset  # (dst, value, chain) sent to loyal generals this round
    known: frozenset  # (value, chain) held by the traitors
    cursor: int  # traitor candidates of this round already decided
    V: tuple  # V_i per general (index 0 unused)
    decision: tuple


class SignedMessages(GeneralsBase):
    name = "byzantine-generals-signed"
    summary = "Byzantine generals, signed messages SM(m): holds for any number of traitors"
    scenarios = (
        Scenario("n3m1", "3 generals, 1 traitor: signatures defeat the impossibility", {"n": 3, "m": 1},
                 states=79),
        Scenario("n4m2", "4 generals, 2 traitors", {"n": 4, "m": 2}, states=2901),
        Scenario("n3m0", "SM(0) with a traitor: no relaying, a traitor commander splits them",
                 {"n": 3, "m": 0, "traitors": 1}, expect="violation", expect_property="IC1"),
    )
    #: ``v:0:j1..jk`` on the wire goes from its last signer to its destination
    participants = Participants(
        "generals", per_node={"V": "generals", "decision": "generals"}, label=GeneralsBase.participants.label,
        channels=(Channel("wire", sender=lambda self, m: m[2][-1], receiver=lambda self, m: m[0],
                          label=lambda self, m: ":".join([m[1], *map(str, m[2])])),))

    def init(self):
        for traitors, order in self.placements:
            empty = (frozenset(),) * self.n
            s = SMState(traitors, order, 1, frozenset(), frozenset(), 0, empty, ())
            if 0 not in traitors:
                s = self._send(s, [(x, order, (0,)) for x in self.lieutenants])
            yield s

    def _send(self, s, messages):
        """Loyal messages: to loyal generals on the wire, to traitors into the traitors' hands."""
        wire, known = set(s.wire), set(s.known)
        for dst, v, chain in messages:
            if dst in s.traitors:
                known.add((v, chain))
            else:
                wire.add((dst, v, chain))
        return s._replace(wire=frozenset(wire), known=frozenset(known))

    def candidates(self, s) -> list:
        """Every message a traitor may send to a loyal general this round, in canonical order."""
        held = set(s.known)
        if 0 in s.traitors:
            held.update((v, (0,)) for v in VALUES)
        frontier = list(held)
        while frontier:  # traitors append their own signatures
            v, chain = frontier.pop()
            for t in s.traitors:
                if t not in chain and len(chain) < s.round and (v, chain + (t,)) not in held:
                    held.add((v, chain + (t,)))
                    frontier.append((v, chain + (t,)))
        out = [(x, v, chain) for v, chain in held if len(chain) == s.round and chain[-1] in s.traitors
               for x in self.lieutenants if x not in chain and x not in s.traitors]
        return sorted(out, key=canon)

    @action(send=(True, False), fault=True)
    def TraitorSends(self, s, send):
        """Decide whether the next candidate traitor message is sent."""
        if s.round > self.m + 1:
            return None
        cands = self.candidates(s)
        if s.cursor >= len(cands):
            return None
        wire = s.wire | {cands[s.cursor]} if send else s.wire
        return s._replace(wire=wire, cursor=s.cursor + 1)

    @action
    def Deliver(self, s):
        """Loyal lieutenants take in this round's messages and relay new values."""
        if s.round > self.m + 1 or s.cursor < len(self.candidates(s)):
            return None
        V, relays = list(s.V), []
        for dst, v, chain in sorted(s.wire, key=canon):
            if v not in V[dst]:
                V[dst] = V[dst] | {v}
                if len(chain) - 1 < self.m:
                    signed = chain + (dst,)
                    relays.extend((x, v, signed) for x in self.lieutenants if x not in signed)
        nxt = s._replace(round=s.round + 1, wire=frozenset(), cursor=0, V=tuple(V))
        return self._send(nxt, relays)

    @sometimes
    def both_orders_held(self, s):
        """A traitor commander can make a loyal lieutenant hold both signed orders."""
        return any(len(s.V[i]) == 2 for i in self.loyal_lieutenants(s))

    rule = "choice(V): the single order it holds, else retreat"

    def heard(self, s, x) -> list[str]:
        """The orders x holds (V_x): a signed chain cannot be forged, only withheld or duplicated."""
        return [f"V = {{{', '.join(sorted(s.V[x]))}}}"]

    @action
    def Decide(self, s):
        """After round m+1, each loyal lieutenant obeys choice(V_i)."""
        if s.round != self.m + 2 or s.decision:
            return None
        decision = [UNSENT] * self.n
        for x in self.loyal_lieutenants(s):
            decision[x] = choice(s.V[x])
        return s._replace(decision=tuple(decision))
