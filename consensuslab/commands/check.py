"""``consensuslab check``: explore every state within bounds and report."""

from __future__ import annotations

import sys
import time

from consensuslab.commands.options import (
    add_limit_options,
    add_model_options,
    build_definition,
    non_negative_int,
    positive_int,
    time_left,
    user_defined,
)
from consensuslab.commands.output import print_json, save_trace, summary, trace_written


def register(sub) -> None:
    p = sub.add_parser("check", help="model-check a protocol exhaustively",
                       description="Explore every reachable state within the bounds and check the "
                                   "protocol's properties. Exit codes: 0 ok, 11 deadlock, 12 safety "
                                   "violation, 13 liveness violation, 3 incomplete, 2 bad input.")
    add_model_options(p)
    p.add_argument("--search", choices=("bfs", "dfs"), default="bfs",
                   help="bfs finds shortest counterexamples (default)")
    p.add_argument("--max-states", type=positive_int, metavar="N",
                   help="stop at N distinct states; the result is then incomplete (exit 3)")
    p.add_argument("--max-depth", type=non_negative_int, metavar="N",
                   help="explore no step past depth N; the result is then incomplete (exit 3)")
    add_limit_options(p)
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
                        "every state; auto (default): where the spec compiles, a short interpreted probe, "
                        "then the two race and the first to finish answers (with --max-states, compiled: "
                        "the engines cut a level differently); the same verdict, counts and trace either way")
    add_scale_options(p)
    p.add_argument("--reduction", choices=("por",),
                   help="por: partial-order reduction of independent steps of different nodes "
                        "(actor protocols, safety properties only)")
    p.set_defaults(handler=run)


def add_scale_options(p) -> None:
    g = p.add_argument_group("scale (safety only)")
    g.add_argument("--symmetry", action="store_true",
                   help="explore one state per orbit of the protocol's declared node symmetry")
    g.add_argument("--workers", type=positive_int, default=1, metavar="N",
                   help="breadth-first search in N threads (compiled specs) or forked processes, each "
                        "expanding its share of every level (with --swarm: N searches at a time)")
    g.add_argument("--cluster", metavar="ADDRESS",
                   help="run the partitioned search on Dask: tcp://HOST:PORT or local:N (needs the "
                        "'distributed' extra)")
    g.add_argument("--swarm", type=positive_int, metavar="N",
                   help="N randomised bounded depth-first searches (finds bugs; never reports ok)")
    g.add_argument("--seed", type=non_negative_int, default=0, metavar="N", help="seed of --swarm (default 0)")
    g.add_argument("--spill-after", type=positive_int, metavar="N",
                   help="keep at most N states of a breadth-first level in memory, the rest on disk "
                        "(default: spill only when the machine runs short of memory)")
    g.add_argument("--checkpoint", metavar="DIR",
                   help="save the search to DIR when --time-limit/--max-states stops it; resume from DIR")


def run(args) -> int:
    from consensuslab.checkers.run import check
    from consensuslab.render.text import render_text

    started = time.monotonic()
    model = build_definition(args).compile()  # a spec file of your own is linted here (its initial states too)
    linted = time.monotonic() - started
    if args.property:
        model.select_properties(args.property)
    if args.no_deadlock:
        model.check_deadlock = False
    scenario = model.definition.scenario
    max_depth = args.max_depth if args.max_depth is not None else (scenario.max_depth if scenario else None)
    result = check(model, search=args.search, max_states=args.max_states, max_depth=max_depth,
                   time_limit=time_left(args), progress=not args.quiet, spill_after=args.spill_after,
                   engine=args.engine, workers=args.workers, symmetry=args.symmetry, reduction=args.reduction,
                   cluster=args.cluster, swarm=args.swarm, seed=args.seed, checkpoint=args.checkpoint)
    pinned = _pin_missed(args, scenario, result)
    if pinned:
        result.extra.setdefault("warnings", []).append(pinned)
    if user_defined(type(model.definition)):  # linted: what the run cost before its search is the check's too
        result.seconds += linted
        result.extra["lint_seconds"] = round(linted, 3)
    save_trace(args, model, result)
    if args.checkpoint:  # say where it saved and how to resume, or why it did not
        from consensuslab.checkers.scale.checkpoint import saved_line
        from consensuslab.commands.output import write_failed

        line = saved_line(result)
        if line:
            print(line, file=sys.stderr)
        if result.extra.get("checkpoint_error"):
            write_failed(args, result.extra["checkpoint_error"])
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
            print(trace_written(v, result.model_meta))
    return result.exit_code


def _pin_missed(args, scenario, result) -> str | None:
    """The warning when a whole run of a scenario that pins its count (``Scenario(states=N)``) found another,
    as ``check-all`` would report it; None where the count is not the scenario's (parameters or a variant
    given, a limit, symmetry, a reduction or another depth changed what was counted)."""
    if (scenario is None or scenario.states is None or result.status != "ok" or result.stopped_by
            or args.param or args.variant or args.symmetry or args.reduction or args.cluster or args.swarm
            or args.max_depth is not None or args.max_states is not None
            or result.distinct_states == scenario.states):
        return None
    return (f"scenario {scenario.name} pins {scenario.states:,} distinct states (Scenario(states=...)); this run "
            f"found {result.distinct_states:,}")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(1)
