"""``consensuslab quorum check|split|block|synthesize|sweep``: Z3 analysis of quorum systems.

Exit codes: 0 the requirement holds (or the set was found with its minimality proved),
12 a counterexample, 3 unknown within ``--time-limit``/``--memory-limit`` (for the whole
command, however many solver calls it makes), 2 bad input.
"""

from __future__ import annotations

import json
import re

from consensuslab.errors import EXIT_INCOMPLETE, EXIT_OK, EXIT_SAFETY, UsageError

SYSTEMS = ("threshold", "majority", "byzantine", "weighted", "flexible", "hierarchical", "explicit", "fbas")


def register(subparsers) -> None:
    p = subparsers.add_parser("quorum", help="check, split, block and synthesize quorum systems with Z3",
                              description=__doc__)
    verbs = p.add_subparsers(dest="verb", metavar="VERB", parser_class=type(p))
    for verb, text in (("check", "does the system meet the requirements of --faults?"),
                       ("split", "smallest splitting set, with proof of minimality"),
                       ("block", "smallest blocking set, with proof of minimality")):
        v = verbs.add_parser(verb, help=text, description=text)
        _system_options(v)
        if verb == "check":
            v.add_argument("--faults", default="crash:0", metavar="KIND:AMOUNT",
                           help="crash:F, byzantine:F, masking:F, crash-weight:X or byzantine-weight:X "
                                "(default crash:0)")
        _common(v)
        v.set_defaults(handler=run)
    s = verbs.add_parser("synthesize", help="smallest n and quorum size for each f",
                         description="Smallest n and q per f (crash, byzantine, masking); for flexible, "
                                     "the largest |Q1| surviving f crashes and the smallest |Q2|; for "
                                     "weighted, the lightest faulty set that breaks the system.")
    s.add_argument("--model", required=True, choices=("crash", "byzantine", "masking", "flexible", "weighted"))
    s.add_argument("--f", default="1..5", metavar="A..B", help="range of f (default 1..5)")
    s.add_argument("-n", type=_nodes, help="flexible: number of nodes (default 2*max(f)+1)")
    s.add_argument("--weights", help="weighted: comma-separated stakes")
    s.add_argument("--threshold", default="2/3", help="weighted: quorum fraction (default 2/3)")
    _common(s)
    s.set_defaults(handler=run)
    w = verbs.add_parser("sweep", help="the table over f = 1..F for every model")
    w.add_argument("--max-f", type=int, default=10, metavar="F", help="1..1000 (default 10)")
    _common(w)
    w.set_defaults(handler=run)
    x = verbs.add_parser("execute", help="turn a quorum split into an execution that breaks agreement",
                         description="Z3 looks for two quorums of the protocol's quorum system that share "
                                     "no (correct) node; the model checker then finds the execution in "
                                     "which they decide differently. Exit 12 with the trace written, 0 "
                                     "when the quorums always intersect, 3 when no answer within limits.")
    from consensuslab.commands.options import add_limit_options, add_model_options, positive_int

    add_model_options(x)
    x.add_argument("--quorum-size", type=positive_int, metavar="Q", help="override the protocol's quorum size")
    x.add_argument("--max-states", type=positive_int, metavar="N")
    add_limit_options(x)
    x.add_argument("--trace-out", metavar="FILE")
    x.add_argument("--json", action="store_true")
    x.set_defaults(handler=_execute)
    p.set_defaults(handler=lambda args: (p.print_help(), 2)[1])


def _execute(args) -> int:
    from consensuslab.checkers.quorum.execute import execute
    from consensuslab.commands.options import protocol_class_for, time_left
    from consensuslab.commands.output import save_trace, trace_written
    from consensuslab.models.params import parse_assignments
    from consensuslab.render.text import render_text

    cls = protocol_class_for(args)
    done = execute(cls, parse_assignments(args.param), args.variant, args.scenario, args.quorum_size,
                   args.max_states, time_left(args))
    if done.check is not None:
        save_trace(args, done.model, done.check)
    v = done.check.violation if done.check is not None else None
    if args.json:
        print(json.dumps(done.to_json(), indent=2, default=str))
    else:
        q = done.quorum
        print(f"{cls.name}: {q.system}, {q.requirement}: {q.status}" + (f" - {q.why}" if q.why else ""))
        if q.witness is not None:
            w = q.witness
            print(f"  witness: quorum_a={_set(w.quorum_a)} quorum_b={_set(w.quorum_b)} faulty={_set(w.faulty)}")
        if done.status == "violated":
            print(f"  execution: {done.property} violated after {len(v.trace)} steps "
                  f"({done.check.distinct_states:,} states searched)")
            print(render_text(done.model, v.trace, v))
            if v.trace_file:
                print(trace_written(v, done.model.meta()))
        elif done.status == "not-found":
            print(f"  no execution within the bounds breaks {done.property} "
                  f"({done.check.distinct_states:,} states): the protocol needs more than the quorum split")
    return {"violated": EXIT_SAFETY, "holds": EXIT_OK, "not-found": EXIT_OK}.get(done.status, EXIT_INCOMPLETE)


def _nodes(text: str) -> int:
    """A number of nodes: a whole number in 1..MAX_NODES (one argparse error line otherwise)."""
    import argparse

    from consensuslab.checkers.quorum.systems import MAX_NODES

    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number of nodes, got {text!r}") from None
    if not 1 <= n <= MAX_NODES:
        raise argparse.ArgumentTypeError(f"expected 1..{MAX_NODES} nodes, got {n}")
    return n


def _set(nodes) -> str:
    return "{" + ", ".join(nodes) + "}"


def _system_options(v) -> None:
    v.add_argument("--system", required=True, metavar="KIND", help=", ".join(SYSTEMS))
    v.add_argument("-n", type=_nodes, help="number of nodes")
    v.add_argument("-q", type=_nodes, help="quorum size (threshold)")
    v.add_argument("-f", dest="sys_f", type=int, help="byzantine: faults the quorum size is chosen for")
    v.add_argument("--q1", type=_nodes, help="flexible: phase-1 quorum size")
    v.add_argument("--q2", type=_nodes, help="flexible: phase-2 quorum size")
    v.add_argument("--weights", help="weighted: comma-separated stakes, e.g. 40,20,20,10,10")
    v.add_argument("--threshold", default="2/3", help="weighted: a quorum has more than this fraction")
    v.add_argument("--groups", help="hierarchical: group sizes, e.g. 3x3 or 3,5,3")
    v.add_argument("--quorums", help='explicit: quorums, e.g. "a,b;b,c;a,c"')
    v.add_argument("--file", help="fbas: Stellar crawler JSON")


def _common(v) -> None:
    from consensuslab.commands.options import add_limit_options

    add_limit_options(v, "stop after SECONDS (all solver calls together): the answer is then unknown (exit 3)")
    v.add_argument("--json", action="store_true", help="print one JSON object")


def build_system(args):
    from consensuslab.checkers.quorum import systems as m
    kind = args.system

    def need(name, value):
        if value is None:
            raise UsageError(f"--system {kind} needs {name}")
        return value
    if kind == "threshold":
        return m.Threshold(need("-n", args.n), need("-q", args.q))
    if kind == "majority":
        return m.majority(need("-n", args.n))
    if kind == "byzantine":
        n = need("-n", args.n)
        return m.Threshold(n, args.q) if args.q is not None else m.byzantine(n, need("-f", args.sys_f))
    if kind == "flexible":
        return m.Flexible(need("-n", args.n), need("--q1", args.q1), need("--q2", args.q2))
    if kind == "weighted":
        return m.Weighted.of(_list(need("--weights", args.weights)), args.threshold)
    if kind == "hierarchical":
        return m.Hierarchical.majorities(_groups(need("--groups", args.groups)))
    if kind == "explicit":
        return m.Explicit.parse(need("--quorums", args.quorums))
    if kind == "fbas":
        from consensuslab.checkers.quorum.fbas import load_stellar
        return load_stellar(need("--file", args.file))
    raise UsageError(f"unknown system {kind!r}; valid: {', '.join(SYSTEMS)}")


def _list(text: str) -> list[str]:
    items = [x.strip() for x in text.split(",")]
    if not all(items):
        raise UsageError(f"expected comma-separated numbers, got {text!r}")
    return items


def _groups(text: str) -> list[int]:
    m = re.fullmatch(r"\s*(\d+)\s*x\s*(\d+)\s*", text)
    sizes = [int(m[2])] * int(m[1]) if m else [int(x) for x in _list(text) if x.isdigit()]
    if not sizes or (not m and len(sizes) != len(_list(text))) or min(sizes) < 1:
        raise UsageError(f"expected groups like 3x3 or 3,5,3, got {text!r}")
    return sizes


#: the largest f synthesize and sweep take (each f costs a few solver calls on 3f+1 nodes)
MAX_F = 1000


def _range(text: str) -> range:
    m = re.fullmatch(r"\s*(\d+)\s*(?:\.\.\s*(\d+))?\s*", text)
    if not m or (m[2] is not None and int(m[2]) < int(m[1])):
        raise UsageError(f"expected f as A..B or A with whole numbers, got {text!r}")
    if int(m[2] or m[1]) > MAX_F:
        raise UsageError(f"f must be at most {MAX_F}, got {text!r}")
    return range(int(m[1]), int(m[2] or m[1]) + 1)


def run(args) -> int:
    """The verb, within one budget: ``--time-limit`` shared by every solver call (``encode.Deadline``), and a
    watchdog for the Python between them; a limit reached is ``unknown``, exit 3."""
    import z3

    from consensuslab.checkers.quorum.encode import Deadline
    from consensuslab.checkers.search.limits import STOPS, LimitReached, interrupted_by, limit_behind, watchdog
    from consensuslab.commands.options import time_left

    z3.main_ctx()  # made before the watchdog is armed: a context cut half-way cannot be freed
    limit = time_left(args)
    args.deadline = Deadline(limit)
    verb = {"check": _check, "split": _minimal, "block": _minimal, "synthesize": _synthesize, "sweep": _sweep}
    try:
        with watchdog(limit):
            return verb[args.verb](args)
    except STOPS as exc:
        if not isinstance(exc, (LimitReached, MemoryError)):
            raise  # Ctrl-C: the command line says so, and exits 130
        print(f"unknown: the {interrupted_by(exc)} was reached before an answer (not a proof of safety)")
        return EXIT_INCOMPLETE
    except Exception as exc:
        reached = limit_behind(exc)  # the watchdog fired inside a z3 call, which wrapped its exception
        if reached is None:
            raise
        print(f"unknown: the {reached} was reached before an answer (not a proof of safety)")
        return EXIT_INCOMPLETE


def _out(args, data, human) -> None:
    if args.json:
        print(json.dumps(data, indent=2))
    else:
        from rich.console import Console

        human(Console(highlight=False, soft_wrap=True))


def _check(args) -> int:
    from consensuslab.checkers.quorum.queries import check
    from consensuslab.checkers.quorum.systems import requirements_for
    kind, _, amount = args.faults.partition(":")
    if not amount:
        raise UsageError(f"expected --faults KIND:AMOUNT such as byzantine:1, got {args.faults!r}")
    reqs = requirements_for(kind, amount)
    report = check(build_system(args), reqs, args.deadline)

    def human(c):
        d = report.decisive
        c.print(f"{d.system}, faults {args.faults}: [bold]{report.status}[/bold]")
        for r in report.results:
            c.print(f"  {r.requirement}: {r.status} ({r.seconds * 1000:.1f} ms, {r.encoding})")
        if report.status == "violated":
            w = d.witness
            if w.quorum_a or w.quorum_b:
                c.print(f"  quorum A: {', '.join(w.quorum_a)}\n  quorum B: {', '.join(w.quorum_b)}")
            c.print(f"  faulty:   {', '.join(w.faulty) or '(none)'}\n  why: {d.why}")
        elif report.status == "unknown":
            c.print(f"  {d.why} (not a proof of safety)")
    _out(args, report.to_json(), human)
    return {"holds": EXIT_OK, "violated": EXIT_SAFETY}.get(report.status, EXIT_INCOMPLETE)


def _minimal(args) -> int:
    from consensuslab.checkers.quorum.queries import smallest_blocking_set, smallest_splitting_set
    system = build_system(args)
    res = (smallest_splitting_set if args.verb == "split" else smallest_blocking_set)(system, args.deadline)

    def human(c):
        c.print(f"{res.system}: smallest {res.kind} set: [bold]{res.status}[/bold]")
        if res.nodes or res.status == "found":
            c.print(f"  size {res.size}: {', '.join(res.nodes) or '(empty)'}")
        below = [q for q in res.queries if q[1] == "unsat"]
        if res.lower_bound_proved and below:
            c.print(f"  minimal: no {res.kind} set of size <= {below[-1][0]} (UNSAT)")
        c.print(f"  {len(res.queries)} solver queries, {res.seconds:.2f} s, {res.encoding}")
        if res.status == "unknown":
            why = "the time-limit was reached" if args.deadline.passed() else "the solver gave up"
            c.print(f"  unknown: {why} before an answer (not a proof of safety)")
    _out(args, res.to_json(), human)
    return EXIT_OK if res.status in ("found", "none") and (res.lower_bound_proved or res.status == "none") \
        else EXIT_INCOMPLETE


def _synthesize(args) -> int:
    from consensuslab.checkers.quorum.synth import Unknown, largest_faulty_weight, synthesize
    try:
        if args.model == "weighted":
            from consensuslab.checkers.quorum.systems import Weighted
            if not args.weights:
                raise UsageError("--model weighted needs --weights")
            bound = largest_faulty_weight(Weighted.of(_list(args.weights), args.threshold), args.deadline)
            _out(args, bound.to_json(), lambda c: c.print(
                f"breaks at faulty weight {bound.breaking} of {bound.total} ({bound.requirement}, by "
                f"{', '.join(bound.witness)}); any lighter faulty set is tolerated"))
            return EXIT_OK
        rows = synthesize(args.model, _range(args.f), args.n, args.deadline)
    except Unknown as exc:
        print(f"unknown: {exc}")
        return EXIT_INCOMPLETE
    _out(args, {"model": args.model, "rows": [r.to_json() for r in rows]},
         lambda c: c.print(_table(args.model, rows)))
    return EXIT_OK


def _table(model, rows):
    from rich.table import Table

    t = Table(title=model, title_justify="left")
    cols = ["f", "n", "q1", "q2"] if model == "flexible" else ["f", "n", "q"]
    for col in cols + ["checks", "ms"]:
        t.add_column(col, justify="right")
    for r in rows:
        vals = [r.f, r.n, r.q1, r.q2] if model == "flexible" else [r.f, r.n, r.q]
        t.add_row(*map(str, vals), str(r.checks), f"{r.seconds * 1000:.0f}")
    return t


def _sweep(args) -> int:
    from consensuslab.checkers.quorum.synth import Unknown, sweep
    if not 1 <= args.max_f <= MAX_F:
        raise UsageError(f"--max-f must be between 1 and {MAX_F}, not {args.max_f}")
    try:
        table = sweep(args.max_f, time_limit=args.deadline)
    except Unknown as exc:
        print(f"unknown: {exc}")
        return EXIT_INCOMPLETE
    _out(args, {m: [r.to_json() for r in rows] for m, rows in table.items()},
         lambda c: [c.print(_table(m, rows)) for m, rows in table.items()])
    return EXIT_OK
