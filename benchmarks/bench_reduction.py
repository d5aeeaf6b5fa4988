"""``--reduction por`` against the full search on every actor-protocol scenario in the registry.

    python benchmarks/bench_reduction.py                   # every actor scenario (a minute or two)
    python benchmarks/bench_reduction.py --only paxos-actors:default,two-phase-actors:rm6
    python benchmarks/bench_reduction.py --markdown        # the table as Markdown
    python benchmarks/bench_reduction.py --extra           # and larger configurations (several minutes)

Each row runs the real command line twice, without and with ``--reduction por``
(``check PROTOCOL --scenario S [--variant V] --json --quiet``), and prints the
distinct states, the search's own seconds and the verdict (status, and the
violated property) of both.  Where the reduced run finds a counterexample it is
written with ``--trace-out`` and re-executed by ``consensuslab replay``.
Scenarios that name liveness properties are checked on their safety properties
(``--property`` for each), since the reduction refuses liveness; the command
column shows exactly what ran.  The script exits 1 if a verdict differs or a
trace does not replay.  The load average is printed first and last: on a
shared machine seconds mean little without it.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile

PY = sys.executable


def actor_scenarios(only: set[str] | None) -> list[tuple[str, object]]:
    from consensuslab.models.actor_model import ActorModel
    from consensuslab.protocols import available, protocol_class

    rows = []
    for name in available():
        cls = protocol_class(name)
        for scenario in cls.scenarios:
            if only and f"{name}:{scenario.name}" not in only and name not in only:
                continue
            if isinstance(cls.configure({}, None, scenario.name).compile(), ActorModel):
                rows.append((name, scenario))
    return rows


def command(name: str, scenario) -> list[str]:
    from consensuslab.protocols import protocol_class

    model = protocol_class(name).configure({}, None, scenario.name).compile()
    args = [name, "--scenario", scenario.name]
    if model.liveness and scenario.properties:  # the scenario names liveness: check its safety part
        for p in model.invariants + model.step_properties + model.witnesses:
            args += ["--property", p.name]
    return args


def inactive(name: str, scenario) -> str | None:
    """Why the reduction would be off for this scenario (read without running it), or None."""
    from consensuslab.checkers.reduction.por import inactive_reason
    from consensuslab.protocols import protocol_class

    return inactive_reason(protocol_class(name).configure({}, None, scenario.name).compile())


def run(args: list[str], time_limit: float) -> dict:
    proc = subprocess.run([PY, "-m", "consensuslab", "check", *args, "--json", "--quiet",
                           "--time-limit", str(time_limit)], capture_output=True, text=True)
    try:
        doc = json.loads(proc.stdout)
    except ValueError:
        return {"status": f"error rc={proc.returncode}: {proc.stderr.strip()[-200:]}", "states": None,
                "seconds": None, "verdict": "error", "doc": {}}
    v = doc.get("violation")
    verdict = doc["status"] + (f" {v['property']}" if v else "")
    return {"status": doc["status"], "states": doc["distinct_states"], "seconds": doc["seconds"],
            "verdict": verdict, "doc": doc}


def replays(path: str) -> bool:
    proc = subprocess.run([PY, "-m", "consensuslab", "replay", path], capture_output=True, text=True)
    return proc.returncode in (11, 12)  # replay confirms the violation (or dead end) with check's code


#: larger configurations than the scenarios, where the reduction has more to remove (``--extra``)
EXTRA = [("paxos-actors", "-p proposers=1 -p max_ballot=0 -p acceptors=5"), ("paxos-actors", "-p acceptors=4")]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", help="comma-separated PROTOCOL or PROTOCOL:SCENARIO")
    ap.add_argument("--time-limit", type=float, default=300.0, help="per run (default 300 s)")
    ap.add_argument("--markdown", action="store_true")
    ap.add_argument("--extra", action="store_true", help="also the larger configurations in EXTRA (minutes)")
    opts = ap.parse_args()
    only = set(opts.only.split(",")) if opts.only else None
    print(f"load average at start: {os.getloadavg()[0]:.2f}", file=sys.stderr)
    rows, bad = [], 0
    with tempfile.TemporaryDirectory() as tmp:
        for name, scenario in actor_scenarios(only):
            args = command(name, scenario)
            off = inactive(name, scenario)
            if off:  # the reduced run would be the full search: say why instead of running it twice
                rows.append({"protocol": name, "scenario": scenario.name, "states": (None, None),
                             "seconds": (None, None), "verdict": "-", "replay": "-", "note": f"por off: {off}",
                             "command": "consensuslab check " + " ".join(args) + " --reduction por"})
                continue
            full = run(args, opts.time_limit)
            trace = os.path.join(tmp, f"{name}-{scenario.name}.itf.json")
            por = run(args + ["--reduction", "por", "--trace-out", trace], opts.time_limit)
            replay = "-"
            if por["doc"].get("violation") and por["doc"]["violation"].get("trace_file"):
                replay = "yes" if replays(trace) else "NO"
            same = full["verdict"] == por["verdict"]
            off = (por["doc"].get("por") or {}).get("off")
            bad += (not same) + (replay == "NO")
            rows.append({"protocol": name, "scenario": scenario.name,
                         "states": (full["states"], por["states"]), "seconds": (full["seconds"], por["seconds"]),
                         "verdict": full["verdict"] if same else f"{full['verdict']} / {por['verdict']} DIFFER",
                         "replay": replay, "note": f"por off: {off}" if off else "",
                         "command": "consensuslab check " + " ".join(args) + " --reduction por"})
            print(f"{name}:{scenario.name} done", file=sys.stderr)
        for name, params in EXTRA if opts.extra else ():
            args = [name, *params.split()]
            full = run(args, opts.time_limit)
            por = run(args + ["--reduction", "por"], opts.time_limit)
            same = full["verdict"] == por["verdict"]
            bad += not same
            rows.append({"protocol": name, "scenario": params, "states": (full["states"], por["states"]),
                         "seconds": (full["seconds"], por["seconds"]), "replay": "-", "note": "",
                         "verdict": full["verdict"] if same else f"{full['verdict']} / {por['verdict']} DIFFER",
                         "command": "consensuslab check " + " ".join(args) + " --reduction por"})
            print(f"{name} {params} done", file=sys.stderr)
    print(render(rows, opts.markdown))
    print(f"load average at end: {os.getloadavg()[0]:.2f}", file=sys.stderr)
    return 1 if bad else 0


def render(rows: list[dict], markdown: bool) -> str:
    head = ["protocol", "scenario", "states", "states por", "s", "s por", "verdict", "replays", "command"]
    lines = []
    for r in rows:
        (f, p), (fs, ps) = r["states"], r["seconds"]
        lines.append([r["protocol"], r["scenario"], f"{f:,}" if f is not None else "-",
                      f"{p:,}" if p is not None else "-", f"{fs:.2f}" if fs is not None else "-",
                      f"{ps:.2f}" if ps is not None else "-", r["verdict"] + (f" ({r['note']})" if r["note"] else ""),
                      r["replay"], r["command"]])
    if markdown:
        out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        out += ["| " + " | ".join(c if i != len(head) - 1 else f"`{c}`" for i, c in enumerate(line)) + " |"
                for line in lines]
        return "\n".join(out)
    widths = [max(len(h), *(len(line[i]) for line in lines)) if lines else len(h) for i, h in enumerate(head)]
    fmt = "  ".join(f"{{:{w}}}" for w in widths)
    return "\n".join([fmt.format(*head)] + [fmt.format(*line) for line in lines])


if __name__ == "__main__":
    sys.exit(main())
