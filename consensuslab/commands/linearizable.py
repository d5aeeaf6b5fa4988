"""``consensuslab linearizable HISTORY.json --model register|kv|cas-register [--json]``."""

from __future__ import annotations

import json
import time

from consensuslab.commands.options import add_limit_options, time_left
from consensuslab.errors import EXIT_INCOMPLETE, EXIT_OK, EXIT_SAFETY, UsageError
from consensuslab.histories.history import MODELS, load_history
from consensuslab.histories.linearizability import Verdict, check


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "linearizable",
        help="decide whether a recorded client history is linearizable",
        description="Check a Jepsen-style JSON history (process, type, f, value, key) against a "
                    "register, cas-register or key-value model. Exit 0 if linearizable, 12 if not, "
                    "3 if a limit stopped it first (unknown), 2 if the history is malformed.")
    p.add_argument("history", metavar="HISTORY.json", help="JSON list of invoke/ok/fail/info events")
    p.add_argument("--model", required=True, choices=sorted(MODELS), help="sequential specification")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    p.add_argument("--minimize-seconds", type=float, default=10.0, metavar="S",
                   help="time bound for minimising the witness (default 10)")
    add_limit_options(p, "stop deciding after SECONDS: the answer is then unknown (exit 3)")
    p.set_defaults(handler=run)


def run(args) -> int:
    if args.minimize_seconds < 0:
        raise UsageError("--minimize-seconds must not be negative")
    started = time.perf_counter()
    ops = load_history(args.history, args.model)
    verdict = decide(ops, args.model, args.minimize_seconds, time_left(args))
    seconds = time.perf_counter() - started
    if args.json:
        print(json.dumps(to_json(verdict, seconds)))
    else:
        _print(verdict, seconds)
    if verdict.undecided:
        return EXIT_INCOMPLETE
    return EXIT_OK if verdict.linearizable else EXIT_SAFETY


def decide(ops, model: str, minimize_seconds: float, time_limit: float | None) -> Verdict:
    """``check`` within the command's budget: the time limit, the memory cap (read as the search
    grows), and a watchdog; reaching any is an ``unknown`` verdict, never a guess."""
    from consensuslab.checkers.search.ending import Budget
    from consensuslab.checkers.search.limits import STOPS, interrupted_by, watchdog

    budget = Budget()  # the memory cap only: the deadline is the search's own
    try:
        with watchdog(time_limit):
            return check(ops, model, minimize_seconds=minimize_seconds, time_limit=time_limit,
                         limit=lambda: "memory-limit" if budget.memory.reached() else None)
    except STOPS as exc:  # the watchdog, memory, Ctrl-C: undecided (the command line exits 130 for Ctrl-C)
        return Verdict(False, model, len(ops), undecided=interrupted_by(exc))


def to_json(v: Verdict, seconds: float) -> dict:
    out = {"linearizable": None if v.undecided else v.linearizable, "status": v.status, "model": v.model,
           "operations": v.operations, "seconds": round(seconds, 6)}
    if v.undecided:
        out.update(stopped_by=v.undecided, keys_decided=v.checked_keys)
        return out
    if not v.linearizable:
        out["key"] = v.key
        out["witness"] = [op.to_json() for op in v.witness]
        out["witness_minimal"] = v.witness_minimal
        out["witness_seconds"] = round(v.witness_seconds, 6)
        out["longest_linearizable_prefix"] = {
            "operations": v.prefix_operations, "events": v.prefix_events,
            "cannot_linearize": v.blocked.to_json()}
    return out


def _print(v: Verdict, seconds: float) -> None:
    from rich.console import Console

    out = Console(highlight=False, soft_wrap=True)
    head = f"{v.operations} operations, {v.model} model, {seconds:.2f} s"
    if v.undecided:
        out.print(f"[bold yellow]unknown[/]: {head}; stopped by the {v.undecided} after {v.checked_keys} "
                  f"independent part(s) were found linearizable (not a proof either way)")
        return
    if v.linearizable:
        out.print(f"[bold green]linearizable[/]: {head}")
        return
    out.print(f"[bold red]NOT linearizable[/]: {head}")
    where = f" (key {json.dumps(v.key)})" if v.key is not None else ""
    out.print(f"longest linearizable prefix: events 0..{v.prefix_events - 1} ({v.prefix_operations} "
              f"operations invoked); the next event completes this one, which cannot be "
              f"linearized{where}:", markup=False)
    out.print(f"  {v.blocked.describe()}", markup=False)
    quality = "minimal" if v.witness_minimal else "NOT proven minimal: time bound reached"
    out.print(f"inconsistent subset ({quality}, {v.witness_seconds:.2f} s): these {len(v.witness)} "
              f"operations cannot all be linearized, whichever others took effect:", markup=False)
    for op in v.witness:
        out.print(f"  {op.describe()}", markup=False)
