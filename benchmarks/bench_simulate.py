"""simulate on every broken configuration of every protocol present, with default settings.

Broken configurations are the scenarios expected to end in a violation or
deadlock, plus each variant that no such scenario covers (run with default
parameters).

Prints, per variant and seed: status, property, which phase found it (a random
walk or Hypothesis), examples to first failure, unshrunk and shrunk trace
lengths, seconds to first failure and in total.  The issue asks that each be
found within 60 s.  Not a test (timings depend on the machine): the load
average is printed before and after, since other jobs slow every figure down.

    python benchmarks/bench_simulate.py [--seeds 0,1,2] [--only NAME] [--hypothesis-shrink]
                                        [--walks N] [--examples N] [--steps N]

``--walks 0 --examples 1000 --steps 50`` is the search as it was before random
walks came first (Hypothesis alone).
"""

from __future__ import annotations

import argparse
import os
import time

from consensuslab.checkers.simulation.defaults import DEFAULT_EXAMPLES, DEFAULT_STEPS, DEFAULT_WALKS
from consensuslab.checkers.simulation.simulate import simulate
from consensuslab.protocols import available, protocol_class


def load() -> str:
    return "load average " + ", ".join(f"{x:.2f}" for x in os.getloadavg()) + f" on {os.cpu_count()} cores"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", default="0", help="comma-separated seeds (default 0)")
    ap.add_argument("--only", help="one protocol")
    ap.add_argument("--hypothesis-shrink", action="store_true")
    ap.add_argument("--walks", type=int, default=DEFAULT_WALKS)
    ap.add_argument("--examples", type=int, default=DEFAULT_EXAMPLES)
    ap.add_argument("--steps", type=int, default=DEFAULT_STEPS)
    args = ap.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    print(f"# walks={args.walks} examples={args.examples} steps={args.steps}; {load()}")
    print(f"{'protocol':<26}{'variant/scenario':<38}{'seed':>4} {'status':<10}{'property':<28}{'by':<6}{'ex':>7}"
          f"{'raw':>5}{'shrunk':>7}{'t_find':>8}{'t_total':>8}")
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
            for seed in seeds:
                t0 = time.monotonic()
                r = simulate(model, examples=args.examples, steps=args.steps, seed=seed, walks=args.walks,
                             hypothesis_shrink=args.hypothesis_shrink)
                total = time.monotonic() - t0
                x = r.extra
                prop = r.violation.property if r.violation else "-"
                shrunk = len(r.violation.trace) if r.violation else "-"
                by = {"walk": "walk", "hypothesis": "hyp"}.get(x["found_by"], "-")
                found_at = "-" if x["seconds_to_failure"] is None else x["seconds_to_failure"]
                print(f"{name:<26}{label:<38}{seed:>4} {r.status:<10}{prop:<28}{by:<6}"
                      f"{str(x['examples_to_failure'] or '-'):>7}{str(x['unshrunk_length'] or '-'):>5}{shrunk:>7}"
                      f"{found_at:>8}{total:>8.1f}", flush=True)
    print(f"# {load()}")


if __name__ == "__main__":
    main()
