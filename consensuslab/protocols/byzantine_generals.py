"""The Byzantine Generals Problem (Lamport, Shostak and Pease, 1982): OM(m), on lock-step rounds.

General 0 is the commander; 1..n-1 are lieutenants.  Every placement of the
``traitors`` traitors is an initial state (with each order of a loyal
commander), so one check covers them all.  Traitors send any value to anyone:
each traitor message to a loyal general is a separate binary choice, resolved
one at a time in a fixed order after the loyal messages of its round are
written, so every traitor strategy (adaptive ones included) is explored
exactly once.  Messages addressed to traitors are not modelled: a traitor's
behaviour does not depend on what it receives, since it may send anything.

OM(m) is the exponential-information-gathering form of the paper's recursion:
``vals[(0, j1, ..., jk, x)]`` is what x heard from jk that jk heard ... that the
commander said.  Round r sends the messages whose path has r+1 generals.
A missing message counts as RETREAT, so binary values cover silent traitors.
The signed-messages algorithm SM(m) is in ``byzantine_signed`` and re-exported.
"""

from __future__ import annotations

import itertools
from typing import NamedTuple

from consensuslab.models.messages import Channel, Participants
from consensuslab.models.params import Param
from consensuslab.models.properties import always, sometimes
from consensuslab.models.records import record
from consensuslab.models.scenario import Scenario
from consensuslab.models.spec import Spec, action

ATTACK, RETREAT = "attack", "retreat"
VALUES = (ATTACK, RETREAT)
UNSENT, PENDING = "", "?"  # no message (or one to a traitor); a traitor's message not yet chosen


def majority(values) -> str:
    """The paper's majority(v1, ..., vk): the value held by more than half, else RETREAT."""
    attack = sum(1 for v in values if v == ATTACK)
    return ATTACK if 2 * attack > len(values) else RETREAT


def traitor_placements(n: int, traitors: int, order: str):
    """(traitor set, commander's order) for every placement; a traitor commander has no order."""
    for t in itertools.combinations(range(n), traitors):
        orders = ("",) if 0 in t else (VALUES if order == "any" else (order,))
        for o in orders:
            yield frozenset(t), o


class GeneralsBase(Spec):
    """What OM(m) and SM(m) share: parameters, placements, IC1 and IC2."""

    params = {
        "n": Param(4, "generals, including the commander", min=2, max=8),
        "m": Param(1, "rounds of relaying (the algorithm's m)", min=0, max=3),
        "traitors": Param(-1, "number of traitors (-1: m)", min=-1, max=7),
        "order": Param("any", "a loyal commander's order", choices=("any", ATTACK, RETREAT)),
    }

    #: general 0 is the commander, 1..n-1 the lieutenants
    participants = Participants("generals", per_node={"decision": "generals", "V": "generals"},
                                label=lambda self, g: "commander" if g == 0 else f"lieutenant {g}")

    def setup(self):
        if self.traitors < 0:
            self.traitors = self.m
        self.generals = tuple(range(self.n))
        self.lieutenants = tuple(range(1, self.n))
        self.placements = tuple(traitor_placements(self.n, min(self.traitors, self.n), self.order))

    #: how a lieutenant decides, for explanations
    rule = "the majority of what it heard; no majority means retreat"

    def loyal_lieutenants(self, s):
        return [i for i in self.lieutenants if i not in s.traitors]

    def done(self, s):
        """Every loyal lieutenant has decided: the algorithm is over."""
        return s.decision != ()

    def explain(self, trace, violation=None) -> list[str]:
        """Who is a traitor, what each loyal lieutenant heard, and what it decided."""
        s = trace.states[-1]
        label = self.participants.label
        name = lambda g: label(self, g)  # noqa: E731
        lines = []
        if 0 not in s.traitors:
            lines.append(f"the commander is loyal and ordered {s.order}")
        for x in self.loyal_lieutenants(s):
            heard = "; ".join(self.heard(s, x)) or "nothing"
            decided = f", and decided {s.decision[x]} ({self.rule})" if s.decision else ""
            lines.append(f"{name(x)} heard: {heard}{decided}")
        return lines

    @always
    def IC1(self, s):
        """All loyal lieutenants obey the same order."""
        return s.decision == () or len({s.decision[i] for i in self.loyal_lieutenants(s)}) <= 1

    @always
    def IC2(self, s):
        """If the commander is loyal, every loyal lieutenant obeys the order he sends."""
        return (s.decision == () or 0 in s.traitors
                or all(s.decision[i] == s.order for i in self.loyal_lieutenants(s)))

    @sometimes
    def lieutenants_decide(self, s):
        """The rounds run to the end and loyal lieutenants decide."""
        return s.decision != () and bool(self.loyal_lieutenants(s))

    @sometimes
    def loyal_attack(self, s):
        """A loyal lieutenant can decide to attack (decisions are not constant)."""
        return s.decision != () and any(s.decision[i] == ATTACK for i in self.loyal_lieutenants(s))


# -- oral messages ---------------------------------------------------------------
@record
class OMState(NamedTuple):
    traitors: frozenset
    order: str  # a loyal commander's order; "" for a traitor commander
    round: int  # rounds sent so far
    vals: tuple  # vals[pos[path]]: the value the path's last general received along it
    decision: tuple  # per general (index 0 unused): its decision, once decided; () before


class OralMessages(GeneralsBase):
    name = "byzantine-generals"
    summary = "Byzantine generals, oral messages OM(m) (Lamport, Shostak, Pease 1982), all traitor placements"
    #: a message is a path's value once sent: ``v:0:j1..jk`` goes from jk to the path's last general
    participants = Participants(
        "generals", per_node={"decision": "generals"},
        label=GeneralsBase.participants.label,
        channels=(Channel(lambda self, s: self.sent(s), sender=lambda self, m: m[0][-2],
                          receiver=lambda self, m: m[0][-1],
                          label=lambda self, m: ":".join([m[1], *map(str, m[0][:-1])])),))
    scenarios = (
        Scenario("n3m1", "3 generals, 1 traitor: the impossibility of Section 3", {"n": 3, "m": 1},
                 expect="violation", expect_property="IC2"),
        Scenario("n3m1-ic1", "3 generals: IC1 alone survives OM(1) (a split commander ties both "
                 "lieutenants to RETREAT); the failure is IC2", {"n": 3, "m": 1},
                 properties=("IC1", "lieutenants_decide"), states=44),
        Scenario("n4m1", "4 generals, OM(1) tolerates 1 traitor", {"n": 4, "m": 1}, states=110),
        Scenario("n4m1-two-traitors", "4 generals, 2 traitors: more than a third",
                 {"n": 4, "m": 1, "traitors": 2}, expect="violation", expect_property="IC2"),
        Scenario("n4m0", "OM(0) with one traitor: the commander's lie goes unchecked",
                 {"n": 4, "m": 0, "traitors": 1}, expect="violation", expect_property="IC1"),
        Scenario("n7m2", "7 generals, OM(2), 2 traitors: 2^40 traitor strategies, beyond "
                 "exhaustive search: random walks and Hypothesis examples find nothing", {"n": 7, "m": 2},
                 kind="simulate", walks=2000, examples=50),
        Scenario("n7m2-three-traitors", "7 generals, OM(2), 3 traitors: more than m, found by random walks",
                 {"n": 7, "m": 2, "traitors": 3}, kind="simulate", walks=2000, examples=50,
                 expect="violation", expect_property="IC1"),
    )

    def setup(self):
        super().setup()
        paths = [(0,)]
        self.by_round: list[list[tuple]] = [[]]
        for _ in range(self.m + 1):
            paths = [p + (x,) for p in paths for x in self.lieutenants if x not in p]
            self.by_round.append(paths)
        self.pos = {p: k for k, p in enumerate(p for level in self.by_round for p in level)}

    def init(self):
        for traitors, order in self.placements:
            yield OMState(traitors, order, 0, (UNSENT,) * len(self.pos), ())

    def heard(self, s, x) -> list[str]:
        """What x received, in the paper's ``v:0:j1..jk`` notation (from jk, relaying j(k-1) ... the commander)."""
        return [":".join([s.vals[k], *map(str, path[:-1])]) for path, k in self.pos.items()
                if path[-1] == x and s.vals[k] not in (UNSENT, PENDING)]

    def sent(self, s) -> list:
        """(path, value) for every message sent so far (a traitor's, once its value is chosen)."""
        return [(path, s.vals[k]) for path, k in self.pos.items() if s.vals[k] not in (UNSENT, PENDING)]

    @action
    def Round(self, s):
        """Every loyal general relays what it received; a traitor's messages await its choice."""
        if s.round > self.m or PENDING in s.vals:
            return None
        r, vals = s.round + 1, list(s.vals)
        for path in self.by_round[r]:
            sender, receiver = path[-2], path[-1]
            if receiver in s.traitors:
                continue
            if sender in s.traitors:
                vals[self.pos[path]] = PENDING
            else:
                vals[self.pos[path]] = s.order if sender == 0 else s.vals[self.pos[path[:-1]]]
        return s._replace(round=r, vals=tuple(vals))

    @action(value=VALUES, fault=True)
    def TraitorSends(self, s, value):
        """The next pending traitor message (in path order) carries ``value``."""
        if PENDING not in s.vals:
            return None
        k = s.vals.index(PENDING)
        return s._replace(vals=s.vals[:k] + (value,) + s.vals[k + 1:])

    @action
    def Decide(self, s):
        """After round m+1, each loyal lieutenant takes OM's recursive majority."""
        if s.round != self.m + 1 or PENDING in s.vals or s.decision:
            return None
        decision = [UNSENT] * self.n
        for x in self.loyal_lieutenants(s):
            decision[x] = self.om_value(s.vals, x, (0,))
        return s._replace(decision=tuple(decision))

    def om_value(self, vals, x, path) -> str:
        """x's result of OM(m - k) whose commander is ``path[-1]``, the generals in ``path`` excluded."""
        direct = vals[self.pos[path + (x,)]] or RETREAT
        if len(path) == self.m + 1:
            return direct
        relayed = [self.om_value(vals, x, path + (j,)) for j in self.lieutenants if j not in path and j != x]
        return majority([direct] + relayed)
