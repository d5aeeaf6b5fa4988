"""Z3 encodings of quorum systems: 0/1 integer variables and linear sums under ``Tactic('smt')``.

Measured on this machine (threshold 33 of 49, overlap bound f=16 / 17): 0/1 integers with
linear sums under ``Tactic('smt')`` answer either verdict in ~20 ms; Booleans with
``AtLeast`` under ``SolverFor('QF_FD')`` take ~150 ms; plain ``SolverFor('QF_LIA')`` takes
seconds already at n=16; Booleans with ``PbGe`` for 100 weighted nodes time out (>2 min)
where the 0/1 integer form answers in 40 ms. The linear relaxation is what makes the
UNSAT side fast: two quorums of size q in n nodes overlap in 2q-n, which simplex sees at
once. Lexicographic symmetry breaking did not pay (3.4 s instead of 8 ms on a SAT instance at
n=49), so witnesses are made canonical afterwards, in plain Python.
"""

from __future__ import annotations

import math
import time
from fractions import Fraction
from functools import singledispatch

import z3

from consensuslab.checkers.quorum.systems import Budget, Explicit, Hierarchical, Threshold, Weighted
from consensuslab.errors import UsageError

ENCODING = "int01-linear"
SEED = 0


def new_solver(time_limit: float | None):
    """A deterministic ``Tactic('smt')`` solver; returns it and the settings to record."""
    solver = z3.Tactic("smt").solver()
    solver.set("random_seed", SEED)
    settings = {"tactic": "smt", "random_seed": SEED}
    if time_limit is not None:
        solver.set("timeout", max(1, int(time_limit * 1000)))
        settings["timeout_ms"] = max(1, int(time_limit * 1000))
    return solver, settings


def zero_one(solver, tag: str, nodes) -> dict:
    """One 0/1 integer variable per node."""
    out = {}
    for i, v in enumerate(nodes):
        x = z3.Int(f"{tag}{i}")
        solver.add(x >= 0, x <= 1)
        out[v] = x
    return out


def complement(xs: dict) -> dict:
    return {v: 1 - x for v, x in xs.items()}


def scale(system: Weighted) -> tuple[dict[str, int], int]:
    """Integer weights proportional to the system's, and their total."""
    ws = dict(system.weights)
    lcm = math.lcm(*(w.denominator for w in ws.values()))
    ints = {v: int(w * lcm) for v, w in ws.items()}
    return ints, sum(ints.values())


def weight_at_most(system: Weighted, xs: dict, fraction: Fraction):
    ints, total = scale(system)
    return z3.Sum([ints[v] * x for v, x in xs.items()]) * fraction.denominator <= fraction.numerator * total


@singledispatch
def quorum(system, xs: dict):
    """A Z3 formula: the nodes whose variable is 1 form a quorum of ``system``."""
    raise UsageError(f"no Z3 encoding for {type(system).__name__}")


@quorum.register
def _(system: Threshold, xs):
    return z3.Sum(list(xs.values())) >= system.q


@quorum.register
def _(system: Weighted, xs):
    ints, total = scale(system)
    f = system.fraction
    return z3.Sum([ints[v] * x for v, x in xs.items()]) * f.denominator >= f.numerator * total + 1


@quorum.register
def _(system: Hierarchical, xs):
    won = [z3.If(z3.Sum([xs[v] for v in g]) >= t, 1, 0)
           for g, t in zip(system.groups, system.member_thresholds)]
    return z3.Sum(won) >= system.group_threshold


@quorum.register
def _(system: Explicit, xs):
    return z3.Or([z3.And([xs[v] == 1 for v in q]) for q in system.listed])


def budget(system, budget_: Budget, fs: dict):
    """The faulty set ``fs`` fits the budget."""
    if budget_.weight is not None:
        if not isinstance(system, Weighted):
            raise UsageError("a faulty weight needs --system weighted; use crash:F or byzantine:F")
        return weight_at_most(system, fs, budget_.weight)
    return z3.Sum(list(fs.values())) <= budget_.count


def at_most(xs: dict, k: int):
    """At most ``k`` of the 0/1 integer or Boolean variables are set."""
    vals = list(xs.values())
    if vals and z3.is_bool(vals[0]):
        return z3.AtMost(*vals, k)
    return z3.Sum(vals) <= k


def chosen(model, xs: dict) -> set:
    def on(x):
        val = model.eval(x, model_completion=True)
        return z3.is_true(val) if z3.is_bool(val) else val.as_long() == 1
    return {v for v, x in xs.items() if on(x)}


def solve(solver):
    """``check()`` timed; returns ('sat'|'unsat'|'unknown', seconds, reason)."""
    started = time.perf_counter()
    verdict = solver.check()
    seconds = time.perf_counter() - started
    reason = solver.reason_unknown() if verdict == z3.unknown else ""
    return str(verdict), seconds, reason
