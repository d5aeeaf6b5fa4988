"""``consensuslab diff PROTOCOL --variant A --variant B``: what one variant admits and the other not.

Exit 0 when both reach the same projected values, 12 when they differ (each
difference printed with a shortest witness trace), 3 when a limit stopped
either exploration (differences listed then may be artefacts of the limit).
"""

from __future__ import annotations

import json
import os

from consensuslab.commands.options import (
    add_limit_options,
    add_module_option,
    non_negative_int,
    positive_int,
    protocol_class_for,
    time_left,
)
from consensuslab.commands.output import print_json, write_failed
from consensuslab.files import OutputError
from consensuslab.errors import EXIT_INCOMPLETE, EXIT_OK, EXIT_SAFETY, UsageError

UNMODIFIED = ("none", "default")


def register(sub) -> None:
    p = sub.add_parser("diff", help="compare two variants of a protocol on a view",
                       description="Explore two variants of a protocol on the same scenario and report the "
                                   "values of a view (e.g. decided values) that one reaches and the other "
                                   "does not, each with a shortest witness trace. Exit codes: 0 identical, "
                                   "12 different, 3 incomplete, 2 bad input.")
    p.add_argument("protocol", metavar="PROTOCOL", help="protocol name, or a file: path.py[:ClassName]")
    p.add_argument("--variant", action="append", default=[], metavar="NAME", required=True,
                   help="give exactly two; `none` (or `default`) is the unmodified protocol")
    p.add_argument("-p", "--param", action="append", default=[], metavar="KEY=VALUE")
    p.add_argument("--scenario", help="the scenario both variants run on (its parameters, network, faults)")
    add_module_option(p)
    p.add_argument("--view", metavar="NAME",
                   help="the view to compare (default: the protocol's diff_view, else the whole state)")
    p.add_argument("--max-states", type=positive_int, metavar="N", help="per variant")
    p.add_argument("--max-depth", type=non_negative_int, metavar="N")
    add_limit_options(p, "stop after SECONDS (both explorations and the witnesses): the comparison is then "
                         "incomplete (exit 3)")
    p.add_argument("--trace-out-prefix", metavar="PREFIX",
                   help="write each witness as ITF JSON to PREFIX<variant>-<k>.itf.json")
    p.add_argument("--limit", type=positive_int, default=5, metavar="N",
                   help="witnesses printed per side (default 5; --json lists all)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=run)


def definition_for(cls, args, variant: str | None):
    """``cls`` on the chosen scenario with ``variant`` exactly (``None`` even where the scenario names one)."""
    from consensuslab.errors import ConsensuslabError
    from consensuslab.models.blame import setup_error
    from consensuslab.models.params import parse_assignments

    chosen = cls.scenario_named(args.scenario) if args.scenario else None
    params = dict(chosen.params) if chosen else {}
    params.update(parse_assignments(args.param))
    try:
        return cls(params, variant, chosen)
    except ConsensuslabError:
        raise
    except Exception as exc:  # a user's protocol whose setup raised
        raise setup_error(cls, exc) from None


def run(args) -> int:
    from consensuslab.checkers.variants.differential import diff

    if len(args.variant) != 2:
        raise UsageError(f"diff needs exactly two --variant options, got {len(args.variant)}")
    names = [None if v in UNMODIFIED else v for v in args.variant]
    labels = [v or "none" for v in names]
    if labels[0] == labels[1]:
        raise UsageError(f"both --variant options name {labels[0]}; compare two different variants")
    from consensuslab.checkers.search.limits import watchdog
    from consensuslab.checkers.search.lint import lint
    from consensuslab.commands.options import user_defined

    cls = protocol_class_for(args)
    models = []
    for v in names:
        model = definition_for(cls, args, v).compile()
        if user_defined(cls):
            lint(model, time_limit=time_left(args))
        models.append(model)
    scenario = models[0].definition.scenario
    max_depth = args.max_depth if args.max_depth is not None else (scenario.max_depth if scenario else None)
    with watchdog(time_left(args)):  # a step of the user's code that never returns ends the exploration
        result = diff(models[0], models[1], args.view, args.max_states, max_depth, time_left(args))
    files = {}
    if args.trace_out_prefix:
        try:
            files = write_witnesses(args.trace_out_prefix, result, labels)
        except OutputError as exc:  # the comparison is still printed; the failure is one more line, exit 2
            write_failed(args, exc)
    if args.json:
        print_json(to_json(result, labels, files))
    else:
        print(report(result, labels, files, args.limit))
    return {"identical": EXIT_OK, "different": EXIT_SAFETY}.get(result.status, EXIT_INCOMPLETE)


def _sides(result, labels):
    return ((labels[0], labels[1], result.only_a, result.a), (labels[1], labels[0], result.only_b, result.b))


def write_witnesses(prefix: str, result, labels) -> dict:
    """(label, k) -> file; each ITF document's ``#meta.diff`` says what it witnesses."""
    from consensuslab.files import write_atomic
    from consensuslab.models.values import show
    from consensuslab.traces.itf import trace_document

    folder = os.path.dirname(prefix)
    if folder:
        try:
            os.makedirs(folder, exist_ok=True)
        except OSError as exc:
            raise OutputError(f"cannot create {folder!r}: {exc.strerror}") from None
    files = {}
    for label, other, diffs, ex in _sides(result, labels):
        for k, d in enumerate(diffs, start=1):
            if d.trace is None:  # not rebuilt within the time limit
                continue
            doc = trace_document(ex.model, d.trace)
            doc["#meta"]["diff"] = {"view": result.view, "value": show(d.value), "reachable_in": label,
                                    "unreachable_in": other}
            path = f"{prefix}{label}-{k}.itf.json"
            write_atomic(path, json.dumps(doc, indent=1) + "\n", "witness trace")
            files[(label, k)] = path
    return files


def report(result, labels, files, limit: int) -> str:
    from consensuslab.models.values import show
    from consensuslab.render.text import render_text

    model = result.a.model
    lines = [f"{model.protocol}: --variant {labels[0]} vs --variant {labels[1]}"
             + (f" --scenario {model.scenario}" if model.scenario else "")
             + f", view {result.view}: {result.status.upper()}"]
    for label, ex in zip(labels, (result.a, result.b)):
        stop = f" (stopped by {ex.stopped_by})" if ex.stopped_by else ""
        lines.append(f"  {label}: {ex.states:,} states, {len(ex.first)} distinct {result.view} values{stop}")
    for label, other, diffs, ex in _sides(result, labels):
        lines.append(f"only with {label} ({len(diffs)}), never with {other}:")
        for k, d in enumerate(diffs[:limit], start=1):
            if d.trace is None:
                lines.append(f"  [{k}] {result.view} = {show(d.value)}: witness not rebuilt (time limit)")
                continue
            lines.append(f"  [{k}] {result.view} = {show(d.value)}: witness, {len(d.trace)} steps")
            lines.extend("      " + line for line in render_text(ex.model, d.trace).splitlines())
            if (label, k) in files:
                lines.append(f"      written to {files[(label, k)]}")
        if len(diffs) > limit:
            lines.append(f"  ... and {len(diffs) - limit} more (--limit, --json)")
    return "\n".join(lines)


def to_json(result, labels, files) -> dict:
    from consensuslab.models.values import show

    model = result.a.model
    out = {"protocol": model.protocol, "scenario": model.scenario, "params": model.params, "view": result.view,
           "variants": labels, "status": result.status,
           "states": {label: ex.states for label, ex in zip(labels, (result.a, result.b))},
           "stopped_by": {label: ex.stopped_by for label, ex in zip(labels, (result.a, result.b))},
           "only": {}}
    for label, _other, diffs, _ex in _sides(result, labels):
        out["only"][label] = [{"value": show(d.value), "steps": None if d.trace is None else len(d.trace),
                               "trace_file": files.get((label, k))}
                              for k, d in enumerate(diffs, start=1)]
    return out
