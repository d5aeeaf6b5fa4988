"""``consensuslab check``: explore every state within bounds and report."""

from __future__ import annotations

import sys

from consensuslab.commands._common import (
    add_model_options, build_definition, non_negative_int, positive_float, positive_int, print_json,
)


def register(sub) -> None:
    p = sub.add_parser("check", help="model-check a protocol exhaustively",
                       description="Explore every reachable state within the bounds and check the "
                                   "protocol's properties. Exit codes: 0 ok, 11 deadlock, 12 safety "
                                   "violation, 13 liveness violation, 3 incomplete, 2 bad input.")
    add_model_options(p)
    p.add_argument("--search", choices=("bfs", "dfs"), default="bfs",
                   help="bfs finds shortest counterexamples (default)")
    p.add_argument("--max-states", type=positive_int, metavar="N")
    p.add_argument("--max-depth", type=non_negative_int, metavar="N")
    p.add_argument("--time-limit", type=positive_float, metavar="SECONDS")
    p.add_argument("--no-deadlock", action="store_true", help="do not report states without successors")
    p.add_argument("--trace-out", metavar="FILE", help="write the counterexample as ITF JSON")
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    p.add_argument("--quiet", action="store_true", help="no progress, no trace rendering")
    p.set_defaults(handler=run)


def run(args) -> int:
    from consensuslab.checkers.explicit import check
    from consensuslab.models.itf import write_trace
    from consensuslab.models.trace import render_text

    model = build_definition(args).compile()
    if args.no_deadlock:
        model.check_deadlock = False
    scenario = model.definition.scenario
    max_depth = args.max_depth if args.max_depth is not None else (scenario.max_depth if scenario else None)
    result = check(model, search=args.search, max_states=args.max_states, max_depth=max_depth,
                   time_limit=args.time_limit, progress=not args.quiet)
    v = result.violation
    if v is not None and v.trace is not None and args.trace_out:
        write_trace(args.trace_out, model, v.trace, v, result.status)
        v.trace_file = args.trace_out
    if args.json:
        print_json(result.to_json())
        return result.exit_code
    print(summary(result))
    if v is not None:
        if v.trace is not None and not args.quiet:
            print(render_text(model, v.trace, v))
        elif v.trace is None:
            print(f"=> {v.property}: {v.message}")
        if v.trace_file:
            print(f"trace written to {v.trace_file} ({len(v.trace)} steps); replay: consensuslab replay {v.trace_file}")
    return result.exit_code


def summary(result) -> str:
    meta = result.model_meta
    params = ", ".join(f"{k}={v}" for k, v in meta["params"].items())
    name = meta["protocol"] + (f" --variant {meta['variant']}" if meta.get("variant") else "")
    name += f" --scenario {meta['scenario']}" if meta.get("scenario") else ""
    head = f"{name} ({params}): {result.status.upper()}"
    if result.status == "incomplete":
        head += f" (stopped by {result.stopped_by}; nothing found so far)"
    elif result.violation is not None:
        head += f" - {result.violation.property} ({result.violation.kind})"
    stats = (f"  {result.distinct_states:,} distinct states, {result.states_generated:,} generated, "
             f"depth {result.depth}, {result.seconds:.2f} s ({result.states_per_second:,.0f} states/s)")
    props = "  " + ", ".join(f"{k}: {v}" for k, v in result.properties.items()) if result.properties else ""
    return "\n".join(x for x in (head, stats, props) if x)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(1)
