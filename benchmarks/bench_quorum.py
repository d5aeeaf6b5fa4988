"""Timings of the Z3 quorum analysis against the targets of issue 6.

    python benchmarks/bench_quorum.py [--stellar-block]

Threshold systems up to n=49 and 100 weighted nodes, both verdicts (< 1 s each); the sweep
f=1..20 (< 5 s); the Stellar snapshot: intersection (< 10 s) and the smallest splitting set
(and, with --stellar-block, the smallest blocking set: slow, about a minute and a half).
"""

import os
import random
import sys
import time

from consensuslab.checkers.quorum.fbas import load_stellar
from consensuslab.checkers.quorum.queries import check, check_requirement, smallest_blocking_set, smallest_splitting_set
from consensuslab.checkers.quorum.synth import sweep
from consensuslab.checkers.quorum.systems import Budget, ByzantineIntersection, Threshold, Weighted, requirements_for

STELLAR = os.path.join(os.path.dirname(__file__), "..", "tests", "data", "stellar-pubnet-2025-07-20.json")


def timed(fn):
    started = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - started


def main() -> None:
    rows = []
    for n in (16, 25, 49):
        f = (n - 1) // 3
        for ff in (f, f + 1):
            for enc in ("counts", "nodes"):
                r, s = timed(lambda: check_requirement(Threshold(n, 2 * f + 1), ByzantineIntersection(Budget(ff)),
                                                       encoding=enc))
                rows.append((f"threshold n={n} q={2 * f + 1} byz f={ff} [{enc}]", r.status, s, 1.0))
    rng = random.Random(1)
    w = Weighted.of([rng.randint(1, 1000) for _ in range(100)], "2/3")
    for x in ("1/4", "1/3", "0.4"):
        r, s = timed(lambda: check(w, requirements_for("byzantine-weight", x)))
        rows.append((f"weighted 100 nodes, >2/3, faulty weight {x}", r.status, s, 1.0))
    table, s = timed(lambda: sweep(20))
    ok = all(r.n == 2 * r.f + 1 for r in table["crash"]) and all(r.n == 3 * r.f + 1 for r in table["byzantine"])
    rows.append(("sweep f=1..20 (crash, byzantine, masking, flexible)", "ok" if ok else "WRONG", s, 5.0))
    fb, s_load = timed(lambda: load_stellar(STELLAR))
    rows.append(("stellar: load 637 nodes", "ok", s_load, None))
    r, s = timed(lambda: check_requirement(fb, requirements_for("crash", 0)[0]))
    rows.append(("stellar: quorum intersection", r.status, s, 10.0))
    m, s = timed(lambda: smallest_splitting_set(fb))
    rows.append((f"stellar: smallest splitting set = {m.size} (proved: {m.lower_bound_proved})", m.status, s, None))
    if "--stellar-block" in sys.argv:
        m, s = timed(lambda: smallest_blocking_set(fb))
        rows.append((f"stellar: smallest blocking set = {m.size} (proved: {m.lower_bound_proved})", m.status, s, None))
    width = max(len(r[0]) for r in rows)
    print(f"{'case':<{width}}  {'answer':<9} {'seconds':>8}  target")
    for name, status, s, target in rows:
        mark = "" if target is None else (f"< {target:g} s " + ("ok" if s < target else "MISSED"))
        print(f"{name:<{width}}  {status:<9} {s:8.3f}  {mark}")


if __name__ == "__main__":
    main()
