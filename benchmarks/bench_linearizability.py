"""Throughput of the linearizability checker on simulated client histories.

    python benchmarks/bench_linearizability.py [--seed N] [--values N] [--write DIR]

``simulate`` runs clients against one atomic register (or one per key): each operation
takes effect at a random instant inside its [invoke, complete] interval, so the history is
linearizable by construction. ``inject_stale_read`` then makes one late read return a value
that every possible writer had provably overwritten before the read began, so the result is
certainly not linearizable. Targets (issue 10): 1,000 register ops over 5 processes < 1 s;
10,000 kv ops over 10 keys < 5 s; the violating variants, witness included, in the same time.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from pathlib import Path

from consensuslab.histories.history import parse_history
from consensuslab.histories.linearizability import check


def simulate(n_ops: int, processes: int, *, keys: int = 0, values: int = 5, cas: bool = False,
             info_rate: float = 0.002, seed: int = 0) -> list[dict]:
    """A Jepsen-style event list; ``keys=0`` means a single register without ``key`` fields."""
    rng = random.Random(seed)
    ready = [rng.random() for _ in range(processes)]  # when each client thread is next free
    names = list(range(processes))                    # Jepsen gives a thread a new process after info
    ops = []
    for _ in range(n_ops):
        thread = min(range(processes), key=ready.__getitem__)
        start = ready[thread]
        length = rng.expovariate(1.0)
        f = rng.choice(("read", "write", "cas") if cas else ("read", "write"))
        value = [rng.randrange(values), rng.randrange(values)] if f == "cas" else rng.randrange(values)
        op = {"process": names[thread], "f": f, "value": None if f == "read" else value,
              "start": start, "at": start + rng.random() * length, "end": start + length,
              "info": rng.random() < info_rate}
        if keys:
            op["key"] = rng.randrange(keys)
        ops.append(op)
        if op["info"]:
            names[thread] += processes
        ready[thread] = start + length + rng.expovariate(4.0)
    state: dict = {}
    for op in sorted(ops, key=lambda o: o["at"]):   # the real, atomic register
        if op["info"] and rng.random() < 0.5:
            op["type"] = "info"                       # crashed before taking effect
            continue
        key = op.get("key")
        current = state.get(key)
        op["type"] = "info" if op["info"] else "ok"
        if op["f"] == "read":
            op["result"] = current
        elif op["f"] == "write":
            state[key] = op["value"]
        elif current == op["value"][0]:
            state[key] = op["value"][1]
        elif not op["info"]:
            op["type"] = "fail"
    timeline = []
    for op in ops:
        base = {"process": op["process"], "f": op["f"]} | ({"key": op["key"]} if keys else {})
        timeline.append((op["start"], base | {"type": "invoke", "value": op["value"]}))
        done = op["result"] if op["f"] == "read" and op["type"] == "ok" else op["value"]
        timeline.append((op["end"], base | {"type": op["type"], "value": done}))
    return [event for _, event in sorted(timeline, key=lambda te: te[0])]


def inject_stale_read(events: list[dict], seed: int = 0) -> tuple[list[dict], int]:
    """Make one late ok read return a dead value; returns the new history and that event's index.

    A value v is dead at time t if every op that could have produced it completed ok and
    was followed, before t, by an ok write or cas of another value that began after it ended
    (so in every linearization it was overwritten, and nothing could write v again).
    """
    rng = random.Random(seed)
    ops, open_ = [], {}
    for i, e in enumerate(events):
        if e["type"] == "invoke":
            open_[e["process"]] = len(ops)
            ops.append({"invoke": i, "complete": None, **e})
        else:
            op = ops[open_.pop(e["process"])]
            op.update(complete=i, type=e["type"], result=e["value"])
    reads = [op for op in ops if op["f"] == "read" and op["type"] == "ok"]
    for read in rng.sample(reads[len(reads) * 3 // 4:], len(reads) // 4):
        same = [op for op in ops if op.get("key") == read.get("key") and op["f"] != "read"]
        writes = [op for op in same if op["type"] == "ok" and op["complete"] < read["invoke"]]
        for v in sorted({_produces(op) for op in writes} - {read["result"], None}, key=repr):
            producers = [op for op in same if op["type"] != "fail" and _produces(op) == v
                         and op["invoke"] < read["complete"]]
            if all(op["type"] == "ok" and _killed(op, writes, v) for op in producers):
                out = [dict(e) for e in events]
                out[read["complete"]]["value"] = v
                return out, read["complete"]
    raise ValueError("no read can be made stale in this history")


def _produces(op: dict):
    return op["value"] if op["f"] == "write" else op["value"][1]


def _killed(producer: dict, writes: list[dict], v) -> bool:
    return any(w["invoke"] > producer["complete"] and _produces(w) != v for w in writes)


def measure(label: str, events: list[dict], model: str) -> None:
    started = time.perf_counter()
    ops = parse_history(events, model)
    verdict = check(ops, model)
    seconds = time.perf_counter() - started  # parsing included, as the CLI would spend it
    ops = len(ops)
    detail = "linearizable" if verdict.linearizable else (
        f"violation at event {verdict.prefix_events}, witness {len(verdict.witness)} ops "
        f"({'minimal' if verdict.witness_minimal else 'NOT minimal'}, {verdict.witness_seconds:.3f} s)")
    print(f"{label:<40} {ops:>6} ops {seconds:7.3f} s  {detail}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--values", type=int, default=5, help="distinct values written (Jepsen uses 5)")
    parser.add_argument("--write", type=Path, metavar="DIR", help="also save the histories as JSON files")
    args = parser.parse_args()
    s, v = args.seed, args.values
    register = simulate(1000, 5, values=v, seed=s)
    cas = simulate(1000, 5, values=v, cas=True, seed=s)
    kv = simulate(10_000, 10, keys=10, values=v, cas=True, seed=s)
    cases = [("register", "register, 5 processes", register),
             ("register", "register + stale read", inject_stale_read(register, s)[0]),
             ("cas-register", "cas-register, 5 processes", cas),
             ("cas-register", "cas-register + stale read", inject_stale_read(cas, s)[0]),
             ("kv", "kv, 10 keys, 10 processes", kv),
             ("kv", "kv + stale read", inject_stale_read(kv, s)[0])]
    for model, label, events in cases:
        measure(label, events, model)
        if args.write:
            args.write.mkdir(parents=True, exist_ok=True)
            name = label.split(",")[0].replace(" + ", "-").replace(" ", "-") + ".json"
            (args.write / name).write_text(json.dumps(events))


if __name__ == "__main__":
    main()
