"""``consensuslab check-all``: every protocol's scenarios against their expected outcomes, for CI.

Exit 0 when every expectation is met (an expected violation counts when it is
found and its trace replays), 1 when one is not, 2 for bad input.  A scenario
that runs out of ``--time-limit`` is ``incomplete`` (reported with the states
it covered) and fails the run only with ``--strict``.  ``--junit`` writes the
common JUnit XML schema (testsuite/testcase/failure/skipped) that CI services
render, so no plugin is needed there.
"""

from __future__ import annotations

import sys
import time

from consensuslab.commands.options import add_limit_options, add_module_option, positive_float
from consensuslab.commands.output import print_json, write_failed
from consensuslab.files import OutputError
from consensuslab.render.text import render_outcome

EXIT_UNMET = 1


def register(sub) -> None:
    p = sub.add_parser("check-all", help="check every scenario against its expected outcome (CI)",
                       description="Run every registered protocol's scenarios (or those of --protocol) and "
                                   "compare each outcome with the scenario's expectation, including "
                                   "expected violations of broken variants. Exit codes: 0 every "
                                   "expectation met, 1 one is not, 2 bad input.")
    p.add_argument("--protocol", action="append", default=[], metavar="NAME",
                   help="only this protocol: a name, a file path.py[:Class] or a --module name (repeatable)")
    p.add_argument("--scenario", action="append", default=[], metavar="NAME",
                   help="only scenarios of this name (repeatable)")
    add_module_option(p)
    p.add_argument("--time-limit", type=positive_float, metavar="SECONDS",
                   help="per scenario; a scenario that runs out is 'incomplete', not failed")
    add_limit_options(p, with_time=False)  # --memory-limit: the process's cap, for every scenario
    p.add_argument("--strict", action="store_true", help="count incomplete scenarios as failures")
    p.add_argument("--traces", metavar="DIR", help="write each counterexample as ITF JSON into DIR")
    p.add_argument("--junit", metavar="FILE", help="write a JUnit XML report to FILE")
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    p.set_defaults(handler=run)


def run(args) -> int:
    from consensuslab.loader import selected_classes
    from consensuslab.checkers.variants.expect import FAIL, INCOMPLETE, run_scenario, scenario_names
    from consensuslab.errors import UsageError

    classes = selected_classes(args.protocol, args.module)
    plan = [(cls, s) for cls in classes for s in scenario_names(cls)
            if not args.scenario or s in args.scenario]
    if not plan:
        raise UsageError("no scenario matches the selection")
    started = time.monotonic()
    outcomes = []
    for cls, scenario in plan:
        out = run_scenario(cls, scenario, args.time_limit, args.traces)
        outcomes.append(out)
        if not args.json:
            print(_line(out), flush=True)
            if out.verdict == FAIL:
                print(_indent(render_outcome(out)), flush=True)
    counts = {v: sum(1 for o in outcomes if o.verdict == v) for v in ("pass", FAIL, INCOMPLETE)}
    failed = counts[FAIL] + (counts[INCOMPLETE] if args.strict else 0)
    if args.junit:
        try:
            write_junit(args.junit, outcomes, args.strict)
        except OutputError as exc:  # the results are still printed; the failure is one more line, exit 2
            write_failed(args, exc)
            args.junit = None
    seconds = time.monotonic() - started
    if args.json:
        print_json({"status": "failed" if failed else "passed", "counts": counts, "seconds": round(seconds, 3),
                    "strict": args.strict, "scenarios": [o.to_json() for o in outcomes]})
    else:
        print(f"{len(outcomes)} scenarios: {counts['pass']} passed, {counts[FAIL]} failed, "
              f"{counts[INCOMPLETE]} incomplete ({seconds:.1f} s)")
        if args.junit:
            print(f"JUnit report written to {args.junit}")
    return EXIT_UNMET if failed else 0


def _line(out) -> str:
    tag = {"pass": "PASS", "fail": "FAIL", "incomplete": "INCOMPLETE"}[out.verdict]
    return f"{tag:<10} {out.name:<45} {out.message} [{out.seconds:.2f} s]"


def _indent(text: str) -> str:
    return "\n".join("    " + line for line in text.splitlines())


def write_junit(path: str, outcomes: list, strict: bool = False) -> None:
    """One testsuite per protocol, one testcase per scenario, under a testsuites root."""
    import xml.etree.ElementTree as ET

    root = ET.Element("testsuites", name="consensuslab check-all")
    by_protocol: dict[str, list] = {}
    for out in outcomes:
        by_protocol.setdefault(out.protocol, []).append(out)
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0, "time": 0.0}
    for protocol, group in by_protocol.items():
        suite = ET.SubElement(root, "testsuite", name=protocol)
        counts = {"tests": len(group), "failures": 0, "errors": 0, "skipped": 0,
                  "time": sum(o.seconds for o in group)}
        for out in group:
            case = ET.SubElement(suite, "testcase", classname=f"consensuslab.{protocol}",
                                 name=out.scenario, time=f"{out.seconds:.3f}")
            if out.verdict == "fail" or (out.verdict == "incomplete" and strict):
                failure = ET.SubElement(case, "failure", message=out.message, type=out.verdict)
                failure.text = render_outcome(out)
                counts["failures"] += 1
            elif out.verdict == "incomplete":
                ET.SubElement(case, "skipped", message=out.message)
                counts["skipped"] += 1
            else:
                ET.SubElement(case, "system-out").text = out.message
        for key, value in counts.items():
            suite.set(key, f"{value:.3f}" if key == "time" else str(value))
            totals[key] += value
    for key, value in totals.items():
        root.set(key, f"{value:.3f}" if key == "time" else str(value))
    ET.indent(root)
    from consensuslab.files import write_atomic

    write_atomic(path, ET.tostring(root, encoding="utf-8", xml_declaration=True), "JUnit report")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(1)
