"""Issue 17's figures side by side in one run: consensuslab's engines against the interpreted search, a plain
Python BFS, TLC and SPIN, on the bundled protocols and the transcribed TLA+ Examples specs.

    python benchmarks/bench_speed.py --repeat 3                 # every group, three interleaved rounds
    python benchmarks/bench_speed.py --only paxos,raft          # some groups
    python benchmarks/bench_speed.py --list                     # the groups and their rows
    TLA2TOOLS_JAR=/path/tla2tools.jar TLA_SPECS=/path/specs python benchmarks/bench_speed.py --only paxos

Each group's rows run interleaved, round after round (forwards, then backwards), so a slow spell of a shared
machine falls on all of them; each row shows its fastest wall time, the median and the spread (min-max),
the search's own seconds as ``--json`` reports them, peak RSS and RSS per distinct state.  Every row is its
own process (``bench_scale.measure``: ``os.wait4``).  The ratios under a group compare medians.

TLC rows run ``java -cp $TLA2TOOLS_JAR tlc2.TLC -workers 1`` on the TLA+ Examples module and config named
in ``TLC_MODELS``, found under ``$TLA_SPECS/<dir>`` (``--tla-specs``); without the jar, the specs or
``java`` they are skipped with a message.  The jar and the TLA+ sources are not part of this repository.
SPIN rows need ``spin`` and ``gcc`` (``apt-get install spin gcc``).
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import re
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

from bench_scale import measure, run_spin

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PY = sys.executable
SPECS = HERE / "specs"

#: group -> TLC (directory under $TLA_SPECS, module, config)
TLC_MODELS = {
    "paxos": ("px", "MCPaxosBench.tla", "bench.cfg"),
    "paxos-consistency": ("px", "MCPaxosBench.tla", "bench_consistency.cfg"),
    "paxos-commit": ("pc", "PaxosCommit.tla", "full.cfg"),
    "lamport-mutex": ("lm", "MCLamportMutex.tla", "MCLamportMutex.cfg"),
    "ewd998": ("e998", "EWD998PCal.tla", "full.cfg"),
    "ewd840": ("e840", "EWD840.tla", "n7.cfg"),
    "simple-regular": ("sr", "SimpleRegular.tla", "n8.cfg"),
    "key-value-store": ("kvs", "MCKVS.tla", "MCKVSSafetySmall.cfg"),
    # MC4.tla: MC.tla with n == 4; safety.cfg: MC.cfg without its PROPERTY (the engines check safety here)
    "readers-writers": ("rw", "MC4.tla", "safety.cfg"),
    "slush": ("slush", "Slush.tla", "SlushSmall.cfg"),
    "bakery": ("bakery", "MCBakery.tla", "MCBakery.cfg"),
    "acp-sb": ("acp", "ACP_SB_TLC.tla", "ACP_SB_TLC.cfg"),
    "sailfish": ("sailfish", "TLCSailfish1.tla", "TLCSailfish1.cfg"),
}

PERMUTE_ONLY = """
import json
from consensuslab import check
from consensuslab.protocols.two_phase import TwoPhase

class PermuteOnly(TwoPhase):
    canonical = None  # the framework's default: the least image under every permutation

r = check(PermuteOnly({"rm": %d}).compile(), symmetry=True, progress=False)
print(json.dumps(r.to_json()))
"""


# -- one run of each kind of row ------------------------------------------------------------------------
def ours(args: list[str], limit: float):
    def run() -> dict:
        m = measure([PY, "-m", "consensuslab", "check", *args, "--json", "--quiet", "--time-limit", str(limit)],
                    cwd=str(ROOT))
        return _json_row(m)
    return run


def snippet(code: str):
    def run() -> dict:
        m = measure([PY, "-c", code], cwd=str(ROOT))
        return _json_row(m, last_line=True)
    return run


def _json_row(m: dict, last_line: bool = False) -> dict:
    try:
        text = m["stdout"].strip().splitlines()[-1] if last_line else m["stdout"]
        doc = json.loads(text)
        m.update(states=doc["distinct_states"], status=doc["status"],
                 search=doc["seconds"] - doc.get("lint_seconds", 0.0),  # ``seconds`` holds the lint too
                 engine=doc.get("engine", ""))
    except (ValueError, KeyError, IndexError):
        m.update(states=None, status=f"error rc={m['rc']}: {m['stderr'].strip()[-300:]}")
    return m


def plain(script: str, *args: str):
    def run() -> dict:
        m = measure([PY, str(HERE / script), *args, "--json"], cwd=str(ROOT))
        try:
            doc = json.loads(m["stdout"])
            m.update(states=doc["distinct_states"], status=doc["status"], search=doc["seconds"], engine="plain BFS")
        except (ValueError, KeyError):
            m.update(states=None, status=f"error rc={m['rc']}: {m['stderr'].strip()[-300:]}")
        return m
    return run


def tlc(group: str, specs: str | None):
    def run() -> dict:
        jar = os.environ.get("TLA2TOOLS_JAR")
        where = TLC_MODELS[group]
        folder = Path(specs) / where[0] if specs else None
        if not (jar and Path(jar).exists() and shutil.which("java") and folder and folder.is_dir()):
            return {"status": "skipped: set TLA2TOOLS_JAR and TLA_SPECS (TLA+ Examples modules) and install java",
                    "states": None}
        work = tempfile.mkdtemp(prefix="bench-tlc-")
        for f in folder.glob("*.tla"):
            shutil.copy(f, work)
        shutil.copy(folder / where[2], work)
        m = measure(["java", "-XX:+UseParallelGC", "-cp", jar, "tlc2.TLC", "-workers", "1", "-deadlock",
                     "-config", where[2], "-metadir", str(Path(work) / "states"), where[1]], cwd=work)
        found = re.findall(r"([\d,]+) distinct states found", m["stdout"])  # progress lines first, the total last
        m["states"] = int(found[-1].replace(",", "")) if found else None
        m["status"] = "ok" if "No error has been found" in m["stdout"] else "see TLC output"
        m["engine"], m["search"] = "TLC 1 worker", None
        shutil.rmtree(work, ignore_errors=True)
        return m
    return run


def spin(n: int):
    def run() -> dict:
        m = run_spin(n)
        m.setdefault("engine", "SPIN")
        m.setdefault("search", None)
        return m
    return run


# -- the groups -----------------------------------------------------------------------------------------
def groups(limit: float, specs: str | None) -> dict[str, list[tuple[str, object]]]:
    def engines(group, *args, workers=True):
        rows = [("consensuslab auto", ours([*args], limit)),
                ("consensuslab --engine compiled", ours([*args, "--engine", "compiled"], limit)),
                ("consensuslab --engine interpreted", ours([*args, "--engine", "interpreted"], limit))]
        if workers:
            rows.append(("consensuslab auto --workers 2", ours([*args, "--workers", "2"], limit)))
        if group in TLC_MODELS:
            rows.append(("TLC 2.x, 1 worker", tlc(group, specs)))
        return rows

    return {
        "paxos": engines("paxos", "paxos", "-p", "ballots=3")
        + [("plain Python BFS (Consistency only)", plain("paxos_plain_bfs.py", "--ballots", "3"))],
        "paxos-consistency": engines("paxos-consistency", "paxos", "-p", "ballots=3", "--property", "Consistency")
        + [("plain Python BFS", plain("paxos_plain_bfs.py", "--ballots", "3"))],
        "raft": engines("raft", "raft", "-p", "max_log=2", "-p", "values=2"),
        # raft.tla's receipts as actions over the messages in flight: a row per message, each keyed by most of the state
        "raft-domains": engines("raft-domains", str(HERE / "raft_domains.py")),
        "pbft": engines("pbft", "pbft", "-p", "max_seq=2"),
        "paxos-actors": engines("paxos-actors", "paxos-actors", "-p", "acceptors=4"),
        "two-phase-actors": engines("two-phase-actors", "two-phase-actors", "-p", "rm=6"),
        "paxos-actors-lossy": engines("paxos-actors-lossy", "paxos-actors", "--scenario", "lossy"),
        "paxos-commit": engines("paxos-commit", str(SPECS / "paxos_commit.py"), "--scenario", "cfg"),
        "lamport-mutex": engines("lamport-mutex", str(SPECS / "lamport_mutex.py"), "--scenario", "cfg"),
        "ewd998": engines("ewd998", str(SPECS / "ewd998.py"), "--scenario", "cfg")
        + [("plain Python BFS", plain("ewd998_plain_bfs.py"))],
        "ewd840": engines("ewd840", str(SPECS / "ewd840.py"), "--scenario", "bench")
        + [("plain Python BFS", plain("ewd840_plain_bfs.py", "--n", "7"))],
        "simple-regular": engines("simple-regular", str(SPECS / "simple_regular.py"), "--scenario", "cfg"),
        "key-value-store": engines("key-value-store", str(SPECS / "key_value_store.py"), "--scenario", "small"),
        "readers-writers": engines("readers-writers", str(SPECS / "readers_writers.py"), "-p", "n=4"),
        "fast-paxos": engines("fast-paxos", str(SPECS / "fast_paxos.py"), "-p", "ballots=4"),
        "classic-paxos": engines("classic-paxos", str(SPECS / "classic_paxos.py"), "--scenario", "cfg"),
        "slush": engines("slush", str(SPECS / "slush.py"), "--scenario", "cfg"),
        "bakery": engines("bakery", str(SPECS / "bakery.py"), "--scenario", "cfg"),
        # actions that yield several next states without declaring them (numbered rows on the compiled engine)
        "acp-sb": engines("acp-sb", str(SPECS / "acp_sb.py"), "--scenario", "cfg"),
        "sailfish": engines("sailfish", str(SPECS / "sailfish.py"), "--scenario", "cfg"),
        # MultiPaxos_MC_small.cfg without its SYMMETRY (TLC's 343,796 is the symmetric count)
        "multipaxos": engines("multipaxos", str(SPECS / "multipaxos.py"), "--scenario", "small"),
        "fast-paxos-symmetry": [("fast-paxos FastPaxos.cfg --symmetry (TLC: 25,617, 20 s in the manifest)",
                                 ours([str(SPECS / "fast_paxos.py"), "--scenario", "cfg", "--symmetry"], limit))],
        "classic-paxos-symmetry": [("classic-paxos Paxos.cfg --symmetry (TLC: 1,207, 5 s in the manifest)",
                                    ours([str(SPECS / "classic_paxos.py"), "--scenario", "cfg", "--symmetry"],
                                         limit))],
        # mid-sized runs, where which engine is faster is not known in advance: what ``auto`` (racing) costs
        "ewd998-small": engines("ewd998-small", str(SPECS / "ewd998.py"), "-p", "max_counter=2", workers=False),
        "pbft-small": engines("pbft-small", "pbft", workers=False),
        "paxos-small": engines("paxos-small", "paxos", workers=False),
        "two-phase-rm6": engines("two-phase-rm6", "two-phase", "-p", "rm=6", workers=False),
        "two-phase": [("consensuslab two-phase rm=9", ours(["two-phase", "-p", "rm=9"], limit)),
                      ("consensuslab two-phase rm=9 --workers 2", ours(["two-phase", "-p", "rm=9", "--workers", "2"],
                                                                       limit)),
                      ("SPIN two-phase rm=9", spin(9))],
        "symmetry": [("two-phase rm=6 --symmetry, own canonical (checked)",
                      ours(["two-phase", "-p", "rm=6", "--symmetry"], limit)),
                     ("two-phase rm=6 --symmetry, permute only (720 permutations)", snippet(PERMUTE_ONLY % 6))],
    }


# -- running and printing -------------------------------------------------------------------------------
def spread(xs: list[float]) -> str:
    if not xs:
        return ""
    return f"{min(xs):.2f} ({statistics.median(xs):.2f}) [{min(xs):.2f}-{max(xs):.2f}]"


def run_group(name: str, rows: list, repeat: int) -> list[dict]:
    runs: list[list[dict]] = [[] for _ in rows]
    for r in range(repeat):
        order = list(range(len(rows))) if r % 2 == 0 else list(reversed(range(len(rows))))
        for k in order:
            runs[k].append(rows[k][1]())
            print(f"  {name}: {rows[k][0]} round {r + 1}: {runs[k][-1].get('status')}", file=sys.stderr, flush=True)
    out = []
    for (label, _), done in zip(rows, runs):
        ok = [m for m in done if m.get("states") is not None]
        out.append({"label": label, "runs": done, "ok": ok})
    return out


def report(name: str, results: list[dict]) -> None:
    print(f"\n## {name}\n")
    print("| run | engine | distinct states | status | wall s: best (median) [spread] | search s | peak MB | "
          "bytes/state | states/s (search) |")
    print("| --- | --- | ---: | --- | ---: | ---: | ---: | ---: | ---: |")
    medians = {}
    for row in results:
        ok = row["ok"]
        if not ok:
            print(f"| {row['label']} | | | {row['runs'][-1].get('status')} | | | | | |")
            continue
        walls = [m["wall"] for m in ok]
        searches = [m["search"] for m in ok if m.get("search") is not None]
        rss = max(m["rss_mb"] for m in ok)
        states = ok[-1]["states"]
        medians[row["label"]] = statistics.median(walls)
        seconds = statistics.median(searches or walls)  # an incomplete run compares by its rate
        print(f"| {row['label']} | {ok[-1].get('engine', '')} | {states:,} | {ok[-1]['status']} | {spread(walls)} | "
              f"{spread(searches)} | {rss:.0f} | {rss * 2 ** 20 / max(states, 1):.0f} | {states / seconds:,.0f} |")
    base = medians.get("consensuslab auto")
    if base:
        for label, value in medians.items():
            if label != "consensuslab auto":
                print(f"\n{label} / consensuslab auto (median wall): {value / base:.2f}x", end="")
        print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--only", help="comma-separated groups")
    parser.add_argument("--list", action="store_true")
    parser.add_argument("--time-limit", type=float, default=900, help="seconds per consensuslab run")
    parser.add_argument("--tla-specs", default=os.environ.get("TLA_SPECS"),
                        help="folder with the TLA+ Examples modules, one sub-folder per TLC_MODELS entry")
    opts = parser.parse_args()
    table = groups(opts.time_limit, opts.tla_specs)
    wanted = opts.only.split(",") if opts.only else list(table)
    unknown = [w for w in wanted if w not in table]
    if unknown:
        parser.error(f"unknown group {unknown[0]!r}; valid: {', '.join(table)}")
    if opts.list:
        for name in wanted:
            print(name + ": " + "; ".join(label for label, _ in table[name]))
        return
    # every row starts a Python process: compile the package's bytecode once, as installing it does, so that no
    # row pays for compiling sources (where PYTHONDONTWRITEBYTECODE is set, about 0.15 s a run)
    compileall.compile_dir(str(ROOT / "consensuslab"), quiet=1)
    print(f"load average before: {os.getloadavg()}")
    for name in wanted:
        report(name, run_group(name, table[name], opts.repeat))
    print(f"\nload average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
