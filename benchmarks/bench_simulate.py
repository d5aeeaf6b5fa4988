"""simulate on every broken configuration of every protocol present, with default settings.

Broken configurations are the scenarios expected to end in a violation or
deadlock, plus each variant that no such scenario covers (run with default
parameters).

Prints, per variant: status, property, examples to first failure, unshrunk and
shrunk trace lengths, seconds to first failure and in total.  The issue asks
that each be found within 60 s.  Not a test (timings depend on the machine).

    python benchmarks/bench_simulate.py [--seed N] [--only NAME] [--hypothesis-shrink]
"""

from __future__ import annotations

import argparse
import time

from consensuslab.checkers.stateful import simulate
from consensuslab.protocols import available, protocol_class


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--only")
    ap.add_argument("--hypothesis-shrink", action="store_true")
    args = ap.parse_args()
    print(f"{'protocol':<26}{'variant/scenario':<34}{'status':<10}{'property':<26}{'ex':>5}{'raw':>5}{'shrunk':>7}"
          f"{'t_find':>8}{'t_total':>8}")
    for name in available():
        if args.only and name != args.only:
            continue
        cls = protocol_class(name)
        cases = [(s.name, s.variant) for s in cls.scenarios if s.expect in ("violation", "deadlock")]
        covered = {v for _, v in cases}
        cases += [(None, v) for v in sorted(cls.variants) if v not in covered]
        for scenario, variant in cases:
            model = cls.configure({}, variant, scenario).compile()
            label = f"{variant or '-'}/{scenario or '-'}"
            t0 = time.monotonic()
            r = simulate(model, seed=args.seed, hypothesis_shrink=args.hypothesis_shrink)
            total = time.monotonic() - t0
            x = r.extra
            prop = r.violation.property if r.violation else "-"
            shrunk = len(r.violation.trace) if r.violation else "-"
            print(f"{name:<26}{label:<34}{r.status:<10}{prop:<26}{str(x['examples_to_failure'] or '-'):>5}"
                  f"{str(x['unshrunk_length'] or '-'):>5}{shrunk:>7}{str(x['seconds_to_failure'] or '-'):>8}"
                  f"{total:>8.1f}", flush=True)


if __name__ == "__main__":
    main()
