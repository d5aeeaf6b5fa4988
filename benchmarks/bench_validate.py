"""Trace validation's cost against log size, and what the canonical order saves.

Logs: the recorded PySyncObj runs (tests/data/pysyncobj) and, with ``--runs DIR``, the runs of
``consensuslab pysyncobj run --dir DIR``; and logs exported from random behaviours of bundled models
(``export-log``), from hundreds to tens of thousands of events, some needing faults.  Every row runs
interleaved with the others, ``--repeat`` rounds (forwards and backwards in turn); the fastest time is
printed with the median and the slowest.  ``--orders`` adds, for the small logs, the canonical order and
every order (``--order canonical|all``) beside the clock order.  Not a test: timings depend on
the machine, so its load average is printed before and after.

    python benchmarks/bench_validate.py [--repeat 5] [--runs pysyncobj-runs] [--orders]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from consensuslab.checkers.validation.export import export_trace, random_behaviour
from consensuslab.checkers.validation.search import validate
from consensuslab.logs.read import read_log
from consensuslab.logs.write import write_per_node
from consensuslab.protocols import configure
from consensuslab.realcode.pysyncobj.mapping import PySyncObjMapping

ROOT = Path(__file__).resolve().parent.parent
EXPORTED = [  # (label, protocol, params, scenario, steps, seed)
    ("two-phase-actors, 1,000 steps", "two-phase-actors", {}, None, 1000, 0),
    ("two-phase-actors, 10,000 steps", "two-phase-actors", {}, None, 10000, 0),
    ("two-phase-actors, 30,000 steps", "two-phase-actors", {}, None, 30000, 0),
    ("paxos-actors lossy, 40 steps", "paxos-actors", {}, "lossy", 40, 0),
    ("raft bounded bag, 200 steps", "raft", {"max_messages": 3, "max_copies": 2, "max_restarts": 1,
                                             "max_log": 2}, None, 200, 1),
]


def load() -> str:
    return "load average " + ", ".join(f"{x:.2f}" for x in os.getloadavg()) + f" on {os.cpu_count()} cores"


def exported(tmp: str, label, protocol, params, scenario, steps, seed):
    model = configure(protocol, params, None, scenario).compile()
    folder = os.path.join(tmp, label.replace(" ", "_").replace(",", ""))
    write_per_node(folder, export_trace(model, random_behaviour(model, steps, seed, fault_rate=0.2)))
    return label, model, read_log([folder]), None


def pysyncobj(label: str, folder: Path):
    mapping = PySyncObjMapping()
    return label, configure("raft", mapping.params).compile(), read_log([str(folder)]), mapping


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--runs", help="a directory of `consensuslab pysyncobj run` runs to add")
    ap.add_argument("--orders", action="store_true", help="also --all-orders on the small logs")
    args = ap.parse_args()
    print(load())
    with tempfile.TemporaryDirectory() as tmp:
        rows = [pysyncobj(f"PySyncObj {name} (recorded)", ROOT / "tests" / "data" / "pysyncobj" / name)
                for name in ("kill-leader", "snapshot")]
        if args.runs:
            rows += [pysyncobj(f"PySyncObj {p.name}", p) for p in sorted(Path(args.runs).iterdir()) if p.is_dir()]
        rows += [exported(tmp, *row) for row in EXPORTED]
        cases = [(label, model, log, mapping, "auto") for label, model, log, mapping in rows]
        if args.orders:
            cases += [(f"{label}, {order} order", model, log, mapping, order) for label, model, log, mapping in rows
                      for order in ("canonical", "all") if len(log) <= 2000]
        times: dict[str, list[float]] = {c[0]: [] for c in cases}
        results = {}
        for round_ in range(args.repeat):
            for label, model, log, mapping, order in (cases if round_ % 2 == 0 else cases[::-1]):
                started = time.perf_counter()
                result = validate(model, log, mapping, order=order, time_limit=600)
                times[label].append(time.perf_counter() - started)
                results[label] = (len(log), result)
    print("| log | events | verdict | faults it needed | search nodes | seconds: fastest (median, slowest) |")
    print("| --- | ---: | --- | --- | ---: | ---: |")
    for label, spent in times.items():
        events, r = results[label]
        faults = ", ".join(f"{n} {k}" for k, n in sorted(r.faults.items())) or "none"
        if r.logged_faults:
            faults += "; logged " + ", ".join(f"{n} {k}" for k, n in sorted(r.logged_faults.items()))
        print(f"| {label} | {events:,} | {r.status} | {faults} | {r.search_nodes:,} | "
              f"{min(spent):.3f} ({statistics.median(spent):.3f}, {max(spent):.3f}) |")
    print(load())


if __name__ == "__main__":
    main()
