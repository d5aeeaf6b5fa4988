"""The shrinker with and without its bounded breadth-first searches, on saved counterexamples.

Prints, per trace: steps and faults before, after shrinking without the searches
(``search_budget=0``: delta debugging, detours, deleted runs only) and with them
(the default budget), the seconds each took (fastest, median and slowest of
the rounds; the two run interleaved, alternating which goes first), and what the
searches established.  Not a test: timings depend on the machine, so the load
average is printed before and after.

    python benchmarks/bench_shrink.py [--rounds 3] [--only NAME]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

from consensuslab.commands.replay import replay_file
from consensuslab.traces.shrink import SEARCH_BUDGET, shrink

TRACES = Path(__file__).resolve().parent.parent / "tests" / "traces"
CASES = ("raft-figure8-simulated", "raft-figure8", "pbft-weak-quorum-dfs", "paxos-actors-minority-quorum-dfs",
         "two-phase-actors-coordinator-crash-dfs")


def load() -> str:
    return "load average " + ", ".join(f"{x:.2f}" for x in os.getloadavg()) + f" on {os.cpu_count()} cores"


def timed(done, budget: int):
    t0 = time.perf_counter()
    shrunk = shrink(done.model, done.trace, done.violation, budget)
    return time.perf_counter() - t0, shrunk


def spread(xs: list[float]) -> str:
    return f"{min(xs):.2f} ({statistics.median(xs):.2f}, max {max(xs):.2f})"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--only")
    args = ap.parse_args()
    print(f"# {load()}; search budget {SEARCH_BUDGET:,} states; {args.rounds} interleaved rounds")
    for name in CASES:
        if args.only and args.only != name:
            continue
        done = replay_file(str(TRACES / f"{name}.itf.json"))
        times: dict[int, list] = {0: [], SEARCH_BUDGET: []}
        results = {}
        for r in range(args.rounds):
            order = (0, SEARCH_BUDGET) if r % 2 == 0 else (SEARCH_BUDGET, 0)
            for budget in order:
                seconds, shrunk = timed(done, budget)
                times[budget].append(seconds)
                results[budget] = shrunk
        faults = lambda c: sum(c.values())  # noqa: E731
        plain, full = results[0], results[SEARCH_BUDGET]
        print(f"{name}: {len(done.trace)} steps, {faults(plain.before_faults)} faults")
        print(f"  without searches: {len(plain.trace)} steps, {faults(plain.after_faults)} faults, "
              f"s {spread(times[0])}")
        print(f"  with searches:    {len(full.trace)} steps, {faults(full.after_faults)} faults, "
              f"s {spread(times[SEARCH_BUDGET])}")
        for line in full.searched:
            print(f"    {line}")
    print(f"# {load()}")


if __name__ == "__main__":
    main()
