"""``consensuslab pysyncobj run|check``: a real Raft library on loopback, its logs validated, its history checked."""

from __future__ import annotations

import json

from consensuslab.commands.options import non_negative_int, positive_float
from consensuslab.commands.output import print_json
from consensuslab.errors import UsageError


def register(sub) -> None:
    p = sub.add_parser("pysyncobj", help="run PySyncObj under faults; validate its logs, check its history",
                       description="Run a 3-node PySyncObj cluster on 127.0.0.1 under a fault scenario (needs the "
                                   "'realcode' extra), record each node's Raft events and the clients' history, "
                                   "then validate the logs against the raft model and check the history for "
                                   "linearizability. Exit 0 when the runs complete (the verdicts are in the "
                                   "output); 2 for bad input.")
    verbs = p.add_subparsers(dest="pysyncobj_verb", metavar="VERB")
    run = verbs.add_parser("run", help="run scenarios, then check them")
    run.add_argument("scenarios", nargs="*", metavar="SCENARIO", help="scenario names (default: all; --list)")
    run.add_argument("--dir", default="pysyncobj-runs", metavar="DIR", help="where runs go (DIR/SCENARIO/)")
    run.add_argument("--seed", type=non_negative_int, metavar="N", help="election timeouts and client choices")
    run.add_argument("--seconds", type=positive_float, metavar="S", help="client time (nemesis times scale with it)")
    run.add_argument("--no-check", action="store_true", help="only run; do not validate or check")
    run.add_argument("--list", action="store_true", help="list the scenarios and exit")
    run.add_argument("--json", action="store_true", help="print the summaries as JSON")
    run.set_defaults(handler=run_scenarios)
    check = verbs.add_parser("check", help="validate and check runs made before")
    check.add_argument("dirs", nargs="+", metavar="RUN", help="a run's directory (its n*.jsonl and history.json)")
    check.add_argument("--time-limit", type=positive_float, default=120.0, metavar="SECONDS")
    check.add_argument("--json", action="store_true")
    check.set_defaults(handler=check_runs)
    p.set_defaults(handler=lambda args: _usage())


def _usage() -> int:
    raise UsageError("pysyncobj: say which verb: run or check")


def _require_pysyncobj() -> None:
    try:
        import pysyncobj  # noqa: F401
    except ImportError:
        raise UsageError("pysyncobj is not installed: pip install -e \".[realcode]\"") from None


def run_scenarios(args) -> int:
    from consensuslab.realcode.pysyncobj.scenarios import SCENARIOS, run_scenario

    if args.list:
        for name, spec in SCENARIOS.items():
            print(f"{name:<20} {spec['seconds']:>3} s  {spec['about']}")
        return 0
    unknown = [n for n in args.scenarios if n not in SCENARIOS]
    if unknown:
        raise UsageError(f"unknown scenario {unknown[0]!r}; valid: {', '.join(SCENARIOS)}")
    _require_pysyncobj()
    out = []
    for name in args.scenarios or list(SCENARIOS):
        summary = run_scenario(name, args.dir, args.seed, args.seconds, check=not args.no_check)
        out.append(summary)
        if not args.json:
            print(line(summary), flush=True)
    if args.json:
        print_json(out)
    return 0


def check_runs(args) -> int:
    import os

    from consensuslab.realcode.pysyncobj.scenarios import check_run

    out = []
    for run in args.dirs:
        if not os.path.isdir(run):
            raise UsageError(f"run directory {run!r} does not exist")
        summary = {"scenario": os.path.basename(os.path.normpath(run)), **check_run(run, args.time_limit)}
        out.append(summary)
        if not args.json:
            print(line(summary), flush=True)
    if args.json:
        print_json(out)
    return 0


def line(s: dict) -> str:
    """One scenario in one line (two where a log is not explained)."""
    head = f"{s['scenario']:<20}"
    if "seconds" in s:
        head += f" {s['seconds']:>5.1f} s"
    if "history" in s:
        h = s["history"]
        head += f"  ops {h['ops']} {json.dumps(h['outcomes'], sort_keys=True)}"
    if "validation" not in s:
        return head
    v, lin = s["validation"], s["linearizable"]
    events = sum(s["log_events"].values())
    head += (f"  logs {events} events: {v['status'].upper().replace('-', ' ')} in {v['seconds']} s"
             + (f" (faults {v['faults'] or 'none'}, logged {v['logged_faults'] or 'none'})"
                if v["status"] == "explained" else f" ({v['explained_events']} explained)")
             + f"  history: {_history(lin)}")
    if v["failure"]:
        head += f"\n{'':<22}first event not explained: {v['failure']['describe']}: {v['failure']['reason']}"
    if lin is not None and not lin["linearizable"] and lin["witness"]:
        head += f"\n{'':<22}witness: {'; '.join(lin['witness'][:3])}"
    return head


def _history(lin: dict | None) -> str:
    if lin is None:
        return "none recorded"
    return "linearizable" if lin["linearizable"] else "NOT linearizable"
