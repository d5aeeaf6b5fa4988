"""``consensuslab check``: explore every state within bounds and report."""

from __future__ import annotations

import sys

from consensuslab.commands._common import (
    add_model_options, build_definition, non_negative_int, positive_float, positive_int, print_json, save_trace,
    trace_written,
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
    p.add_argument("--property", action="append", metavar="NAME",
                   help="check only this property (repeatable); can name a liveness property "
                        "that the scenario leaves off")
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    p.add_argument("--quiet", action="store_true", help="no progress, no trace rendering")
    p.add_argument("--engine", choices=("auto", "compiled", "interpreted"), default="auto",
                   help="compiled: pack states into integers and memoise the spec's actions and invariants "
                        "on the bits they read (TLA+-style specs, breadth-first); interpreted: call them on "
                        "every state; auto (default): compiled where the spec allows it")
    from consensuslab.checkers.scale import add_options as add_scale_options  # issue 9: --workers, --symmetry, ...
    add_scale_options(p)
    p.add_argument("--reduction", choices=("por",),  # issue 9: checkers/reduction.py
                   help="por: partial-order reduction of independent steps of different nodes "
                        "(actor protocols, safety properties only)")
    p.set_defaults(handler=run)


def run(args) -> int:
    from consensuslab.checkers.explicit import check
    from consensuslab.checkers.liveness import opt_in_liveness
    from consensuslab.models.trace import render_text

    model = build_definition(args).compile()
    if args.property:
        select_properties(model, args.property)
    skipped = [] if args.property else opt_in_liveness(model)
    if args.no_deadlock:
        model.check_deadlock = False
    scenario = model.definition.scenario
    max_depth = args.max_depth if args.max_depth is not None else (scenario.max_depth if scenario else None)
    from consensuslab.checkers.scale import check_scaled, scaled  # issue 9

    if getattr(args, "reduction", None):
        from consensuslab.checkers.reduction import check_cli as check_reduced  # issue 9: --reduction por
        result = check_reduced(model, args, max_depth)
    elif scaled(args):
        result = check_scaled(model, args, max_depth)
    elif model.liveness:
        result = check_with_liveness(model, args, max_depth)
    else:
        result = check(model, search=args.search, max_states=args.max_states, max_depth=max_depth,
                       time_limit=args.time_limit, progress=not args.quiet, spill_after=args.spill_after,
                       engine=getattr(args, "engine", "auto"))
    if skipped:
        result.extra["liveness_not_checked"] = skipped
    save_trace(args, model, result)
    if result.extra.get("checkpoint_saved"):  # --checkpoint: say where, and how to resume
        from consensuslab.checkers.checkpoint import saved_line
        print(saved_line(result), file=sys.stderr)
    v = result.violation
    if args.json:
        print_json(result.to_json())
        return result.exit_code
    print(summary(result))
    if v is not None:
        if v.trace is not None and not args.quiet:
            print(render_text(model, v.trace, v))
        elif v.trace is None:
            print(f"=> {v.property}: {v.message}")
        if v.kind == "liveness" and v.trace is not None and v.trace.loop == len(v.trace):
            print(f"   (the behaviour stays in state {v.trace.loop} forever: no fair action is enabled there)")
        if v.trace_file:
            print(trace_written(v))
    return result.exit_code


def select_properties(model, names: list[str]) -> None:
    """Restrict ``model`` to the named properties, including ones the scenario or protocol switches off."""
    from consensuslab.errors import UsageError
    from consensuslab.models.properties import ALWAYS, ALWAYS_STEP, LIVENESS_KINDS, SOMETIMES, collect_properties

    definition = model.definition
    had_own = "disabled_properties" in vars(definition)
    saved = definition.disabled_properties
    definition.disabled_properties = ()
    try:
        every = collect_properties(definition)
    finally:
        if had_own:
            definition.disabled_properties = saved
        else:
            del definition.disabled_properties
    known = {p.name for p in every}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise UsageError(f"{model.protocol} has no property {unknown[0]!r}; valid: {', '.join(sorted(known))}")
    props = [p for p in every if p.name in set(names)]
    model.properties = props
    model.invariants = [p for p in props if p.kind == ALWAYS]
    model.step_properties = [p for p in props if p.kind == ALWAYS_STEP]
    model.witnesses = [p for p in props if p.kind == SOMETIMES]
    model.liveness = [p for p in props if p.kind in LIVENESS_KINDS]


def check_with_liveness(model, args, max_depth):
    """Safety first (shortest counterexamples, no graph kept), then liveness over the stored graph.

    Dead ends are judged by the liveness pass: one where a goal never held is a
    liveness counterexample (the more precise verdict), any other one that is
    not ``done`` is still reported as a deadlock.
    """
    import time

    from consensuslab.checkers.explicit import check
    from consensuslab.checkers.liveness import check_liveness
    from consensuslab.errors import UsageError

    if getattr(args, "symmetry", None):
        raise UsageError("symmetry reduction is unsound for liveness; check liveness without --symmetry")
    deadlock, model.check_deadlock = model.check_deadlock, False
    started = time.monotonic()
    safety = check(model, search=args.search, max_states=args.max_states, max_depth=max_depth,
                   time_limit=args.time_limit, progress=not args.quiet, engine=getattr(args, "engine", "auto"))
    model.check_deadlock = deadlock
    if safety.status != "ok":
        safety.properties.update({p.name: "unknown" for p in model.liveness})
        safety.extra.update({"incomplete": safety.status == "incomplete", "warnings": [],
                             "liveness_checked": False})
        return safety
    left = None if args.time_limit is None else max(args.time_limit - (time.monotonic() - started), 0.001)
    result = check_liveness(model, max_states=args.max_states, max_depth=max_depth, time_limit=left)
    result.properties = {**safety.properties, **result.properties}
    result.extra["liveness_checked"] = True
    result.extra["safety_seconds"] = round(safety.seconds, 3)
    result.extra["liveness_seconds"] = round(result.seconds, 3)
    result.seconds += safety.seconds
    return result


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
    for w in result.extra.get("warnings", ()):
        stats += f"\n  warning: {w}"
    if result.extra.get("liveness_not_checked"):
        stats += (f"\n  liveness not checked (no scenario names it; use --property): "
                  f"{', '.join(result.extra['liveness_not_checked'])}")
    props = "  " + ", ".join(f"{k}: {v}" for k, v in result.properties.items()) if result.properties else ""
    return "\n".join(x for x in (head, stats, props) if x)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(1)
