"""Lamport's "Teaching Concurrency" algorithm on regular registers, transcribed from the TLA+ Examples.

Source: ``specifications/TeachingConcurrency/SimpleRegular.tla`` (the TLA+
translation of its PlusCal algorithm) and ``SimpleRegular.cfg`` in the TLA+
Examples repository (github tlaplus/Examples).

Each process ``i`` of ``0..N-1`` writes 1 to its register ``x[i]`` and then
reads the register of process ``(i-1) % N`` into ``y[i]``.  A regular register
is a set of values: writing 1 first makes it ``{0, 1}`` (a read may see
either), then ``{1}``.  Variables ``x`` (a tuple of frozensets), ``y``, ``pc``.
Actions: ``a1(self)``, ``a2(self)``, ``b(self)`` with the spec's
``\\E v \\in x[(self-1) % N]`` as the argument ``v`` over ``{0, 1}`` (the
domain of an argument cannot depend on the state, so the guard requires
``v`` to be in the register), and ``Terminating``, the translation's
stuttering step once every process is done (it keeps TLC from reporting a
deadlock; here it is a step to the same state).

Constants (``SimpleRegular.cfg``): ``N = 8``, parameter ``n``.  Invariants
``PCorrect``, ``TypeOK``, ``Inv``; TLC checks deadlock.

Distinct states: TLC 277,726 (manifest, SimpleRegular.cfg, N = 8); ours 277,726.
Small configuration ``n=5``: TLC 2,524 (TLC 2.15 run on SimpleRegular.tla
with N = 5); ours 2,524.

Variant ``skip-a2``: a process reads as soon as it has begun its write
(``a1`` goes straight to ``b``, the register left at ``{0, 1}``): every read
may return 0.  The checker finds ``Inv`` broken after one step, and with
``--property PCorrect`` every process done with ``y`` all 0.
"""

from __future__ import annotations

from typing import NamedTuple

from consensuslab import Param, Scenario, Spec, action, always, record, replace_at, sometimes


@record
class SimpleState(NamedTuple):
    x: tuple  # x[i]: frozenset of the values a read of register i may return
    y: tuple
    pc: tuple  # "a1" | "a2" | "b" | "Done"


ZERO, BOTH, ONE = frozenset({0}), frozenset({0, 1}), frozenset({1})
REGISTER_VALUES = (ZERO, ONE, BOTH)  # (SUBSET {0, 1}) \ {{}}


class SimpleRegular(Spec):
    name = "simple-regular"
    summary = "Teaching Concurrency on regular registers, SimpleRegular.tla (TLA+ Examples)"
    params = {"n": Param(8, "number of processes", min=1, max=12)}
    variants = {"skip-a2": "a1 goes straight to b, leaving the register at {0, 1}"}
    scenarios = (
        Scenario("small", "N = 5 (TLC: 2,524)", {"n": 5}, states=2524),
        Scenario("cfg", "SimpleRegular.cfg: N = 8 (TLC: 277,726)", {"n": 8}, states=277726),
        Scenario("skip-a2", "reads overlap the write", {"n": 2}, variant="skip-a2",
                 expect="violation", expect_property="Inv"),
    )

    def setup(self):
        self.ProcSet = tuple(range(self.n))
        self.Bit = (0, 1)

    def init(self):
        yield SimpleState((ZERO,) * self.n, (0,) * self.n, ("a1",) * self.n)

    @action(i="ProcSet")
    def a1(self, s, i):
        if s.pc[i] == "a1":
            after = "b" if self.variant == "skip-a2" else "a2"
            return s._replace(x=replace_at(s.x, i, BOTH), pc=replace_at(s.pc, i, after))

    @action(i="ProcSet")
    def a2(self, s, i):
        if s.pc[i] == "a2":
            return s._replace(x=replace_at(s.x, i, ONE), pc=replace_at(s.pc, i, "b"))

    @action(i="ProcSet", v="Bit")
    def b(self, s, i, v):
        if s.pc[i] == "b" and v in s.x[(i - 1) % self.n]:
            return s._replace(y=replace_at(s.y, i, v), pc=replace_at(s.pc, i, "Done"))

    @action
    def Terminating(self, s):
        if all(p == "Done" for p in s.pc):
            return s

    # -- properties -----------------------------------------------------------------------
    @always
    def PCorrect(self, s):
        return not all(p == "Done" for p in s.pc) or any(v == 1 for v in s.y)

    @always
    def TypeOK(self, s):
        n = self.n
        return (len(s.x) == n and all(r in REGISTER_VALUES for r in s.x)
                and len(s.y) == n and all(v in (0, 1) for v in s.y)
                and len(s.pc) == n and all(p in ("a1", "a2", "b", "Done") for p in s.pc))

    @always
    def Inv(self, s):
        if not self.TypeOK(s):
            return False
        if any(s.pc[i] in ("b", "Done") and s.x[i] != ONE for i in self.ProcSet):
            return False
        return any(p != "Done" for p in s.pc) or any(v == 1 for v in s.y)

    @sometimes
    def all_done(self, s):
        return all(p == "Done" for p in s.pc)
