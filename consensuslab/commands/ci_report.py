"""What a CI service reads from a ``check-all`` run: JUnit XML, a GitHub step summary, ``::error`` annotations.

JUnit keeps the common schema (testsuites/testsuite/testcase with failure,
error and skipped) that CI services render without a plugin, plus a
``timestamp``, the ``hostname`` and per-test ``<properties>`` (kind, states,
trace file).  An unmet expectation is a ``<failure>``; an exception raised
while checking (a crash in the protocol's code) is an ``<error>`` naming the
file and line.  The summary is a markdown table, failures first; annotations
point at the protocol file and line of the failing property or scenario.
"""

from __future__ import annotations

import datetime
import os
import socket
import xml.etree.ElementTree as ET

from consensuslab.checkers.variants.expect import FAIL, INCOMPLETE, PASS

TAGS = {PASS: "PASS", FAIL: "FAIL", INCOMPLETE: "INCOMPLETE"}


def failure_text(out) -> str:
    """The rendered failure (trace included) if it was made, else what the outcome itself says."""
    from consensuslab.render.text import render_outcome

    text = out.report or render_outcome(out)
    if out.error is not None and out.error.get("traceback"):
        text += "\n" + out.error["traceback"].rstrip()
    return text


def line(out) -> str:
    note = " (cached)" if out.cached else ""
    return f"{TAGS[out.verdict]:<10} {out.name:<45} {out.message} [{out.seconds:.2f} s{note}]"


def where(out) -> str | None:
    """``file:line`` a failure points at, the file relative to the current directory where it lies below it."""
    loc = out.location or {}
    if not loc.get("file"):
        return None
    return f"{relative(loc['file'])}:{loc.get('line') or 1}"


def relative(path: str) -> str:
    rel = os.path.relpath(path)
    return path if rel.startswith("..") else rel


def write_junit(path: str, outcomes: list, strict: bool = False, not_run: list[str] | None = None,
                started: datetime.datetime | None = None) -> None:
    """One testsuite per protocol, one testcase per scenario, under a testsuites root."""
    stamp = (started or datetime.datetime.now(datetime.timezone.utc)).isoformat(timespec="seconds")
    root = ET.Element("testsuites", name="consensuslab check-all", timestamp=stamp)
    by_protocol: dict[str, list] = {}
    for out in outcomes:
        by_protocol.setdefault(out.protocol, []).append(out)
    for name in not_run or []:
        by_protocol.setdefault(name.partition(":")[0], []).append(name)
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0, "time": 0.0}
    host = socket.gethostname()
    for protocol, group in by_protocol.items():
        suite = ET.SubElement(root, "testsuite", name=protocol, timestamp=stamp, hostname=host)
        counts = {"tests": len(group), "failures": 0, "errors": 0, "skipped": 0, "time": 0.0}
        for out in group:
            counted = _testcase(suite, protocol, out, strict)
            if counted:
                counts[counted] += 1
            counts["time"] += 0.0 if isinstance(out, str) else out.seconds
        for key, value in counts.items():
            suite.set(key, f"{value:.3f}" if key == "time" else str(value))
            totals[key] += value
    for key, value in totals.items():
        root.set(key, f"{value:.3f}" if key == "time" else str(value))
    ET.indent(root)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)


def _testcase(suite, protocol: str, out, strict: bool) -> str | None:
    """Add one testcase; the count it adds to (failures, errors or skipped; None for a pass)."""
    if isinstance(out, str):  # not run: the run was interrupted first
        case = ET.SubElement(suite, "testcase", classname=f"consensuslab.{protocol}",
                             name=out.partition(":")[2], time="0.000")
        ET.SubElement(case, "skipped", message="not run: the run was interrupted")
        return "skipped"
    case = ET.SubElement(suite, "testcase", classname=f"consensuslab.{protocol}", name=out.scenario,
                         time=f"{out.seconds:.3f}")
    if out.location and out.location.get("file") and out.verdict == FAIL:
        case.set("file", relative(out.location["file"]))
        case.set("line", str(out.location.get("line") or 1))
    props = ET.SubElement(case, "properties")
    for name, value in (("kind", out.kind), ("expect", out.expect), ("status", out.status),
                        ("distinct_states", out.distinct_states), ("trace_file", out.trace_file),
                        ("stopped_by", out.stopped_by), ("cached", out.cached or None), ("peak_mb", out.peak_mb)):
        if value is not None:
            ET.SubElement(props, "property", name=name, value=str(value).lower() if value is True else str(value))
    if out.error is not None:
        err = ET.SubElement(case, "error", message=out.message, type=out.error.get("type") or "error")
        err.text = f"{where(out) or '?'}: {out.error.get('message')}\n{failure_text(out)}"
        return "errors"
    if out.verdict == FAIL or (out.verdict == INCOMPLETE and strict):
        ET.SubElement(case, "failure", message=out.message, type=out.verdict).text = failure_text(out)
        return "failures"
    if out.verdict == INCOMPLETE:
        ET.SubElement(case, "skipped", message=out.message)
        return "skipped"
    ET.SubElement(case, "system-out").text = out.message
    return None


def markdown_summary(outcomes: list, seconds: float, strict: bool = False, not_run: list[str] | None = None,
                     title: str = "consensuslab check-all") -> str:
    """A markdown table of the run, failures first, for ``$GITHUB_STEP_SUMMARY``."""
    counts = {v: sum(1 for o in outcomes if o.verdict == v) for v in (PASS, FAIL, INCOMPLETE)}
    cached = sum(1 for o in outcomes if o.cached)
    head = [f"## {title}", "",
            f"{counts[FAIL]} failed, {counts[PASS]} passed, {counts[INCOMPLETE]} incomplete"
            + (f", {len(not_run)} not run (interrupted)" if not_run else "")
            + f" of {len(outcomes) + len(not_run or [])} scenarios ({cached} from the cache) in {seconds:.1f} s"
            + (" (strict: incomplete counts as failed)" if strict else ""), "",
            "| | scenario | kind | expected | outcome | states | seconds |",
            "| :-: | --- | --- | --- | --- | ---: | ---: |"]
    icon = {FAIL: ":x:", INCOMPLETE: ":x:" if strict else ":warning:", PASS: ":white_check_mark:"}
    rows = []
    for out in sorted(outcomes, key=lambda o: {FAIL: 0, INCOMPLETE: 1, PASS: 2}[o.verdict]):
        at = where(out) if out.verdict == FAIL else None
        outcome = _cell(out.message) + (f" ({_cell(at)})" if at else "") + (" (cached)" if out.cached else "")
        rows.append(f"| {icon[out.verdict]} | `{out.name}` | {out.kind} | {_cell(out.expect)} | {outcome} | "
                    f"{out.distinct_states:,} | {out.seconds:.2f} |")
    rows += [f"| :pause_button: | `{name}` | | | not run (interrupted) | | |" for name in not_run or []]
    return "\n".join(head + rows) + "\n"


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def annotations(outcomes: list, strict: bool = False) -> list[str]:
    """GitHub workflow commands: ``::error`` for each failure (``::warning`` for incomplete), at its file and line."""
    lines = []
    for out in outcomes:
        if out.verdict == PASS:
            continue
        level = "error" if out.verdict == FAIL or strict else "warning"
        loc = out.location or {}
        props = [f"title={_prop('consensuslab ' + out.name)}"]
        if loc.get("file") and out.verdict == FAIL:
            props = [f"file={_prop(relative(loc['file']))}", f"line={loc.get('line') or 1}"] + props
        lines.append(f"::{level} {','.join(props)}::{_data(out.message)}")
    return lines


def _data(text: str) -> str:
    return str(text).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _prop(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")
