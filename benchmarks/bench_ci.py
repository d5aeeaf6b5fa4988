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


def measure(argv: list[str], cwd: str) -> tuple[float, float, int, str]:
    """(seconds, peak MB of the tree, exit code, last line of stdout)."""
    env = {**os.environ, "PYTHONPATH": ROOT + os.pathsep + os.environ.get("PYTHONPATH", "")}
    env = {k: v for k, v in env.items() if not k.startswith("GITHUB_")}
    started = time.monotonic()
    proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    peak = 0
    while proc.poll() is None:
        peak = max(peak, tree_rss_kb(proc.pid))
        time.sleep(0.1)
    seconds = time.monotonic() - started
    out = proc.stdout.read().strip().splitlines()
    return seconds, peak / 1024, proc.returncode, out[-1] if out else ""


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
                    seconds, mb, code, last = measure(COMMANDS[name], folder)
                    rows[(name, phase)].append((seconds, mb))
                    print(f"round {round_ + 1} {name:<13} {phase:<6} {seconds:7.1f} s {mb:7.0f} MB  exit {code}  "
                          f"{last}", flush=True)
            finally:
                shutil.rmtree(folder, ignore_errors=True)
    print("\n| command | run | wall s | peak MB (tree) |\n| --- | --- | ---: | ---: |")
    for (name, phase), runs in rows.items():
        secs, mbs = [r[0] for r in runs], [r[1] for r in runs]
        print(f"| {' '.join(COMMANDS[name][2:]).replace(' -q -p no:cacheprovider', '')} | {phase} | "
              f"{statistics.median(secs):.1f} ({min(secs):.1f}-{max(secs):.1f}) | "
              f"{statistics.median(mbs):.0f} ({min(mbs):.0f}-{max(mbs):.0f}) |")


if __name__ == "__main__":
    main()
