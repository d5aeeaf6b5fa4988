"""The README's CI commands on the bundled protocols: wall time and peak memory of the whole process tree.

    python benchmarks/bench_ci.py [--repeat 3] [--only check-all,check-all-j2,pytest,pytest-n2]

Each command runs in a fresh empty folder (so the result cache starts empty,
and ``pytest`` collects nothing but the scenarios), then once more in the same
folder (the cache's second run).  Memory is the largest sum, over samples
taken every 0.1 s, of the resident memory of the command and all of its
descendants (forked scenario processes count while they live; pages they
share with their parent count twice, so this is an upper bound).  The rows
run interleaved, forwards and backwards in turn; the table gives the median
with the fastest and slowest run in brackets.  Linux only (reads /proc).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024
COMMANDS = {
    "check-all": [sys.executable, "-m", "consensuslab", "check-all", "--junit", "report.xml", "--traces", "traces"],
    "check-all-j2": [sys.executable, "-m", "consensuslab", "check-all", "-j", "2", "--junit", "report.xml",
                     "--traces", "traces"],
    "pytest": [sys.executable, "-m", "pytest", "--consensuslab", "-q", "-p", "no:cacheprovider"],
    "pytest-n2": [sys.executable, "-m", "pytest", "--consensuslab", "-q", "-p", "no:cacheprovider", "-n", "2"],
}


def tree_rss_kb(root: int) -> int:
    """Resident memory of ``root`` and its descendants, in kB."""
    children, rss = defaultdict(list), {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()  # field 3 (state) onwards
        pid = int(entry)
        children[int(fields[1])].append(pid)
        rss[pid] = int(fields[21]) * PAGE_KB
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        todo.extend(children.get(pid, []))
    return total


def measure(argv: list[str], cwd: str) -> tuple[float, float, float, int, str]:
    """(wall seconds, CPU seconds of the tree, peak MB of the tree, exit code, last line of stdout).

    CPU time (user + system, the command and every process it waited for) does not depend on what
    else the machine runs; wall time does, so both are given.
    """
    env = {**os.environ, "PYTHONPATH": ROOT + os.pathsep + os.environ.get("PYTHONPATH", "")}
    env = {k: v for k, v in env.items() if not k.startswith("GITHUB_")}
    started = time.monotonic()
    with tempfile.TemporaryFile("w+") as out:
        proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=out, stderr=subprocess.DEVNULL, text=True)
        peak, status, usage = 0, None, None
        while status is None:
            pid, code, rusage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                status, usage = os.waitstatus_to_exitcode(code), rusage
                proc.returncode = status
                break
            peak = max(peak, tree_rss_kb(proc.pid))
            time.sleep(0.1)
        seconds = time.monotonic() - started
        out.seek(0)
        lines = out.read().strip().splitlines()
    return seconds, usage.ru_utime + usage.ru_stime, peak / 1024, status, lines[-1] if lines else ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", default=",".join(COMMANDS))
    args = parser.parse_args()
    names = args.only.split(",")
    rows: dict[str, list] = defaultdict(list)
    for round_ in range(args.repeat):
        for name in (names if round_ % 2 == 0 else names[::-1]):
            folder = tempfile.mkdtemp(prefix="bench-ci-")
            try:
                for phase in ("cold", "cached"):
                    seconds, cpu, mb, code, last = measure(COMMANDS[name], folder)
                    rows[(name, phase)].append((seconds, cpu, mb))
                    print(f"round {round_ + 1} {name:<13} {phase:<6} {seconds:7.1f} s {cpu:7.1f} cpu-s {mb:6.0f} MB "
                          f"exit {code}  {last}  (load {os.getloadavg()[0]:.1f})", flush=True)
            finally:
                shutil.rmtree(folder, ignore_errors=True)
    print("\n| command | run | wall s | CPU s | peak MB (tree) |\n| --- | --- | ---: | ---: | ---: |")
    for (name, phase), runs in rows.items():
        cells = []
        for column, digits in ((0, 1), (1, 1), (2, 0)):
            values = [r[column] for r in runs]
            cells.append(f"{statistics.median(values):.{digits}f} ({min(values):.{digits}f}-{max(values):.{digits}f})")
        print(f"| {' '.join(COMMANDS[name][2:]).replace(' -q -p no:cacheprovider', '')} | {phase} | "
              + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
