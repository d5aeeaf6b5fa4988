"""Issue 9's figures, side by side in one run: workers, symmetry, cluster, checkpoints, and SPIN.

    python benchmarks/bench_scale.py            # rm=8 set (a few minutes)
    python benchmarks/bench_scale.py --big      # adds rm=9 (10,340,352 states) for us and SPIN, rm=10 unreduced
    python benchmarks/bench_scale.py --only spin,sym
    python benchmarks/bench_scale.py --big --only spin,w1,w2 --repeat 3   # the SPIN and workers targets
    python benchmarks/bench_scale.py --big --only w1,w2 --repeat 9        # the 2-worker speed-up, 9 runs each
    python benchmarks/bench_scale.py --only raft --repeat 3   # raft 3 servers with and without --symmetry
    python benchmarks/bench_scale.py --baseline ../old --repeat 3   # every row also in an older checkout, interleaved

Every row is its own process, measured with ``os.wait4``: wall time, CPU
(user+sys, including forked workers that were waited for), the search's own
seconds as ``check --json`` reports them (no start-up), and peak RSS of the
largest process in the tree (not the sum: with --workers 2 add the workers').
With ``--repeat N`` the rows of one configuration run interleaved with the
others' (w1, w2, w1, w2, ...), so a slow spell of a shared machine falls on
both, in rounds that go forwards and backwards in turn, and each row shows
its fastest run and, beside it, the median.  The
speed-up of two workers over one is printed from those rows, for wall and
search time.

``--baseline DIR`` runs every consensuslab row a second time in the checkout
at DIR (``python -m consensuslab`` with DIR as the working directory, so its
package is the one imported), right after the row itself, for before/after
figures taken side by side on the same machine at the same time.

The load average is printed first and last, and a probe of the machine's
own two-core scaling (a random gather over 80 MB and a sort, on one thread
and then split over two): on a virtual machine whose two cores may share a
physical core, memory-bound work sometimes does not scale at all, and the
figures mean little without it.  Python's bytecode is compiled once first,
as a normal installation does on its first run (this machine's environment
sets PYTHONDONTWRITEBYTECODE, which would otherwise add about 0.1 s of
compiling to every row).  SPIN runs ``benchmarks/two_phase.pml`` (compiled
with -O2 -DSAFETY; compile time excluded) and is skipped with a message when
``spin`` or ``gcc`` is missing (Debian: apt-get install spin gcc).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
PY = sys.executable
TREE: str | None = None  # the checkout whose package ``run_py`` runs (``--baseline``); None: this one


def measure(cmd: list[str], cwd: str | None = None, env: dict | None = None) -> dict:
    """Run ``cmd``; wall, CPU and peak RSS of that child (and its waited-for descendants) via wait4."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.monotonic()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, cwd=cwd, env={**os.environ, **(env or {})}, text=True)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.monotonic() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return {"stdout": out.read(), "stderr": err.read(), "rc": proc.returncode, "wall": wall,
                "cpu": usage.ru_utime + usage.ru_stime, "rss_mb": usage.ru_maxrss / 1024}


def run_py(label: str, args: list[str], env: dict | None = None, tree: str | None = None) -> dict:
    m = measure([PY, "-m", "consensuslab", "check", *args, "--json", "--quiet"], env=env,
                cwd=tree or TREE or str(HERE.parent))
    try:
        doc = json.loads(m["stdout"])
        m["states"], m["status"], m["search"] = doc["distinct_states"], doc["status"], doc["seconds"]
    except (ValueError, KeyError):
        m["states"], m["status"] = None, f"error rc={m['rc']}: {m['stderr'].strip()[-200:]}"
    m["label"] = label
    return m


def run_spin(n: int) -> dict:
    if not (shutil.which("spin") and shutil.which("gcc")):
        return {"label": f"SPIN two-phase rm={n}", "status": "skipped: spin/gcc not installed "
                "(apt-get install spin gcc)", "states": None, "wall": 0, "cpu": 0, "rss_mb": 0}
    work = tempfile.mkdtemp(prefix="bench-spin-")
    subprocess.run(["spin", f"-DN={n}", "-a", str(HERE / "two_phase.pml")], cwd=work, check=True,
                   capture_output=True)
    subprocess.run(["gcc", "-O2", "-DSAFETY", "-DMEMLIM=16000", "-o", "pan", "pan.c"], cwd=work, check=True)
    m = measure(["./pan", "-m100000", f"-w{24 if n < 9 else 26}"], cwd=work)
    found = re.search(r"(\d+) states, stored", m["stdout"])
    errors = re.search(r"errors: (\d+)", m["stdout"])
    m["states"] = int(found.group(1)) if found else None
    m["status"] = "ok" if errors and errors.group(1) == "0" else "error"
    m["label"] = f"SPIN two-phase rm={n}"
    shutil.rmtree(work, ignore_errors=True)
    return m


CLUSTER_SNIPPET = """
import json, sys
from consensuslab.protocols.two_phase import TwoPhase
from consensuslab.checkers.scale.cluster import check_distributed
if __name__ == "__main__":
    r = check_distributed(TwoPhase({"rm": %d}).compile(), "local:2")
    print(json.dumps(r.to_json()))
"""


def run_cluster(n: int) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
        f.write(CLUSTER_SNIPPET % n)
    m = measure([PY, f.name], cwd=str(HERE.parent))
    os.unlink(f.name)
    try:
        doc = json.loads(m["stdout"].strip().splitlines()[-1])
        m["states"], m["status"] = doc["distinct_states"], doc["status"]
    except (ValueError, IndexError, KeyError):
        m["states"], m["status"] = None, f"error: {m['stderr'].strip()[-200:]}"
    m["label"] = f"two-phase rm={n} --cluster local:2 (stable fingerprints)"
    return m


PROBE = """
import numpy as np, time
from concurrent.futures import ThreadPoolExecutor
rng = np.random.default_rng(0)
table = rng.integers(0, 2**60, 10_000_000, dtype=np.uint64)
idx = rng.integers(0, len(table), 4_000_000)
keys = rng.integers(0, 2**60, 4_000_000, dtype=np.uint64)
pool = ThreadPoolExecutor(2)
def best(fn):
    return min((lambda t: (fn(), time.perf_counter() - t)[1])(time.perf_counter()) for _ in range(5))
for name, op, data in (("random gather over 80 MB", lambda a: table[a], idx), ("sort", np.sort, keys)):
    halves = (data[:len(data) // 2], data[len(data) // 2:])
    one = best(lambda: [op(h) for h in halves])
    two = best(lambda: list(pool.map(op, halves)))
    print(f"{name}: {one / two:.2f}x on two threads", end="; ")
"""


def probe() -> str:
    """The machine's own two-core scaling right now, on a memory-bound and a compute-bound kernel."""
    return subprocess.run([PY, "-c", PROBE], capture_output=True, text=True).stdout.strip().rstrip(";")


def plan(big: bool, ckdir: str) -> list:
    entries = [
        ("sym", lambda: run_py("two-phase rm=8 --symmetry", ["two-phase", "-p", "rm=8", "--symmetry"])),
        ("sym", lambda: run_py("two-phase rm=10 --symmetry", ["two-phase", "-p", "rm=10", "--symmetry"])),
        ("raft", lambda: run_py("raft servers=3 (unreduced)", ["raft", "-p", "servers=3"])),
        ("raft", lambda: run_py("raft servers=3 --symmetry (6 permutations)",
                                ["raft", "-p", "servers=3", "--symmetry"])),
        ("raft", lambda: run_py("raft figure8-bounds (unreduced)", ["raft", "--scenario", "figure8-bounds"])),
        ("raft", lambda: run_py("raft figure8-bounds --symmetry (s1<->s2 only)",
                                ["raft", "--scenario", "figure8-bounds", "--symmetry"])),
        ("ck", lambda: run_py("two-phase rm=6 (plain)", ["two-phase", "-p", "rm=6"])),
        ("ck", lambda: run_py("two-phase rm=6 --checkpoint (stable fingerprints)",
                              ["two-phase", "-p", "rm=6", "--checkpoint", ckdir])),
        ("cluster", lambda: run_cluster(6)),
        ("spin", lambda: run_spin(8)),
        ("w1", lambda: run_py("two-phase rm=8, 1 worker (compiled)", ["two-phase", "-p", "rm=8"])),
        ("w2", lambda: run_py("two-phase rm=8 --workers 2", ["two-phase", "-p", "rm=8", "--workers", "2"])),
        ("interp", lambda: run_py("two-phase rm=8 --engine interpreted",
                                  ["two-phase", "-p", "rm=8", "--engine", "interpreted"])),
    ]
    if big:
        entries += [
            ("spin", lambda: run_spin(9)),
            ("w1", lambda: run_py("two-phase rm=9, 1 worker (compiled)", ["two-phase", "-p", "rm=9"])),
            ("w2", lambda: run_py("two-phase rm=9 --workers 2", ["two-phase", "-p", "rm=9", "--workers", "2"])),
            ("sym", lambda: run_py("two-phase rm=9 --symmetry", ["two-phase", "-p", "rm=9", "--symmetry"])),
            ("sym", lambda: run_py("two-phase rm=10 (unreduced, compiled)", ["two-phase", "-p", "rm=10"])),
        ]
    return entries


def with_baseline(entries: list, baseline: str | None) -> list:
    """Each consensuslab row followed by the same row run in the ``baseline`` checkout."""
    if baseline is None:
        return entries
    out = []
    for tag, fn in entries:
        out.append((tag, fn))
        if fn.__code__.co_names and "run_py" in fn.__code__.co_names:
            out.append((tag, lambda fn=fn: _in_tree(fn, baseline)))
    return out


def _in_tree(fn, tree: str) -> dict:
    global TREE
    TREE = tree
    try:
        m = fn()
    finally:
        TREE = None
    m["label"] += " [baseline]"
    return m


def rows(big: bool, only: set[str] | None, repeat: int = 1, baseline: str | None = None) -> list[list[dict]]:
    """Every selected row's runs, the rows interleaved round by round.

    Rounds go forwards and backwards in turn, so that no row always runs right
    after the same other row: what a process leaves behind (SPIN's 913 MB
    freed, say) changes what the next one's page faults cost.
    """
    ckdir = tempfile.mkdtemp(prefix="bench-ck-")
    chosen = [fn for tag, fn in with_baseline(plan(big, ckdir), baseline) if only is None or tag in only]
    runs: list[list[dict]] = [[] for _ in chosen]
    for round_ in range(max(repeat, 1)):
        order = range(len(chosen)) if round_ % 2 == 0 else reversed(range(len(chosen)))
        for k in order:
            runs[k].append(chosen[k]())
    shutil.rmtree(ckdir, ignore_errors=True)
    return runs


def median(values: list[float]) -> float:
    values = sorted(values)
    mid = len(values) // 2
    return values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2


def speedups(table: list[list[dict]]) -> None:
    """Two workers against one, for each rm both were run with: fastest against fastest, median against median."""
    by_label = {r[0]["label"]: r for r in table}
    for n in (8, 9):
        one = by_label.get(f"two-phase rm={n}, 1 worker (compiled)")
        two = by_label.get(f"two-phase rm={n} --workers 2")
        if not one or not two or any(r.get("search") is None for r in one + two):
            continue
        for what in ("wall", "search"):
            a, b = [r[what] for r in one], [r[what] for r in two]
            print(f"rm={n} --workers 2 against 1, {what:6}: fastest {min(a) / min(b):.2f}x, "
                  f"median {median(a) / median(b):.2f}x  ({len(a)} runs each)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--big", action="store_true", help="add rm=9, and rm=10 unreduced (minutes, about 2 GB)")
    ap.add_argument("--only", help="comma-separated tags: sym,raft,ck,cluster,spin,w1,w2,interp")
    ap.add_argument("--baseline", metavar="DIR", help="also run every consensuslab row in the checkout at DIR")
    ap.add_argument("--repeat", type=int, default=1, metavar="N",
                    help="run each row N times, interleaved with the other rows; the table shows the fastest "
                         "run (other jobs on a shared machine only ever add time) and the median")
    args = ap.parse_args()
    only = set(args.only.split(",")) if args.only else None
    for tree in [HERE.parent] + ([Path(args.baseline)] if args.baseline else []):
        subprocess.run([PY, "-m", "compileall", "-q", str(tree / "consensuslab")], capture_output=True)
    print(f"load: {os.getloadavg()}  cores: {os.cpu_count()}")
    print(f"machine: {probe()}")
    table = rows(args.big, only, args.repeat, args.baseline)
    print(f"{'configuration':58} {'states':>12} {'wall s':>8} {'median':>7} {'cpu s':>6} {'search s':>8} "
          f"{'median':>7} {'peak MB':>8}  status")
    for runs in table:
        r = min(runs, key=lambda x: x["wall"])
        states = f"{r['states']:,}" if r.get("states") is not None else "-"
        searches = [x["search"] for x in runs if x.get("search") is not None]
        search = f"{min(searches):.2f}" if searches else "-"
        search_median = f"{median(searches):.2f}" if searches else "-"
        print(f"{r['label']:58} {states:>12} {r['wall']:8.2f} {median([x['wall'] for x in runs]):7.2f} "
              f"{r['cpu']:6.1f} {search:>8} {search_median:>7} {r['rss_mb']:8.0f}  {r['status']}", flush=True)
    speedups(table)
    print(f"machine: {probe()}")
    print(f"load: {os.getloadavg()}")


if __name__ == "__main__":
    main()
