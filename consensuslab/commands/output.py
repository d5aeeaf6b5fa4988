"""What the verbs print and write: JSON, the one-paragraph summary of a result, the trace file."""

from __future__ import annotations

import json
import sys


def print_json(obj) -> None:
    json.dump(obj, sys.stdout, indent=2, sort_keys=False, default=str)
    sys.stdout.write("\n")


def save_trace(args, model, result) -> None:
    """Write the counterexample as ITF when ``--trace-out`` asks, and record where."""
    from consensuslab.traces.itf import write_trace

    v = result.violation
    if v is not None and v.trace is not None and getattr(args, "trace_out", None):
        write_trace(args.trace_out, model, v.trace, v, result.status)
        v.trace_file = args.trace_out


def trace_written(v) -> str:
    return f"trace written to {v.trace_file} ({len(v.trace)} steps); replay: consensuslab replay {v.trace_file}"


def summary(result) -> str:
    meta = result.model_meta
    params = ", ".join(f"{k}={','.join(map(str, v)) if isinstance(v, list) else v}"  # a collection as -p takes it
                       for k, v in meta["params"].items())
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
