"""``consensuslab replay``: re-execute a trace file against its model and confirm the violation."""

from __future__ import annotations

from consensuslab.commands.output import print_json
from consensuslab.errors import EXIT_REPLAY_FAILED, ReplayError


def register(sub) -> None:
    p = sub.add_parser("replay", help="re-execute an ITF trace against its model",
                       description="Exit with the code `check` gave for the violation (12 safety, "
                                   "11 deadlock, 13 liveness; 0 for a behaviour `validate` explained a log "
                                   "with) when it reproduces; 1, naming the step, when it does not; 2 for a "
                                   "missing or malformed file.")
    p.add_argument("file", metavar="FILE")
    p.add_argument("--protocol", metavar="PROTOCOL",
                   help="the protocol to replay against (a name or path.py[:Class]) instead of the one the trace names")
    p.add_argument("--json", action="store_true")
    p.add_argument("--quiet", action="store_true", help="do not print the trace")
    p.set_defaults(handler=run)


def replay_file(path: str, protocol: str | None = None):
    """Read a trace file, build the model it names (or ``protocol``), and re-execute it (``Replayed``)."""
    from consensuslab.checkers.replay import replay_document
    from consensuslab.loader import model_for_trace
    from consensuslab.traces.itf import load_document

    doc = load_document(path)
    return replay_document(doc, model_for_trace(doc["#meta"], protocol))


def run(args) -> int:
    from consensuslab.render.text import render_text

    try:
        done = replay_file(args.file, args.protocol)
    except ReplayError as exc:
        if args.json:
            print_json({"status": "diverged", "step": exc.step, "message": str(exc)})
        else:
            print(f"replay failed: {exc}")
        return EXIT_REPLAY_FAILED
    v = done.violation
    if args.json:
        print_json({"status": "reproduced", "protocol": done.model.protocol, "property": v.property,
                    "kind": v.kind, "trace_length": len(done.trace), "exit_code": done.exit_code})
    else:
        if not args.quiet:
            print(render_text(done.model, done.trace, None if v.kind == "behaviour" else v))
        if v.kind == "behaviour":
            print(f"reproduced: a behaviour of the model ({len(done.trace)} steps; {v.property})")
        else:
            print(f"reproduced: {v.property} ({v.kind}) after {len(done.trace)} steps")
    return done.exit_code
