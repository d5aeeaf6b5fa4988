"""Hand-made specs whose state graphs are small enough to count by hand."""

from __future__ import annotations

from typing import NamedTuple

from consensuslab.models.params import Param
from consensuslab.models.properties import always, always_step, sometimes
from consensuslab.models.records import record
from consensuslab.models.spec import Spec, action


@record
class Counter(NamedTuple):
    n: int


class Ring(Spec):
    """A counter modulo ``size``: exactly ``size`` states, a cycle, no deadlock."""

    name = "ring"
    params = {"size": Param(5, min=1), "bad": Param(-1), "step_bad": Param(-1)}

    def init(self):
        yield Counter(0)

    @action
    def Inc(self, s):
        return Counter((s.n + 1) % self.size)

    @always
    def not_bad(self, s):
        return s.n != self.bad

    @always_step
    def no_bad_step(self, before, act, after):
        return after.n != self.step_bad


@record
class Bits(NamedTuple):
    a: int
    b: int


class TwoBits(Spec):
    """Two bits each set once: 4 states, the all-set state a dead end."""

    name = "two-bits"
    params = {"witness": Param(True)}

    def init(self):
        yield Bits(0, 0)

    @action
    def SetA(self, s):
        if not s.a:
            return s._replace(a=1)

    @action
    def SetB(self, s):
        if not s.b:
            return s._replace(b=1)

    @sometimes
    def both_set(self, s):
        return s.a and s.b and self.witness


class Grid(Spec):
    """Walk right or down on a size x size grid: size**2 states, (size-1)*2 deep."""

    name = "grid"
    params = {"size": Param(4, min=1), "target": Param(-1)}

    def init(self):
        yield Bits(0, 0)

    @action(d=("right", "down"))
    def Move(self, s, d):
        if d == "right" and s.a + 1 < self.size:
            return s._replace(a=s.a + 1)
        if d == "down" and s.b + 1 < self.size:
            return s._replace(b=s.b + 1)

    @always
    def avoid_target(self, s):
        return s.a + s.b != self.target

    def done(self, s):
        return s.a == s.b == self.size - 1
