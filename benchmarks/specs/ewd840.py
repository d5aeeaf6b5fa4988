"""Dijkstra's termination detection on a ring (EWD 840), transcribed from the TLA+ Examples.

Source: ``specifications/ewd840/EWD840.tla`` and ``EWD840.cfg`` in the TLA+
Examples repository (github tlaplus/Examples).

Nodes ``0..N-1`` are active or passive and white or black; a token travels
from node N-1 down to node 0, which starts each probe.  Variables ``active``,
``color``, ``tpos``, ``tcolor``; actions ``InitiateProbe``, ``PassToken(i)``
for ``i \\in Node \\ {0}``, ``SendMsg(i)`` with the spec's ``\\E j \\in Node \\ {i}``
as the argument ``j``, and ``Deactivate(i)``.  ``Init`` lets ``active``,
``color`` and ``tpos`` take every type-correct value: ``2^N * 2^N * N``
initial states.

Constants (``EWD840.cfg``): ``N = 3``, parameter ``n``.  Invariants ``TypeOK``,
``TerminationDetection``, ``Inv``; ``CHECK_DEADLOCK FALSE``.  The cfg's
temporal properties are ``Liveness`` (``terminated ~> terminationDetected``
under ``WF_vars(System)``) and ``TDSpec`` (refinement of
SyncTerminationDetection).  ``TDSpec``'s step part ``[][TD!Next]_vars`` is the
transition property ``TDSpec_step`` (its ``Init`` part is asserted in the
tests); ``Liveness`` is not checked: weak fairness of ``System``, a
disjunction of two actions (``InitiateProbe`` and every ``PassToken(i)``) as
one obligation, cannot be declared for a spec.

Distinct states: TLC 302 (manifest, EWD840.cfg, N = 3); ours 302.  TLC 1,566
for N = 4 (manifest, EWD840_json.cfg, which checks the same ``Spec``); ours 1,566.
TLC 36,990 for N = 6 (TLC 2.15 run); ours 36,990.
Benchmark configuration ``n=7``: TLC 172,286 (TLC 2.15 run on EWD840.tla with
the cfg's invariants and ``TDSpec``); ours 172,286.

Variant ``no-stain``: a black node passes the token on without staining it.
The checker finds Dijkstra's invariant ``Inv`` broken after two steps (a
probe starts, and a black, active node passes the token on white), and with
``--property TerminationDetection`` termination detected while a node is
still active (3 steps).
"""

from __future__ import annotations

from itertools import product
from typing import NamedTuple

from consensuslab import Param, Scenario, Spec, action, always, always_step, record, replace_at, sometimes


@record
class EWD840State(NamedTuple):
    active: tuple  # active[i]: bool
    color: tuple  # color[i]: "white" | "black"
    tpos: int
    tcolor: str


COLORS = ("white", "black")


class EWD840(Spec):
    name = "ewd840"
    summary = "Termination detection on a ring, EWD840.tla (TLA+ Examples)"
    params = {"n": Param(3, "number of nodes", min=1, max=10)}
    variants = {"no-stain": "PassToken does not stain the token when the node is black"}
    scenarios = (
        Scenario("cfg", "EWD840.cfg: N = 3 (TLC: 302)", {"n": 3}, states=302, deadlock=False),
        Scenario("json", "EWD840_json.cfg's constants: N = 4 (TLC: 1,566)", {"n": 4}, states=1566, deadlock=False),
        Scenario("bench", "N = 7 (TLC: 172,286)", {"n": 7}, states=172286, deadlock=False),
        Scenario("no-stain", "the token is not stained", {"n": 3}, variant="no-stain", deadlock=False,
                 expect="violation", expect_property="Inv"),
    )
    check_deadlock = False  # CHECK_DEADLOCK FALSE

    def setup(self):
        self.Node = tuple(range(self.n))
        self.OtherNode = tuple(range(1, self.n))  # Node \ {0}

    def init(self):
        for active in product((False, True), repeat=self.n):
            for color in product(COLORS, repeat=self.n):
                for tpos in self.Node:
                    yield EWD840State(active, color, tpos, "black")

    # -- System: the termination detection algorithm --------------------------------------
    @action
    def InitiateProbe(self, s):
        if s.tpos == 0 and (s.tcolor == "black" or s.color[0] == "black"):
            return EWD840State(s.active, replace_at(s.color, 0, "white"), self.n - 1, "white")

    @action(i="OtherNode")
    def PassToken(self, s, i):
        if s.tpos == i and (not s.active[i] or s.color[i] == "black" or s.tcolor == "black"):
            if s.color[i] == "black" and self.variant != "no-stain":
                tcolor = "black"
            else:
                tcolor = s.tcolor
            return EWD840State(s.active, replace_at(s.color, i, "white"), i - 1, tcolor)

    # -- Environment: the underlying computation ---------------------------------------------
    @action(i="Node", j="Node")
    def SendMsg(self, s, i, j):
        if s.active[i] and j != i:
            color = replace_at(s.color, i, "black") if j > i else s.color
            return s._replace(active=replace_at(s.active, j, True), color=color)

    @action(i="Node")
    def Deactivate(self, s, i):
        if s.active[i]:
            return s._replace(active=replace_at(s.active, i, False))

    # -- properties -----------------------------------------------------------------------
    @always
    def TypeOK(self, s):
        return (len(s.active) == self.n and all(a in (True, False) for a in s.active)
                and len(s.color) == self.n and all(c in COLORS for c in s.color)
                and s.tpos in self.Node and s.tcolor in COLORS)

    def terminated(self, active):
        return not any(active)

    def terminationDetected(self, s):
        return s.tpos == 0 and s.tcolor == "white" and s.color[0] == "white" and not s.active[0]

    @always
    def TerminationDetection(self, s):
        return not self.terminationDetected(s) or self.terminated(s.active)

    @always
    def Inv(self, s):
        p0 = all(not s.active[i] for i in self.Node if s.tpos < i)
        p1 = any(s.color[j] == "black" for j in range(s.tpos + 1))
        p2 = s.tcolor == "black"
        return p0 or p1 or p2

    @always_step
    def TDSpec_step(self, s, act, t):
        """[][TD!Next]_<<active, terminationDetected>> (SyncTerminationDetection, mapped)."""
        a, td = s.active, self.terminationDetected(s)
        a2, td2 = t.active, self.terminationDetected(t)
        if a == a2 and td == td2:
            return True  # stuttering
        for i in self.Node:  # Terminate(i)
            if a[i] and a2 == replace_at(a, i, False) and td2 in (td, self.terminated(a2)):
                return True
        for i in self.Node:  # Wakeup(i, j)
            for j in self.Node:
                if a[i] and a2 == replace_at(a, j, True) and td2 == td:
                    return True
        # DetectTermination
        return self.terminated(a) and td2 is True and a2 == a

    @sometimes
    def detected(self, s):
        return self.terminationDetected(s)
