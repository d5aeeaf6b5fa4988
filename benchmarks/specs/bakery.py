"""Lamport's bakery algorithm (atomic PlusCal version), transcribed from the TLA+ Examples.

Source: ``specifications/Bakery-Boulangerie/Bakery.tla`` (the TLA+ translation
of its PlusCal algorithm, ``MutualExclusion``, ``TypeOK``, ``Before``,
``IInv``, ``Inv`` and ``ISpec``) with the model ``MCBakery.tla`` /
``MCBakery.cfg`` in the TLA+ Examples repository (github tlaplus/Examples).

Processes ``1..N`` (``Procs``).  Process ``p`` sets ``flag[p]`` (flipping it any
number of times first, ``e1``), reads every other ``num`` into ``max[p]``
(``e2``), picks any ``num[p] > max[p]`` (trying any other values first,
``e3``), clears its flag (``e4``), then for every other process ``nxt[p]``
waits until its flag is down (``w1``) and until it has no ticket or a later
one (``w2``), and enters ``cs``; on ``exit`` it may write any values before
writing 0.  Variables, in the translation's order: ``num``, ``flag``, ``pc``,
``unchecked``, ``max``, ``nxt``, each a function on ``Procs``, here a tuple
indexed by ``p - 1`` (``unchecked[p - 1]`` a frozenset, ``pc[p - 1]`` the label
as a string).

One action per label of the translation, ``ncs(self)`` ... ``exit(self)``, with
``self`` as the argument ``p`` and the translation's ``UNCHANGED`` as
``unchanged=``.  An ``either ... or`` of the PlusCal code is a pair of declared
branches (``e1``: ``flip`` or ``set``; ``e4``: ``flip`` or ``clear``; ``e3``:
``again`` or ``next``).  A bound variable is an argument over a fixed domain,
with the spec's membership as a guard: ``e3(self, k)`` takes both of its
disjuncts' choices from ``Nat`` (``k > max[self]`` for ``next``); ``e2``'s and
``w1``'s ``IF unchecked[self] # {} THEN \\E i \\in unchecked[self] ... ELSE``
is ``e2(self, i)`` with ``i`` over ``Procs`` for the ``THEN`` part and ``i =
None`` for the ``ELSE`` part, and ``exit``'s ``\\E k \\in Nat`` disjunct is
``exit(self, k)`` with ``k = None`` for the other disjunct (``num[self] :=
0``), so every step of the translation is exactly one step here.

Constants (``MCBakery.cfg``): ``N = 2``, ``MaxNat = 2`` with ``Nat <-
NatOverride`` (``0..MaxNat``), parameters ``n`` and ``max_nat``; the override
bounds every ``Nat`` of the module: ``TypeOK``'s ``num`` and ``max``, the
values ``e3`` and ``exit`` may write, and ``{j \\in Nat : j > max[self]}``
(empty, so ``next`` disabled, when ``max[self] = MaxNat``).  ``SPECIFICATION
ISpec``: ``ISpec == Inv /\\ [][Next]_vars``, so the initial states are every
state satisfying ``Inv`` (``TypeOK /\\ IInv``): ``init`` enumerates the typed
state space (``3^2 * 2^2 * 9^2 * 4^2 * 3^2 * 2^2``, 1,679,616 states) and keeps
those satisfying ``Inv``.  Parameter ``start="Spec"`` starts from ``Init``
instead (the module's ``Spec`` without its fairness).  Invariants
``MutualExclusion``, ``TypeOK``, ``Inv``; ``CHECK_DEADLOCK FALSE``.

Distinct states: TLC 655,200 (manifest, MCBakery.cfg, depth 1: ``Inv`` is
inductive, no step leaves the initial states); ours 655,200.  Not from TLC
(no TLC run here; each count from a separate hand-written enumeration of
the same definitions, and ours equal): ``max_nat=1`` under ``ISpec``, 112,160;
``start=Spec`` with the cfg's constants, 2,303 (depth 39).

Added, not in the cfg: ``someone_in_cs`` (``@sometimes``).  Variant
``no-flag-wait``: ``w1`` does not ``await ~ flag[nxt]``, the wait for a
process that is choosing its number.  From ``Init``, one process reads
``num = 0`` from the other, and so does the other; the first picks 2 and
passes ``w2`` because the other, still choosing (its flag up), has no number
yet; the other picks 1 and passes ``w2`` because its number is the smaller:
both in ``cs`` after 18 steps.
The variant's scenario starts from ``Init`` and checks ``MutualExclusion``
alone (with every invariant, ``Inv``, which implies ``MutualExclusion``, fails
first).
"""

from __future__ import annotations

from itertools import combinations, product
from typing import NamedTuple

from consensuslab import Param, Scenario, Spec, action, always, record, replace_at, sometimes

LABELS = ("ncs", "e1", "e2", "e3", "e4", "w1", "w2", "cs", "exit")


@record
class BakeryState(NamedTuple):
    num: tuple  # num[p-1]: p's number (ticket), 0 for none
    flag: tuple  # flag[p-1]: p is choosing its number
    pc: tuple  # pc[p-1]: p's label
    unchecked: tuple  # unchecked[p-1]: frozenset of the processes p has still to read (e2) or wait for (w1)
    max: tuple  # max[p-1]: the largest number p has read
    nxt: tuple  # nxt[p-1]: the process p waits for (w2)


def prec(a, b):
    """``a \\prec b``: lexicographic less-than on pairs of numbers."""
    return a[0] < b[0] or (a[0] == b[0] and a[1] < b[1])


class Bakery(Spec):
    name = "bakery"
    summary = "Lamport's bakery algorithm, atomic PlusCal version, Bakery.tla (TLA+ Examples)"
    params = {
        "n": Param(2, "number of processes (N)", min=1, max=3),
        "max_nat": Param(2, "Nat <- 0..MaxNat (MCBakery's NatOverride)", min=1, max=4),
        "start": Param("ISpec", "ISpec: every state satisfying Inv; Spec: Init", choices=("ISpec", "Spec")),
    }
    variants = {"no-flag-wait": "w1 does not wait for the flag of a process choosing its number"}
    check_deadlock = False
    scenarios = (
        Scenario("small", "ISpec, N = 2, MaxNat = 1 (ours, not TLC's: 112,160)", {"n": 2, "max_nat": 1},
                 states=112160),
        Scenario("cfg", "MCBakery.cfg: ISpec, N = 2, MaxNat = 2 (TLC: 655,200)", {"n": 2, "max_nat": 2},
                 states=655200),
        Scenario("spec", "Spec (from Init), N = 2, MaxNat = 2 (ours, not TLC's: 2,303)",
                 {"n": 2, "max_nat": 2, "start": "Spec"}, states=2303),
        Scenario("no-flag-wait", "two processes in the critical section", {"n": 2, "max_nat": 2, "start": "Spec"},
                 variant="no-flag-wait", properties=("MutualExclusion",),
                 expect="violation", expect_property="MutualExclusion"),
    )

    def setup(self):
        self.Procs = tuple(range(1, self.n + 1))
        self.Nat = tuple(range(self.max_nat + 1))  # NatOverride == 0 .. MaxNat
        self.ProcsOrNone = self.Procs + (None,)  # None: the ELSE of IF unchecked[self] # {}
        self.NatOrNone = self.Nat + (None,)  # None: exit's other disjunct, num[self] := 0

    def others(self, p):
        """``Procs \\ {p}``."""
        return frozenset(self.Procs) - {p}

    # -- initial states ---------------------------------------------------------------------
    def init(self):
        n = self.n
        if self.start == "Spec":
            yield BakeryState(num=(0,) * n, flag=(False,) * n, pc=("ncs",) * n,
                              unchecked=(frozenset(),) * n, max=(0,) * n, nxt=(1,) * n)
            return
        subsets = [frozenset(c) for k in range(n + 1) for c in combinations(self.Procs, k)]  # SUBSET Procs
        for num, flag, pc, unchecked, mx, nxt in product(
                product(self.Nat, repeat=n), product((False, True), repeat=n), product(LABELS, repeat=n),
                product(subsets, repeat=n), product(self.Nat, repeat=n), product(self.Procs, repeat=n)):
            s = BakeryState(num, flag, pc, unchecked, mx, nxt)
            if self.Inv(s):
                yield s

    # -- the actions, one per label -----------------------------------------------------------
    @action(p="Procs", by="p", unchanged=("num", "flag", "unchecked", "max", "nxt"))
    def ncs(self, s, p):
        if s.pc[p - 1] == "ncs":
            return s._replace(pc=replace_at(s.pc, p - 1, "e1"))

    @action(p="Procs", by="p", branches=("flip", "set"), unchanged=("num", "nxt"))
    def e1(self, s, p):
        k = p - 1
        if s.pc[k] == "e1":
            yield "flip", s._replace(flag=replace_at(s.flag, k, not s.flag[k]))
            yield "set", s._replace(flag=replace_at(s.flag, k, True),
                                    unchecked=replace_at(s.unchecked, k, self.others(p)),
                                    max=replace_at(s.max, k, 0),
                                    pc=replace_at(s.pc, k, "e2"))

    @action(p="Procs", i="ProcsOrNone", by="p", unchanged=("num", "flag", "nxt"))
    def e2(self, s, p, i):
        k = p - 1
        if s.pc[k] != "e2":
            return None
        if i is None:  # ELSE: every other number read
            if not s.unchecked[k]:
                return s._replace(pc=replace_at(s.pc, k, "e3"))
            return None
        if i in s.unchecked[k]:
            mx = replace_at(s.max, k, s.num[i - 1]) if s.num[i - 1] > s.max[k] else s.max
            return s._replace(unchecked=replace_at(s.unchecked, k, s.unchecked[k] - {i}), max=mx)

    @action(p="Procs", k="Nat", by="p", branches=("again", "next"), unchanged=("flag", "unchecked", "max", "nxt"))
    def e3(self, s, p, k):
        j = p - 1
        if s.pc[j] == "e3":
            yield "again", s._replace(num=replace_at(s.num, j, k))
            if k > s.max[j]:
                yield "next", s._replace(num=replace_at(s.num, j, k), pc=replace_at(s.pc, j, "e4"))

    @action(p="Procs", by="p", branches=("flip", "clear"), unchanged=("num", "max", "nxt"))
    def e4(self, s, p):
        k = p - 1
        if s.pc[k] == "e4":
            yield "flip", s._replace(flag=replace_at(s.flag, k, not s.flag[k]))
            yield "clear", s._replace(flag=replace_at(s.flag, k, False),
                                      unchecked=replace_at(s.unchecked, k, self.others(p)),
                                      pc=replace_at(s.pc, k, "w1"))

    @action(p="Procs", i="ProcsOrNone", by="p", unchanged=("num", "flag", "unchecked", "max"))
    def w1(self, s, p, i):
        k = p - 1
        if s.pc[k] != "w1":
            return None
        if i is None:  # ELSE: waited for every other process
            if not s.unchecked[k]:
                return s._replace(pc=replace_at(s.pc, k, "cs"))
            return None
        if i in s.unchecked[k] and (self.variant == "no-flag-wait" or not s.flag[i - 1]):
            return s._replace(nxt=replace_at(s.nxt, k, i), pc=replace_at(s.pc, k, "w2"))

    @action(p="Procs", by="p", unchanged=("num", "flag", "max", "nxt"))
    def w2(self, s, p):
        k = p - 1
        if s.pc[k] != "w2":
            return None
        j = s.nxt[k]
        if s.num[j - 1] == 0 or prec((s.num[k], p), (s.num[j - 1], j)):
            return s._replace(unchecked=replace_at(s.unchecked, k, s.unchecked[k] - {j}),
                              pc=replace_at(s.pc, k, "w1"))

    @action(p="Procs", by="p", unchanged=("num", "flag", "unchecked", "max", "nxt"))
    def cs(self, s, p):
        if s.pc[p - 1] == "cs":
            return s._replace(pc=replace_at(s.pc, p - 1, "exit"))

    @action(p="Procs", k="NatOrNone", by="p", unchanged=("flag", "unchecked", "max", "nxt"))
    def exit(self, s, p, k):
        j = p - 1
        if s.pc[j] != "exit":
            return None
        if k is None:
            return s._replace(num=replace_at(s.num, j, 0), pc=replace_at(s.pc, j, "ncs"))
        return s._replace(num=replace_at(s.num, j, k))

    # -- properties -----------------------------------------------------------------------
    @always
    def MutualExclusion(self, s):
        return sum(1 for label in s.pc if label == "cs") <= 1

    @always
    def TypeOK(self, s):
        n, procs = self.n, frozenset(self.Procs)
        return (len(s.num) == n and all(x in self.Nat for x in s.num)
                and len(s.flag) == n and all(f in (False, True) for f in s.flag)
                and len(s.unchecked) == n and all(u <= procs for u in s.unchecked)
                and len(s.max) == n and all(x in self.Nat for x in s.max)
                and len(s.nxt) == n and all(x in procs for x in s.nxt)
                and len(s.pc) == n and all(label in LABELS for label in s.pc))

    def Before(self, s, i, j):
        num_i = s.num[i - 1]
        if not num_i > 0:
            return False
        pc_j, unchecked_j, max_j = s.pc[j - 1], s.unchecked[j - 1], s.max[j - 1]
        return (pc_j in ("ncs", "e1", "exit")
                or (pc_j == "e2" and (i in unchecked_j or max_j >= num_i))
                or (pc_j == "e3" and max_j >= num_i)
                or (pc_j in ("e4", "w1", "w2")
                    and prec((num_i, i), (s.num[j - 1], j))
                    and (pc_j not in ("w1", "w2") or i in unchecked_j)))

    def IInv(self, s):
        for i in self.Procs:
            k = i - 1
            pc_i = s.pc[k]
            if pc_i in ("e4", "w1", "w2", "cs") and s.num[k] == 0:
                return False
            if pc_i in ("e2", "e3") and not s.flag[k]:
                return False
            if pc_i == "w2" and s.nxt[k] == i:
                return False
            if pc_i in ("w1", "w2") and i in s.unchecked[k]:
                return False
            if pc_i in ("w1", "w2") and not all(self.Before(s, i, j) for j in self.Procs
                                                if j not in s.unchecked[k] and j != i):
                return False
            if pc_i == "w2":
                q = s.nxt[k] - 1
                if ((s.pc[q] == "e2" and i not in s.unchecked[q]) or s.pc[q] == "e3") and not s.max[q] >= s.num[k]:
                    return False
            if pc_i == "cs" and not all(self.Before(s, i, j) for j in self.Procs if j != i):
                return False
        return True

    @always
    def Inv(self, s):
        return self.TypeOK(s) and self.IInv(s)

    @sometimes
    def someone_in_cs(self, s):
        return "cs" in s.pc
