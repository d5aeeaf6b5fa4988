"""``consensuslab export-log``: the per-node logs a behaviour of the model would leave (for ``validate``)."""

from __future__ import annotations

from consensuslab.commands.options import add_model_options, build_definition, non_negative_int
from consensuslab.errors import UsageError


def register(sub) -> None:
    p = sub.add_parser("export-log", help="write the per-node logs of a behaviour of the model",
                       description="Draw a random behaviour of the model (or replay an ITF trace) and write "
                                   "one JSON-lines log per node: each event names the model action and the "
                                   "node's state after it; receives link to their sends. Network faults "
                                   "(and, unless --keep-faults, crashes and restarts) are not logged: "
                                   "`validate` must infer them.")
    add_model_options(p)
    p.add_argument("--out", required=True, metavar="DIR", help="directory for NODE.jsonl files")
    p.add_argument("--steps", type=non_negative_int, default=100, metavar="N", help="steps at most (default 100)")
    p.add_argument("--seed", type=non_negative_int, default=0, metavar="N", help="random seed (default 0)")
    p.add_argument("--fault-rate", type=float, default=0.1, metavar="P",
                   help="chance of taking a fault where one is enabled (default 0.1)")
    p.add_argument("--from-trace", metavar="FILE", help="export this ITF trace instead of a random behaviour")
    p.add_argument("--keep-faults", action="store_true", help="log crashes and restarts of nodes too")
    p.set_defaults(handler=run)


def run(args) -> int:
    from consensuslab.checkers.validation.export import export_trace, random_behaviour
    from consensuslab.logs.write import write_per_node

    if not 0 <= args.fault_rate <= 1:
        raise UsageError(f"--fault-rate must be between 0 and 1, got {args.fault_rate}")
    if args.from_trace:
        from consensuslab.commands.replay import replay_file
        from consensuslab.errors import ReplayError

        try:
            done = replay_file(args.from_trace, args.protocol)
        except ReplayError as exc:
            raise UsageError(f"{args.from_trace}: does not replay: {exc}") from None
        model, trace = done.model, done.trace
    else:
        model = build_definition(args).compile()
        trace = random_behaviour(model, args.steps, args.seed, args.fault_rate)
    events = export_trace(model, trace, hide_faults=not args.keep_faults)
    try:
        files = write_per_node(args.out, events)
    except OSError as exc:
        raise UsageError(f"cannot write logs to {args.out!r}: {exc.strerror}") from None
    logged = sum(1 for e in events if e["kind"] != "init")
    print(f"wrote {len(files)} logs to {args.out}: {len(events)} events, {logged} of the behaviour's "
          f"{len(trace)} steps and each node's initial state ({len(trace) - logged} steps unlogged: the "
          f"network's, or faults)")
    return 0
