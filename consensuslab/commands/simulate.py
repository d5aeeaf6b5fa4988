"""``consensuslab simulate``: deep random exploration (random walks, then Hypothesis), shrunk counterexamples.

Same JSON shape, statuses and exit codes as ``check``; ``ok`` means only that
no violation was found in the examples run, which the JSON counts (``walks``
and ``hypothesis_examples`` say how many of each).
"""

from __future__ import annotations

from consensuslab.commands.options import (
    add_limit_options,
    add_model_options,
    build_definition,
    non_negative_int,
    positive_int,
    time_left,
)
from consensuslab.commands.output import print_json, save_trace, trace_written


def register(sub) -> None:
    from consensuslab.checkers.simulation.defaults import (
        DEFAULT_EXAMPLES,
        DEFAULT_STEPS,
        DEFAULT_WALK_STATES,
        DEFAULT_WALKS,
    )

    p = sub.add_parser("simulate", help="explore random behaviours (random walks, then Hypothesis) and shrink failures",
                       description="Run random behaviours of the protocol: first fast random walks (swarm "
                                   "testing: each walk mutes some action kinds and names), then Hypothesis "
                                   "stateful testing; shrink the first violation found and report it. "
                                   "Same seed, same result. "
                                   "Exit codes: 0 nothing found, 11 deadlock, 12 safety violation, "
                                   "3 stopped by a limit, 2 bad input, 130 interrupted.")
    add_model_options(p)
    p.add_argument("--walks", type=non_negative_int, default=DEFAULT_WALKS, metavar="N",
                   help=f"random walks to run first, 0 for none (default {DEFAULT_WALKS:,})")
    p.add_argument("--walk-states", type=positive_int, default=DEFAULT_WALK_STATES, metavar="N",
                   help="start no more walks once this many distinct states have been reached "
                        f"(default {DEFAULT_WALK_STATES:,}; bounds time and memory on large configurations)")
    p.add_argument("--examples", type=positive_int, default=DEFAULT_EXAMPLES, metavar="N",
                   help=f"Hypothesis behaviours to try after the walks (default {DEFAULT_EXAMPLES})")
    p.add_argument("--steps", type=positive_int, default=DEFAULT_STEPS, metavar="N",
                   help=f"maximum actions per walk and per Hypothesis behaviour (default {DEFAULT_STEPS})")
    p.add_argument("--seed", type=non_negative_int, default=0, metavar="N",
                   help="random seed (default 0); the same seed gives the same result")
    p.add_argument("--hypothesis-shrink", action="store_true",
                   help="also run Hypothesis's own shrinker on a failure Hypothesis finds "
                        "(slower; the action-level shrink always runs)")
    p.add_argument("--no-deadlock", action="store_true", help="do not report states without successors")
    p.add_argument("--trace-out", metavar="FILE", help="write the shrunk counterexample as ITF JSON")
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    p.add_argument("--quiet", action="store_true", help="no trace rendering")
    add_limit_options(p)
    p.set_defaults(handler=run)


def run(args) -> int:
    from consensuslab.checkers.simulation.simulate import simulate
    from consensuslab.commands.output import summary
    from consensuslab.render.text import render_text

    model = build_definition(args).compile()
    if args.no_deadlock:
        model.check_deadlock = False
    result = simulate(model, examples=args.examples, steps=args.steps, seed=args.seed, walks=args.walks,
                      walk_states=args.walk_states, hypothesis_shrink=args.hypothesis_shrink,
                      time_limit=time_left(args))
    save_trace(args, model, result)
    v = result.violation
    if args.json:
        print_json(result.to_json())
        return result.exit_code
    print(summary(result))
    print(coverage_text(result.extra))
    if v is not None:
        if not args.quiet:
            print(render_text(model, v.trace, v))
        if v.trace_file:
            print(trace_written(v, result.model_meta))
    return result.exit_code


def coverage_text(extra: dict) -> str:
    """Examples run, where the failure came from, and what fired (a rule that never fires is a model smell)."""
    line = (f"  {extra['examples']:,} examples ({extra['walks']:,} random walks, "
            f"{extra['hypothesis_examples']:,} Hypothesis), {extra['steps']:,} steps (seed {extra['seed']})")
    if extra.get("examples_to_failure") is not None:
        by = "a random walk" if extra.get("found_by") == "walk" else "Hypothesis"
        line += (f"; failure in example {extra['examples_to_failure']} ({by}) after {extra['unshrunk_length']} "
                 f"steps, shrunk")
    fired = ", ".join(f"{k} {n:,}" for k, n in extra["coverage"]["kinds"].items())
    lines = [line, f"  fired: {fired or 'nothing'}"]
    if extra["never_fired"]:
        lines.append(f"  never fired: {', '.join(extra['never_fired'])}")
    return "\n".join(lines)
