"""``consensuslab trace show|minimize``: read a counterexample as a person, or shrink it.

Both replay the file against its model first (``checkers.replay``), so what is
rendered or shrunk is the model's real behaviour, and a stale file fails with
the step where it diverges (exit 1) instead of being drawn wrongly.
"""

from __future__ import annotations

import sys

from consensuslab.commands.options import non_negative_int
from consensuslab.errors import EXIT_REPLAY_FAILED, ReplayError, UsageError
from consensuslab.traces.shrink import SEARCH_BUDGET


def register(sub) -> None:
    p = sub.add_parser("trace", help="render or minimise an ITF counterexample",
                       description="Replay an ITF trace against its model, then render it "
                                   "(show) or shrink it to the fewest faults and steps (minimize).")
    verbs = p.add_subparsers(dest="trace_verb", metavar="VERB")
    show = verbs.add_parser("show", help="render a trace: text, mermaid, svg or html",
                            description="text: the changed fields per step (coloured on a terminal); "
                                        "mermaid: a sequenceDiagram; svg: a message sequence chart; "
                                        "html: one self-contained page with chart, step slider and state tree.")
    show.add_argument("file", metavar="FILE")
    show.add_argument("--protocol", metavar="PROTOCOL", help="replay against this protocol (a name or path.py[:Class])")
    show.add_argument("--format", choices=("text", "mermaid", "svg", "html"), default="text")
    show.add_argument("-o", "--output", metavar="OUT", help="write to OUT instead of stdout")
    show.set_defaults(handler=run_show)
    mini = verbs.add_parser("minimize", help="shrink a trace to the fewest faults, then the fewest steps",
                            description="Exit 0 when a minimised trace was found (and written with -o).")
    mini.add_argument("file", metavar="FILE")
    mini.add_argument("--protocol", metavar="PROTOCOL", help="replay against this protocol (a name or path.py[:Class])")
    mini.add_argument("-o", "--output", metavar="OUT", help="write the minimised ITF trace to OUT")
    mini.add_argument("--quiet", action="store_true", help="do not print the minimised trace")
    mini.add_argument("--search-states", type=non_negative_int, default=SEARCH_BUDGET, metavar="N",
                      help="states each bounded breadth-first search may visit, for a fault-free or shorter "
                           f"counterexample (default {SEARCH_BUDGET:,}; 0: no search)")
    mini.set_defaults(handler=run_minimize)
    p.set_defaults(handler=lambda args: _usage(p))


def _usage(parser) -> int:
    raise UsageError("trace: say which verb: show or minimize")


def _replay(path: str, protocol: str | None = None):
    from consensuslab.commands.replay import replay_file

    try:
        return replay_file(path, protocol)
    except ReplayError as exc:
        print(f"replay failed: {exc}", file=sys.stderr)
        return None


def _write(path: str | None, text: str) -> None:
    if path is None:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        return
    try:
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text if text.endswith("\n") else text + "\n")
    except OSError as exc:
        raise UsageError(f"cannot write {path!r}: {exc.strerror}") from None


def run_show(args) -> int:
    from consensuslab.render import render

    done = _replay(args.file, args.protocol)
    if done is None:
        return EXIT_REPLAY_FAILED
    color = args.format == "text" and args.output is None and sys.stdout.isatty()
    _write(args.output, render(args.format, done.model, done.trace, done.violation, color=color))
    if args.output:
        print(f"wrote {args.format} to {args.output}", file=sys.stderr)
    return 0


def run_minimize(args) -> int:
    from consensuslab.checkers.replay import replay_document
    from consensuslab.render.text import render_text
    from consensuslab.traces.itf import trace_document, write_trace
    from consensuslab.traces.shrink import shrink

    done = _replay(args.file, args.protocol)
    if done is None:
        return EXIT_REPLAY_FAILED
    try:
        shrunk = shrink(done.model, done.trace, done.violation, args.search_states)
    except ReplayError as exc:
        raise UsageError(f"cannot minimise {args.file}: {exc}") from None
    v = done.violation
    # the result must replay like any saved trace: check it before claiming it
    replay_document(trace_document(done.model, shrunk.trace, v, "violation"), done.model)
    if args.output:
        write_trace(args.output, done.model, shrunk.trace, v, "violation")
    if not args.quiet:
        print(render_text(done.model, shrunk.trace, v))
    faults = lambda c: sum(c.values())  # noqa: E731
    print(f"{v.property}: {shrunk.summary}")
    print(f"minimised {shrunk.before_steps} -> {len(shrunk.trace)} steps, "
          f"{faults(shrunk.before_faults)} -> {faults(shrunk.after_faults)} faults "
          f"({shrunk.tests} re-executions)")
    for line in shrunk.searched:
        print(f"  {line}")
    if args.output:
        print(f"written to {args.output}; replay: consensuslab replay {args.output}")
    return 0
