"""``consensuslab linearizable HISTORY.json --model register|kv|cas-register [--json]``."""

from __future__ import annotations

import json
import time

from consensuslab.errors import EXIT_OK, EXIT_SAFETY, UsageError
from consensuslab.histories.history import MODELS, load_history
from consensuslab.histories.linearizability import Verdict, check


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "linearizable",
        help="decide whether a recorded client history is linearizable",
        description="Check a Jepsen-style JSON history (process, type, f, value, key) against a "
                    "register, cas-register or key-value model. Exit 0 if linearizable, 12 if not, "
                    "2 if the history is malformed.")
    p.add_argument("history", metavar="HISTORY.json", help="JSON list of invoke/ok/fail/info events")
    p.add_argument("--model", required=True, choices=sorted(MODELS), help="sequential specification")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    p.add_argument("--minimize-seconds", type=float, default=10.0, metavar="S",
                   help="time bound for minimising the witness (default 10)")
    p.set_defaults(handler=run)


def run(args) -> int:
    if args.minimize_seconds < 0:
        raise UsageError("--minimize-seconds must not be negative")
    started = time.perf_counter()
    ops = load_history(args.history, args.model)
    verdict = check(ops, args.model, minimize_seconds=args.minimize_seconds)
    seconds = time.perf_counter() - started
    if args.json:
        print(json.dumps(to_json(verdict, seconds)))
    else:
        _print(verdict, seconds)
    return EXIT_OK if verdict.linearizable else EXIT_SAFETY


def to_json(v: Verdict, seconds: float) -> dict:
    out = {"linearizable": v.linearizable, "status": v.status, "model": v.model,
           "operations": v.operations, "seconds": round(seconds, 6)}
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
