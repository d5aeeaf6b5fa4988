"""``consensuslab validate LOG...``: does a behaviour of the model explain an implementation's log?"""

from __future__ import annotations

import json
import sys

from consensuslab.commands.options import add_module_option, non_negative_int, positive_float
from consensuslab.commands.output import print_json
from consensuslab.errors import UsageError


def register(sub) -> None:
    p = sub.add_parser("validate", help="check an implementation's per-node logs against a model",
                       description="Search for a behaviour of the model that explains every logged event "
                                   "(per-node order and send-before-receive are the only orderings), allowing "
                                   "unlogged steps and the fewest faults. Exit 0 explained (the behaviour "
                                   "replays; with the faults it needed), 12 not explained (the first event no "
                                   "behaviour takes, and why), 3 incomplete (a limit), 2 bad input.")
    p.add_argument("logs", nargs="+", metavar="LOG",
                   help="JSON-lines logs: one per node, or one with a 'node' field; a directory of *.jsonl")
    p.add_argument("--protocol", metavar="PROTOCOL",
                   help="the model: a protocol name or path.py[:Class] (default: the mapping's)")
    p.add_argument("-p", "--param", action="append", default=[], metavar="KEY=VALUE",
                   help="set a model parameter (repeatable; overrides the mapping's)")
    p.add_argument("--variant", help="a variant of the protocol")
    p.add_argument("--scenario", help="a named scenario of the protocol")
    add_module_option(p)
    p.add_argument("--mapping", metavar="FILE",
                   help="how events map to model steps and fields: path.py[:Class], module[:Class], or "
                        "'pysyncobj' (default: the log names model actions, as export-log writes them)")
    p.add_argument("--silent-steps", type=non_negative_int, default=2, metavar="N",
                   help="unlogged steps allowed in a row between two events (default 2)")
    p.add_argument("--order", choices=("auto", "clock", "canonical", "all"), default="auto",
                   help="how events of different nodes interleave: clock (in the order of their clocks), "
                        "canonical (node by node, where the mapping says nodes' steps commute), all (every "
                        "order: exact for any model, slower); auto (default): clock if every event has one")
    p.add_argument("--time-limit", type=positive_float, metavar="SECONDS")
    p.add_argument("--memory-limit", type=positive_float, metavar="MB", help="stop (incomplete) above this RSS")
    p.add_argument("--trace-out", metavar="FILE", help="write the explaining behaviour as ITF (replay confirms it)")
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    p.add_argument("--quiet", action="store_true", help="no progress")
    p.set_defaults(handler=run)


def load_mapping(target: str | None):
    from consensuslab.checkers.validation.mapping import Mapping
    from consensuslab.checkers.validation.native import NativeMapping
    from consensuslab.commands.user_code import instantiate, load_class

    if target is None:
        return NativeMapping()
    return instantiate(load_class(target, Mapping, "mapping"), "mapping")


def build_model(args, mapping):
    """The model: --protocol (or the mapping's), the mapping's parameters overlaid with -p."""
    from consensuslab.commands.options import configure_user, user_defined
    from consensuslab.loader import resolve
    from consensuslab.models.params import parse_assignments

    protocol = args.protocol or getattr(mapping, "protocol", None)
    if not protocol:
        raise UsageError("validate: say which model with --protocol (the mapping names none)")
    cls = resolve(protocol, args.module)
    params = {**dict(getattr(mapping, "params", {}) or {}), **parse_assignments(args.param)}
    if user_defined(cls):
        return configure_user(cls, params, args.variant, args.scenario).compile()
    return cls.configure(params, args.variant, args.scenario).compile()


def run(args) -> int:
    from consensuslab.checkers.validation.search import validate
    from consensuslab.logs.read import read_log

    mapping = load_mapping(args.mapping)
    model = build_model(args, mapping)
    log = read_log(args.logs)
    result = validate(model, log, mapping, silent_steps=args.silent_steps, time_limit=args.time_limit,
                      memory_limit=args.memory_limit, order=args.order,
                      progress=not (args.quiet or args.json))
    if result.trace is not None and args.trace_out:
        write_behaviour(args.trace_out, model, result)
    if args.json:
        print_json(result.to_json(model))
    else:
        print(report(model, log, result))
    return result.exit_code


def write_behaviour(path: str, model, result) -> None:
    from consensuslab.traces.itf import write_trace
    from consensuslab.traces.result import Violation

    try:
        write_trace(path, model, result.trace, Violation("explains-log", "behaviour", result.trace), "explained")
    except OSError as exc:
        raise UsageError(f"cannot write {path!r}: {exc.strerror}") from None
    result.trace_file = path


def report(model, log, result) -> str:
    """The result for people: the verdict, the figures, then the faults or the failure."""
    meta = result.model_meta
    params = ", ".join(f"{k}={v}" for k, v in meta["params"].items())
    sizes = ", ".join(f"{n} {len(log.of(n))}" for n in result.nodes)
    lines = [f"{meta['protocol']} ({params}) against {len(result.nodes)} nodes' logs ({sizes} events): "
             f"{result.status.upper().replace('-', ' ')}",
             f"  {result.events:,} events, {result.expectations:,} expectations, {result.search_nodes:,} search "
             f"nodes, {result.seconds:.2f} s, {result.order} order"]
    lines.extend(f"  warning: {w}" for w in result.warnings)
    if result.status == "explained":
        lines.append(f"  the behaviour: {len(result.trace)} steps; faults it needed: {_faults(result.faults)}"
                     + (f"; logged: {_faults(result.logged_faults)}" if result.logged_faults else "")
                     + (f"; {result.unlogged_steps} unlogged steps of no fault" if result.unlogged_steps else ""))
        if result.trace_file:
            lines.append(f"  trace written to {result.trace_file}; replay: consensuslab replay {result.trace_file}")
        return "\n".join(lines)
    lines.append(f"  explained: {result.explained_events:,} of {result.events:,} events ("
                 + ", ".join(f"{n} up to #{s}" if s is not None else f"{n} none" for n, s in result.prefix.items())
                 + ")")
    if result.status == "incomplete":
        lines.append(f"  stopped by {result.stopped_by}: no verdict")
        return "\n".join(lines)
    lines.extend(_failure(result.failure))
    return "\n".join(lines)


def _faults(faults: dict) -> str:
    return ", ".join(f"{n} {cls}" + ("es" if cls == "loss" and n > 1 else "s" if n > 1 else "")
                     for cls, n in sorted(faults.items())) or "none"


def _failure(f) -> list[str]:
    from consensuslab.checkers.validation.native import readable

    out = [f"  first event no behaviour takes: {f.describe} ({f.where})",
           f"    expected: {f.expected}", f"    why: {f.reason}"]
    if f.field is not None:
        out.append(f"    field {f.field}: log {_text(readable(f.logged))}, model {_text(readable(f.observed))}")
    if f.also_stuck:
        out.append(f"    also not takeable there: {', '.join(f.also_stuck)}")
    views: dict[str, int] = {}
    for fields in f.node_fields:
        shown = ", ".join(f"{n}={_text(readable(v))}" for n, v in fields.items())
        if shown:
            views[shown] = views.get(shown, 0) + 1
    out.append(f"    model states just before it: {len(f.states)}" + (", the node showing" if views else ""))
    out.extend(f"      {shown}" + (f"  (in {n} of them)" if n > 1 else "") for shown, n in views.items())
    if f.enabled:
        out.append(f"    the node's enabled steps there: {'; '.join(f.enabled)}")
    return out


def _text(value, limit: int = 200) -> str:
    text = json.dumps(value, default=str) if not isinstance(value, str) else value
    return text if len(text) <= limit else text[:limit] + "..."


if __name__ == "__main__":  # pragma: no cover
    sys.exit(1)
