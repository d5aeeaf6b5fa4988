"""``consensuslab conform IMPL``: drive a sans-IO implementation from the model and compare them step by step."""

from __future__ import annotations

import os
import re

from consensuslab.commands.options import add_module_option, non_negative_int, positive_float, positive_int
from consensuslab.commands.output import print_json
from consensuslab.errors import UsageError


def register(sub) -> None:
    p = sub.add_parser("conform", help="test an implementation against the model, in lockstep",
                       description="Run the implementation (through its adapter) along the model's behaviours "
                                   "- every one within the bounds (bfs) or random walks - comparing its state, "
                                   "timers and sent messages with the model's after every step. Exit codes as "
                                   "check: 0 conforms, 12 a divergence (the model trace with the "
                                   "implementation's values, and a pytest regression test), 3 incomplete, 2 "
                                   "bad input.")
    p.add_argument("impl", metavar="IMPL", help="the adapter: path.py[:Class] or module[:Class]")
    p.add_argument("--protocol", metavar="PROTOCOL", help="the model (default: the adapter's `protocol`)")
    p.add_argument("-p", "--param", action="append", default=[], metavar="KEY=VALUE",
                   help="set a model parameter (repeatable; overrides the adapter's)")
    p.add_argument("--variant", help="a variant of the protocol")
    p.add_argument("--scenario", help="a named scenario (parameters, network, faults)")
    add_module_option(p)
    p.add_argument("--search", choices=("bfs", "walks"), default="bfs",
                   help="bfs: every behaviour within the bounds, shortest divergence first (default); "
                        "walks: random walks, the divergence shrunk")
    p.add_argument("--max-states", type=positive_int, metavar="N")
    p.add_argument("--max-depth", type=non_negative_int, metavar="N")
    p.add_argument("--time-limit", type=positive_float, metavar="SECONDS")
    p.add_argument("--memory-limit", type=positive_float, metavar="MB", help="stop (incomplete) above this RSS")
    p.add_argument("--walks", type=positive_int, default=1000, metavar="N", help="random walks (default 1000)")
    p.add_argument("--steps", type=positive_int, default=50, metavar="N", help="steps per walk (default 50)")
    p.add_argument("--seed", type=non_negative_int, default=0, metavar="N")
    p.add_argument("--trace-out", metavar="FILE", help="write the divergent model behaviour as ITF")
    p.add_argument("--test-out", metavar="FILE",
                   help="where to write the regression test (default: test_regression_<impl>.py here)")
    p.add_argument("--no-test", action="store_true", help="do not write a regression test")
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    p.add_argument("--quiet", action="store_true", help="no progress, no trace")
    p.set_defaults(handler=run)


def run(args) -> int:
    from consensuslab.checkers.conformance.explore import conform
    from consensuslab.models.params import parse_assignments
    from consensuslab.commands.user_code import load_adapter, model_for

    if args.module:
        from consensuslab.loader import module_protocols

        for name in args.module:
            module_protocols(name)
    adapter = load_adapter(args.impl)
    model = model_for(adapter, args.protocol, parse_assignments(args.param), args.variant, args.scenario)
    result = conform(model, adapter, search=args.search, max_states=args.max_states, max_depth=args.max_depth,
                     time_limit=args.time_limit, memory_limit=args.memory_limit, walks=args.walks, steps=args.steps, seed=args.seed,
                     progress=not (args.quiet or args.json))
    divergence = result.divergence
    if divergence is not None:
        if args.trace_out:
            _write_trace(args.trace_out, model, divergence)
            result.trace_file = args.trace_out
        if not args.no_test:
            result.test_file = _write_test(args, model, divergence)
    if args.json:
        print_json(result.to_json())
    else:
        print(report(model, result, quiet=args.quiet))
    return result.exit_code


def _write_trace(path: str, model, divergence) -> None:
    from consensuslab.traces.itf import write_trace
    from consensuslab.traces.result import Violation

    try:
        write_trace(path, model, divergence.trace, Violation("diverges", "behaviour", divergence.trace), "violation")
    except OSError as exc:
        raise UsageError(f"cannot write {path!r}: {exc.strerror}") from None


def _write_test(args, model, divergence) -> str:
    from consensuslab.checkers.conformance.regression import regression_test

    path = args.test_out
    if path is None:
        stem = re.sub(r"\W+", "_", os.path.splitext(os.path.basename(args.impl.split(".py:")[0]))[0])
        cls = args.impl.rpartition(":")[2] if ":" in args.impl else ""
        path = f"test_regression_{stem}{'_' + cls.lower() if cls else ''}.py"
    try:
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(regression_test(divergence, args.impl, model.meta(), path))
    except OSError as exc:
        raise UsageError(f"cannot write {path!r}: {exc.strerror}") from None
    return path


def report(model, result, quiet: bool = False) -> str:
    meta = result.model_meta
    params = ", ".join(f"{k}={v}" for k, v in meta["params"].items())
    name = meta["protocol"] + (f" --variant {meta['variant']}" if meta.get("variant") else "")
    name += f" --scenario {meta['scenario']}" if meta.get("scenario") else ""
    status = {"ok": "CONFORMS", "violation": "DIVERGES", "incomplete": "INCOMPLETE"}[result.status]
    walked = f"{result.walks:,} walks, " if result.search == "walks" else f"{result.states:,} model states, "
    lines = [f"{name} ({params}): {status}" + (f" (stopped by {result.stopped_by})" if result.stopped_by else ""),
             f"  {walked}{result.steps:,} steps driven, depth {result.depth}, {result.seconds:.2f} s"]
    d = result.divergence
    if d is None:
        return "\n".join(lines)
    lines.append(f"  divergence at step {d.step}: {d.message}")
    if not quiet:
        lines.extend(side_by_side(model, d))
    if result.trace_file:
        lines.append(f"  model trace written to {result.trace_file}")
    if result.test_file:
        lines.append(f"  regression test written to {result.test_file} (it fails until the implementation is fixed)")
    return "\n".join(lines)


def side_by_side(model, d) -> list[str]:
    """The model's trace, per step what changed, and beside it what the implementation shows."""
    from consensuslab.render.text import rows

    out = []
    for k, label, changes, fault, *_ in rows(model, d.trace):
        out.append(f"  {k:<2} {label}{'  [fault]' if fault else ''}")
        out.extend(f"       model  {c.text()}" for c in changes)
        seen = d.beside[k - 1] if k - 1 < len(d.beside) else {}
        shown = {f: v for f, v in seen.items() if f != "node"}
        if shown:
            out.append(f"       impl   {seen.get('node')}: " + ", ".join(f"{f}={_show(v)}" for f, v in shown.items()))
        if k == d.step and d.field is not None:
            out.append(f"       !!     {d.field}: model {_show(d.model)}, implementation {_show(d.implementation)}")
    if d.step == 0 and d.field is not None:
        out.append(f"  0  initial state: {d.field}: model {_show(d.model)}, implementation {_show(d.implementation)}")
    return out


def _show(value) -> str:
    if isinstance(value, (set, frozenset)):
        return "{" + ", ".join(sorted(map(str, value))) + "}"
    return str(value)
