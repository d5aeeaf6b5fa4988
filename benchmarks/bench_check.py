"""Throughput of the exhaustive checker: distinct states/s and peak memory.

Each case runs ``consensuslab check ... --json`` in a fresh process (so peak
RSS is the whole run's, as a user sees it) and prints a table.

    python benchmarks/bench_check.py            # two-phase rm=5..7, two-phase-actors rm=5
    python benchmarks/bench_check.py --rm 8     # also rm=8 (1,745,408 states)
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time


def run(args: list[str]) -> tuple[dict, float, float]:
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "consensuslab", "check", *args, "--json", "--quiet"],
                          capture_output=True, text=True)
    wall = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return json.loads(proc.stdout), wall, peak_mb


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rm", type=int, default=7, help="largest rm for two-phase")
    opts = parser.parse_args()
    cases = [["two-phase", "-p", f"rm={rm}"] for rm in range(5, opts.rm + 1)]
    cases.append(["two-phase-actors", "-p", "rm=5"])
    print(f"{'case':<32}{'status':>8}{'states':>12}{'seconds':>9}{'states/s':>11}{'peak MB':>9}")
    for case in cases:
        out, wall, peak = run(case)
        print(f"{' '.join(case):<32}{out['status']:>8}{out['distinct_states']:>12,}{out['seconds']:>9.2f}"
              f"{out['states_per_second']:>11,.0f}{peak:>9.0f}")


if __name__ == "__main__":
    main()
