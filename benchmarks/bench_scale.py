"""Issue 9's figures, side by side in one run: workers, symmetry, cluster, checkpoints, and SPIN.

    python benchmarks/bench_scale.py            # rm=8 set (a few minutes)
    python benchmarks/bench_scale.py --big      # adds rm=9 (10,340,352 states) for us and SPIN
    python benchmarks/bench_scale.py --only spin,sym
    python benchmarks/bench_scale.py --big --only spin,w1,w2 --repeat 3   # the SPIN and workers targets
    python benchmarks/bench_scale.py --only raft --repeat 3   # raft 3 servers with and without --symmetry

Every row is its own process, measured with ``os.wait4``: wall time, CPU
(user+sys, including forked workers that were waited for), the search's own
seconds as ``check --json`` reports them (no start-up), and peak RSS of the
largest process in the tree (not the sum: with --workers 2 add the workers').
The load average is printed first and last: on a shared machine wall times
mean little without it.  SPIN runs ``benchmarks/two_phase.pml`` (compiled with
-O2 -DSAFETY; compile time excluded) and is skipped with a message when
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


def run_py(label: str, args: list[str], env: dict | None = None) -> dict:
    m = measure([PY, "-m", "consensuslab", "check", *args, "--json", "--quiet"], env=env)
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
from consensuslab.checkers.distributed import check_distributed
if __name__ == "__main__":
    r = check_distributed(TwoPhase({"rm": %d}).compile(), "local:2", fingerprint=sys.argv[1])
    print(json.dumps(r.to_json()))
"""


def run_cluster(n: int, fingerprint: str) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
        f.write(CLUSTER_SNIPPET % n)
    m = measure([PY, f.name, fingerprint])
    os.unlink(f.name)
    try:
        doc = json.loads(m["stdout"].strip().splitlines()[-1])
        m["states"], m["status"] = doc["distinct_states"], doc["status"]
    except (ValueError, IndexError, KeyError):
        m["states"], m["status"] = None, f"error: {m['stderr'].strip()[-200:]}"
    m["label"] = f"two-phase rm={n} --cluster local:2 (fingerprint={fingerprint})"
    return m


def rows(big: bool, only: set[str] | None, repeat: int = 1):
    def want(tag):
        return only is None or tag in only
    ckdir = tempfile.mkdtemp(prefix="bench-ck-")
    plan = [
        ("sym", lambda: run_py("two-phase rm=8 --symmetry", ["two-phase", "-p", "rm=8", "--symmetry"])),
        ("sym", lambda: run_py("two-phase rm=10 --symmetry", ["two-phase", "-p", "rm=10", "--symmetry"])),
        ("raft", lambda: run_py("raft servers=3 (unreduced)", ["raft", "-p", "servers=3"])),
        ("raft", lambda: run_py("raft servers=3 --symmetry (6 permutations)",
                                ["raft", "-p", "servers=3", "--symmetry"])),
        ("raft", lambda: run_py("raft figure8-bounds (unreduced)", ["raft", "--scenario", "figure8-bounds"])),
        ("raft", lambda: run_py("raft figure8-bounds --symmetry (s1<->s2 only)",
                                ["raft", "--scenario", "figure8-bounds", "--symmetry"])),
        ("ck", lambda: run_py("two-phase rm=6 (plain, hash() fingerprints)", ["two-phase", "-p", "rm=6"])),
        ("ck", lambda: run_py("two-phase rm=6 --checkpoint (stable fingerprints)",
                              ["two-phase", "-p", "rm=6", "--checkpoint", ckdir])),
        ("cluster", lambda: run_cluster(6, "stable")),
        ("cluster", lambda: run_cluster(6, "hash")),
        ("spin", lambda: run_spin(8)),
        ("w1", lambda: run_py("two-phase rm=8, 1 worker (compiled)", ["two-phase", "-p", "rm=8"])),
        ("w2", lambda: run_py("two-phase rm=8 --workers 2", ["two-phase", "-p", "rm=8", "--workers", "2"])),
        ("interp", lambda: run_py("two-phase rm=8 --engine interpreted",
                                  ["two-phase", "-p", "rm=8", "--engine", "interpreted"])),
    ]
    if big:
        plan += [
            ("spin", lambda: run_spin(9)),
            ("w1", lambda: run_py("two-phase rm=9, 1 worker (compiled)", ["two-phase", "-p", "rm=9"])),
            ("w2", lambda: run_py("two-phase rm=9 --workers 2", ["two-phase", "-p", "rm=9", "--workers", "2"])),
            ("sym", lambda: run_py("two-phase rm=9 --symmetry", ["two-phase", "-p", "rm=9", "--symmetry"])),
        ]
    for tag, fn in plan:
        if want(tag):
            yield min((fn() for _ in range(max(repeat, 1))), key=lambda r: r["wall"])
    shutil.rmtree(ckdir, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--big", action="store_true", help="add rm=9 (minutes, ~2-3 GB)")
    ap.add_argument("--only", help="comma-separated tags: sym,raft,ck,cluster,spin,w1,w2,interp")
    ap.add_argument("--repeat", type=int, default=1, metavar="N",
                    help="run each row N times and keep the fastest (wall) run: other jobs on a shared "
                         "machine only ever add time")
    args = ap.parse_args()
    only = set(args.only.split(",")) if args.only else None
    print(f"load: {os.getloadavg()}  cores: {os.cpu_count()}")
    print(f"{'configuration':58} {'states':>12} {'wall s':>8} {'cpu s':>8} {'search s':>8} {'peak MB':>8}  status")
    for r in rows(args.big, only, args.repeat):
        states = f"{r['states']:,}" if r.get("states") is not None else "-"
        search = f"{r['search']:.2f}" if r.get("search") is not None else "-"
        print(f"{r['label']:58} {states:>12} {r['wall']:8.1f} {r['cpu']:8.1f} {search:>8} {r['rss_mb']:8.0f}"
              f"  {r['status']}", flush=True)
    print(f"load: {os.getloadavg()}")


if __name__ == "__main__":
    main()
