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


class Deadline:
    """The one time budget of a quorum query, however many solver calls it makes: each call gets
    what is left (``solve``), so ``--time-limit`` bounds the command, not each of its calls."""

    def __init__(self, seconds: float | None):
        self.at = None if seconds is None else time.monotonic() + seconds

    @classmethod
    def of(cls, limit: "float | Deadline | None") -> "Deadline":
        """``limit`` itself when it is a Deadline (shared by nested calls), else one starting now."""
        return limit if isinstance(limit, Deadline) else cls(limit)

    def left(self) -> float | None:
        return None if self.at is None else self.at - time.monotonic()

    def passed(self) -> bool:
        return self.at is not None and time.monotonic() >= self.at


def new_solver(time_limit: "float | Deadline | None"):
    """A deterministic ``Tactic('smt')`` solver; returns it and the settings to record.

    Its memory is capped below the process's (``--memory-limit``), so that Z3 answers
    ``unknown`` instead of the allocation failing.
    """
    deadline = Deadline.of(time_limit)
    solver = z3.Tactic("smt").solver()
    solver.set("random_seed", SEED)
    settings = {"tactic": "smt", "random_seed": SEED}
    left = deadline.left()
    if left is not None:
        solver.set("timeout", max(1, int(left * 1000)))
        settings["timeout_ms"] = max(1, int(left * 1000))
    cap = _memory_cap_mb()
    if cap is not None:
        z3.set_param("memory_max_size", cap)
        settings["memory_max_mb"] = cap
    return solver, settings


def _memory_cap_mb() -> int | None:
    from consensuslab.checkers.search.limits import MB, STOP_AT, process_memory_limits

    cap = process_memory_limits()[0]
    return None if cap is None else max(16, int(cap * STOP_AT / MB))


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


def solve(solver, deadline: Deadline | None = None):
    """``check()`` timed, within what is left of ``deadline``; returns ('sat'|'unsat'|'unknown', seconds, reason)."""
    if deadline is not None and deadline.at is not None:
        left = deadline.left()
        if left <= 0:
            return "unknown", 0.0, "the time limit was reached"
        solver.set("timeout", max(1, int(left * 1000)))
    started = time.perf_counter()
    try:
        verdict = solver.check()
    except z3.Z3Exception as exc:  # out of memory inside Z3: no answer, never a guess
        return "unknown", time.perf_counter() - started, f"solver failed: {exc}"
    seconds = time.perf_counter() - started
    reason = solver.reason_unknown() if verdict == z3.unknown else ""
    return str(verdict), seconds, reason
