"""Synthesis on top of ``check_requirement``: smallest n and quorum size per f, largest f,
largest faulty weight. The numbers come out of Z3; the search only uses facts about
threshold systems that hold whatever the answer is:

* unsafe at (n, q, f) stays unsafe for larger n, smaller q or larger f (the same two
  quorums still exist and still overlap in at most f), so the smallest safe q never
  decreases as n or f grow;
* unavailable at (n, q, f) stays unavailable for larger q or larger f;
* what tolerates f faults tolerates f - 1, so the smallest n never decreases with f.

At the smallest safe q, an unavailable n admits no q at all, which is the minimality proof
recorded in each row.
"""

from __future__ import annotations

import time
from fractions import Fraction

import attrs
import z3

from consensuslab.checkers.quorum import encode as enc
from consensuslab.checkers.quorum.systems import (
    Availability,
    Budget,
    Flexible,
    Intersection,
    Threshold,
    Weighted,
    requirements_for,
)
from consensuslab.errors import UsageError

MODELS = ("crash", "byzantine", "masking", "flexible")


class Unknown(Exception):
    """A solver query hit the time limit: the synthesis cannot claim a minimum."""


@attrs.frozen
class Row:
    f: int
    n: int
    q: int
    q1: int | None = None
    q2: int | None = None
    checks: int = 0
    proof: str = ""
    seconds: float = 0.0

    def to_json(self) -> dict:
        out = {"f": self.f, "n": self.n, "q": self.q}
        if self.q1 is not None:
            out.update(q1=self.q1, q2=self.q2)
        out.update(checks=self.checks, proof=self.proof, seconds=round(self.seconds, 6))
        return out


class _Oracle:
    """Counts solver calls and turns ``unknown`` into an exception (never into 'safe')."""

    def __init__(self, time_limit):
        self.time_limit, self.calls = enc.Deadline.of(time_limit), 0

    def holds(self, system, req) -> bool:
        from consensuslab.checkers.quorum.queries import check_requirement
        self.calls += 1
        r = check_requirement(system, req, self.time_limit)
        if r.status == "unknown":
            raise Unknown(f"{system.describe()}: {r.requirement}: {r.why}")
        return r.status == "holds"


def _threshold_rows(model, fs, time_limit):
    oracle = _Oracle(time_limit)
    n, q = 1, 1
    for f in fs:
        started, calls = time.perf_counter(), oracle.calls
        safety, avail = requirements_for(model, f)
        while True:
            if q > n:
                n += 1
                continue
            if not oracle.holds(Threshold(n, q), safety):
                q += 1
                continue
            if oracle.holds(Threshold(n, q), avail):
                break
            n += 1
        proof = (f"q={q - 1} is unsafe at n={n}; at n={n - 1} every q is unsafe or unavailable"
                 if n > 1 else "")
        yield Row(f, n, q, checks=oracle.calls - calls, proof=proof, seconds=time.perf_counter() - started)


def _flexible_rows(fs, n, time_limit):
    """For n nodes: the largest Q1 that survives f crashes, then the smallest Q2 meeting every Q1."""
    oracle = _Oracle(time_limit)
    q1, q2 = n, 1
    for f in fs:
        if f >= n:
            raise UsageError(f"flexible synthesis needs f < n={n}, not f={f}")
        started, calls = time.perf_counter(), oracle.calls
        while not oracle.holds(Threshold(n, q1), Availability(Budget(count=f))):
            q1 -= 1
        while not oracle.holds(Flexible(n, q1, q2), Intersection()):
            q2 += 1
        proof = f"|Q1|={q1 + 1} is unavailable with {f} crashed; |Q2|={q2 - 1} misses a Q1"
        yield Row(f, n, q2, q1=q1, q2=q2, checks=oracle.calls - calls, proof=proof,
                  seconds=time.perf_counter() - started)


def synthesize(model: str, fs, n: int | None = None, time_limit: float | None = None) -> tuple[Row, ...]:
    """Per f: the smallest n and quorum size q (threshold models), or, for ``flexible`` with
    ``n`` nodes (default 2*max(f)+1), the largest |Q1| tolerating f crashes and the smallest |Q2|."""
    fs = sorted(set(fs))
    if not fs or fs[0] < 0:
        raise UsageError("f must be a range of whole numbers >= 0, e.g. 1..10")
    if model == "flexible":
        return tuple(_flexible_rows(fs, n if n is not None else 2 * fs[-1] + 1, time_limit))
    if model not in MODELS:
        raise UsageError(f"unknown model {model!r}; valid: {', '.join(MODELS)}")
    return tuple(_threshold_rows(model, fs, time_limit))


def sweep(max_f: int, models=MODELS, time_limit: float | None = None) -> dict[str, tuple[Row, ...]]:
    """The table over f = 1..max_f for each model, within one time budget."""
    deadline = enc.Deadline.of(time_limit)
    return {m: synthesize(m, range(1, max_f + 1), time_limit=deadline) for m in models}


def largest_tolerable_f(system, kind: str = "byzantine", time_limit: float | None = None):
    """The largest f whose requirements hold (-1 if even f=0 fails), and the failing result at f+1."""
    from consensuslab.checkers.quorum.queries import check
    deadline = enc.Deadline.of(time_limit)
    for f in range(0, len(system.nodes) + 1):
        report = check(system, requirements_for(kind, f), deadline)
        if report.status == "unknown":
            raise Unknown(report.decisive.why)
        if report.status == "violated":
            return f - 1, report
    return len(system.nodes), None


@attrs.frozen
class WeightBound:
    """Any faulty set lighter than ``breaking`` is tolerated; ``witness`` weighs exactly that."""

    breaking: Fraction
    total: Fraction
    requirement: str
    witness: tuple
    proof: str

    def to_json(self) -> dict:
        return {"breaking_weight": str(self.breaking), "total": str(self.total),
                "breaking_fraction": str(self.breaking / self.total), "requirement": self.requirement,
                "witness": list(self.witness), "proof": self.proof}


def largest_faulty_weight(system: Weighted, time_limit: float | None = None) -> WeightBound:
    """The lightest faulty set that splits (Byzantine) or blocks the system, minimised by
    ``z3.Optimize`` and confirmed minimal by an UNSAT query one weight unit below."""
    if not isinstance(system, Weighted):
        raise UsageError("the largest faulty weight is defined for --system weighted")
    ints, _ = enc.scale(system)
    best = None
    deadline = enc.Deadline.of(time_limit)
    for name in ("byzantine-intersection", "availability"):
        for attempt in ("optimize", "confirm"):
            solver = z3.Optimize() if attempt == "optimize" else enc.new_solver(deadline)[0]
            left = deadline.left()
            if left is not None:
                if left <= 0:
                    raise Unknown("the time limit was reached")
                solver.set("timeout", max(1, int(left * 1000)))
            a, b, f = (enc.zero_one(solver, t, system.nodes) for t in "abf")
            weight = z3.Sum([ints[v] * f[v] for v in system.nodes])
            if name == "availability":
                solver.add(z3.Not(enc.quorum(system, enc.complement(f))))
            else:
                solver.add(enc.quorum(system, a), enc.quorum(system, b))
                solver.add([a[v] + b[v] - 1 <= f[v] for v in system.nodes])
            if attempt == "optimize":
                solver.minimize(weight)
                if solver.check() != z3.sat:
                    raise Unknown(f"optimizer gave no answer for {name}")
                chosen = enc.chosen(solver.model(), f)
                w = sum(ints[v] for v in chosen)
            else:
                solver.add(weight <= w - 1)
                if str(solver.check()) != "unsat":
                    raise Unknown(f"could not confirm the minimum for {name}")
        if best is None or w < best[0]:
            best = (w, name, tuple(sorted(chosen)))
    w, name, chosen = best
    real = system.weight_of(chosen)
    return WeightBound(real, system.total, name, chosen,
                       f"no faulty set of weight < {real} breaks {name} (UNSAT)")
