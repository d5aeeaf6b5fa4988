"""How well every long-running verb keeps its limits: seconds past ``--time-limit``, peak memory against
``--memory-limit``.

Each workload would run far longer (or grow far larger) than the limit without it.  The verbs run
as users run them (``python -m consensuslab ...`` in a subprocess); wall time and peak resident
memory are those of the process (``os.wait4``), so they include starting Python, which the
``startup`` row measures alone (``consensuslab list``).  Rounds run interleaved; the table gives
the median and the range over rounds.

    python benchmarks/bench_limits.py                      # every row, 3 rounds, 3 s and 300 MB
    python benchmarks/bench_limits.py --only check,quorum --rounds 5 --time-limit 5 --memory-limit 500

``--memory-limit MB`` is what a run may use on top of the program itself (the interpreter with
numpy, Z3 and the libraries: ``limits.PROGRAM``, 160 MB), so the column "cap" is MB + 160.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROGRAM_MB = 160

USER_WIDE = '''
from typing import NamedTuple
from consensuslab import Spec, action, always

class S(NamedTuple):
    n: int

class Wide(Spec):
    name = "wide"

    def init(self):
        yield S(0)

    @action(k=tuple(range(3000)))
    def Inc(self, s, k):
        if s.n < 100000:
            return S(s.n + 1 + k % 7)

    @always
    def fine(self, s):
        return True

    def done(self, s):
        return True
'''

USER_LOOP = USER_WIDE.replace("@action(k=tuple(range(3000)))\n    def Inc(self, s, k):\n",
                              "@action(k=(0, 1))\n    def Inc(self, s, k):\n        while s.n > 500:\n"
                              "            pass\n")


def workloads(tmp: Path) -> dict[str, list[str]]:
    """name -> arguments; each runs past any limit used here."""
    wide, loop = tmp / "wide.py", tmp / "loop.py"
    wide.write_text(USER_WIDE)
    loop.write_text(USER_LOOP)
    history = _history(tmp / "history.json")
    network = _network(tmp / "network.json")
    trace = tmp / "figure8.itf.json"
    subprocess.run(_cmd("simulate", "raft", "--scenario", "figure8", "--seed", "1", "--trace-out", trace, "--quiet"),
                   capture_output=True, check=False, env=_env())
    return {
        "check (compiled)": ["check", "two-phase", "-p", "rm=10", "--json"],
        "check (interpreted)": ["check", "two-phase", "-p", "rm=9", "--engine", "interpreted", "--json"],
        "check --workers 2": ["check", "paxos-actors", "-p", "acceptors=4", "--workers", "2", "--json"],
        "check --swarm": ["check", "raft", "-p", "servers=5", "--swarm", "64", "--json"],
        "check --checkpoint": ["check", "raft", "-p", "values=2", "--checkpoint", str(tmp / "ck"), "--json"],
        "check --symmetry": ["check", "raft", "-p", "servers=4", "--symmetry", "--json"],
        "check (wide user model)": ["check", str(wide), "--engine", "interpreted", "--json"],
        "check (handler loops)": ["check", str(loop), "--json"],
        "simulate": ["simulate", "raft", "-p", "servers=5", "--walks", "0", "--examples", "1000000", "--json"],
        "linearizable": ["linearizable", str(history), "--model", "register", "--json"],
        "quorum block (300 nodes)": ["quorum", "block", "--system", "fbas", "--file", str(network)],
        "quorum sweep": ["quorum", "sweep", "--max-f", "1000"],
        "trace minimize": ["trace", "minimize", str(trace), "--quiet"],
        "diff": ["diff", "two-phase", "-p", "rm=9", "--variant", "none", "--variant", "no-wait", "--json"],
        "nakamoto race": ["nakamoto", "race", "--q", "0.3", "--z", "0..40", "--simulate", "1000000"],
        "check --cluster local:2": ["check", "two-phase", "-p", "rm=9", "--cluster", "local:2", "--json"],
    }


#: the rows whose limit is per item, and what they report per item
PER_ITEM = {
    "mutate (per mutant)": ["mutate", "paxos", "--json"],
    "check-all (per scenario)": ["check-all", "--protocol", "raft", "--scenario", "figure8-bounds", "--json"],
}

#: rows that can grow past a memory cap, with the arguments that make them
MEMORY = {
    "check (compiled)": ["check", "two-phase", "-p", "rm=10", "--json"],
    "check (interpreted)": ["check", "two-phase", "-p", "rm=9", "--engine", "interpreted", "--json"],
    "check --workers 2": ["check", "paxos-actors", "-p", "acceptors=4", "--workers", "2", "--json"],
    "simulate": ["simulate", "raft", "-p", "servers=5", "--walks", "100000000", "--walk-states", "100000000",
                 "--json"],
    "linearizable": None,  # filled with the history's path
    "diff": ["diff", "two-phase", "-p", "rm=9", "--variant", "none", "--variant", "no-wait", "--json"],
}


def _env() -> dict:
    return {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}


def _cmd(*args) -> list[str]:
    return [sys.executable, "-m", "consensuslab", *map(str, args)]


def run(args: list[str], timeout: float = 900) -> tuple[float, float, int, str]:
    """(wall seconds, peak RSS MB of the process and its children, exit code, stdout)."""
    started = time.monotonic()
    with tempfile.TemporaryFile("w+") as out:
        proc = subprocess.Popen(_cmd(*args), stdout=out, stderr=subprocess.DEVNULL, env=_env())
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        except KeyboardInterrupt:
            proc.kill()
            raise
        wall = time.monotonic() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        return wall, usage.ru_maxrss / 1024, proc.returncode, out.read()


def _history(path: Path, ops: int = 1000, processes: int = 50) -> Path:
    rng = random.Random(1)
    timeline, val = [], 0
    for i in range(ops):
        start = i + rng.random()
        effect = start + rng.random() * processes * 0.8
        timeline += [(start, 0, i), (effect, 1, i), (effect + rng.random() * processes * 0.8, 2, i)]
    timeline.sort()
    events, ops_, busy, reg = [], {}, {}, None
    for _, kind, i in timeline:
        p = i % processes
        if kind == 0:
            if p in busy:
                continue
            val += 1
            busy[p] = i
            ops_[i] = {"f": rng.choice(["read", "write", "write"]), "v": val}
            events.append({"process": p, "type": "invoke", "f": ops_[i]["f"],
                           "value": val if ops_[i]["f"] == "write" else None})
        elif i in ops_ and kind == 1:
            if ops_[i]["f"] == "write":
                reg = ops_[i]["v"]
            else:
                ops_[i]["read"] = reg
        elif i in ops_:
            del busy[p]
            op = ops_.pop(i)
            events.append({"process": p, "type": "info" if rng.random() < 0.3 else "ok", "f": op["f"],
                           "value": op.get("read") if op["f"] == "read" else op["v"]})
    path.write_text(json.dumps(events))
    return path


def _network(path: Path, nodes: int = 300) -> Path:
    rng = random.Random(3)
    keys = [f"N{i}" for i in range(nodes)]
    path.write_text(json.dumps([{"publicKey": k, "quorumSet": {
        "threshold": 18, "validators": rng.sample(keys, 25),
        "innerQuorumSets": [{"threshold": 2, "validators": rng.sample(keys, 3)} for _ in range(3)]}}
        for k in keys]))
    return path


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} [{min(values):.2f}, {max(values):.2f}]"


def time_rows(rows: dict, limit: float, rounds: int) -> None:
    print(f"\n## --time-limit {limit:g}: seconds past the limit (median [min, max] of {rounds} rounds)\n")
    print("| command | wall s | past the limit s | past it, startup deducted s | exit codes |")
    print("| --- | ---: | ---: | ---: | --- |")
    startup = [run(["list"])[0] for _ in range(rounds)]
    walls: dict[str, list] = {name: [] for name in rows}
    codes: dict[str, set] = {name: set() for name in rows}
    for _ in range(rounds):
        for name, args in rows.items():
            wall, _, code, _ = run(args + ["--time-limit", str(limit)])
            walls[name].append(wall)
            codes[name].add(code)
    base = statistics.median(startup)
    print(f"| startup (`consensuslab list`) | {spread(startup)} | | | |")
    for name, w in walls.items():
        print(f"| {name} | {spread(w)} | {spread([x - limit for x in w])} | {spread([x - limit - base for x in w])} "
              f"| {', '.join(map(str, sorted(codes[name])))} |")


def per_item_rows(limit: float) -> None:
    print(f"\n## --time-limit {limit:g} per item: the slowest item's seconds past the limit\n")
    print("| command | items | slowest item s | past the limit s | exit code |")
    print("| --- | ---: | ---: | ---: | --- |")
    for name, args in PER_ITEM.items():
        _, _, code, out = run(args + ["--time-limit", str(limit)])
        data = json.loads(out) if out.strip().startswith("{") else {}
        items = data.get("mutants") or data.get("scenarios") or []
        slowest = max((it.get("seconds", 0) for it in items), default=float("nan"))
        print(f"| {name} | {len(items)} | {slowest:.2f} | {slowest - limit:.2f} | {code} |")


def memory_rows(rows: dict, limit: int, rounds: int) -> None:
    cap = limit + PROGRAM_MB
    print(f"\n## --memory-limit {limit}: peak resident MB against the cap ({limit} + {PROGRAM_MB} for the "
          f"program = {cap} MB; median [min, max] of {rounds} rounds)\n")
    print("| command | peak RSS MB | share of the cap | wall s | stopped by | exit codes |")
    print("| --- | ---: | ---: | ---: | --- | --- |")
    for name, args in rows.items():
        peaks, walls, codes, stops = [], [], set(), set()
        for _ in range(rounds):
            wall, peak, code, out = run(args + ["--memory-limit", str(limit)])
            peaks.append(peak)
            walls.append(wall)
            codes.add(code)
            try:
                data = json.loads(out)
                stops.add(str(data.get("stopped_by") or data.get("status")))
            except ValueError:
                stops.add(out.strip().splitlines()[0][:40] if out.strip() else "-")
        print(f"| {name} | {spread(peaks)} | {max(peaks) / cap:.0%} | {spread(walls)} | {', '.join(sorted(stops))} "
              f"| {', '.join(map(str, sorted(codes)))} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--time-limit", type=float, default=3.0)
    ap.add_argument("--memory-limit", type=int, default=300)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--only", help="comma-separated substrings of row names")
    ap.add_argument("--skip", choices=("time", "memory", "items"), action="append", default=[])
    a = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-limits-") as tmp:
        rows = workloads(Path(tmp))
        memory = {k: (v if v is not None else rows["linearizable"]) for k, v in MEMORY.items()}
        if a.only:
            keep = [s.strip() for s in a.only.split(",")]
            rows = {k: v for k, v in rows.items() if any(s in k for s in keep)}
            memory = {k: v for k, v in memory.items() if any(s in k for s in keep)}
        print(f"# bench_limits: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start")
        if "time" not in a.skip:
            time_rows(rows, a.time_limit, a.rounds)
        if "items" not in a.skip and not a.only:
            per_item_rows(a.time_limit)
        if "memory" not in a.skip:
            memory_rows(memory, a.memory_limit, a.rounds)
        print(f"\nload average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
