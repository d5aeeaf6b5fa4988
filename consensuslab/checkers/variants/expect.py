"""Checking a scenario against its declared expectation: what ``check-all``, the pytest
plugin and generated ``test_NAME.py`` files share, so they cannot disagree.

An expected violation passes only when the checker finds it (the right kind
and, where declared, the right property) *and* its trace replays from the
ITF document alone: a counterexample nobody can re-run is not evidence.  A
run stopped by its time limit is ``incomplete`` (with the states covered),
which is neither a pass nor a failure; callers decide (``--strict``).
"""

from __future__ import annotations

import os
import time
from typing import Any

import attrs

from consensuslab.errors import ConsensuslabError
from consensuslab.traces.result import CheckResult

PASS, FAIL, INCOMPLETE = "pass", "fail", "incomplete"
#: the name given to the one run of a protocol that declares no scenarios
DEFAULT = "(default)"


@attrs.define
class Outcome:
    protocol: str
    scenario: str
    expect: str
    expect_property: str | None
    verdict: str  # pass | fail | incomplete
    message: str
    result: CheckResult | None = None
    model: Any = None
    trace_file: str | None = None
    seconds: float = 0.0

    @property
    def name(self) -> str:
        return f"{self.protocol}:{self.scenario}"

    @property
    def states(self) -> int:
        return self.result.distinct_states if self.result is not None else 0

    def to_json(self) -> dict[str, Any]:
        r = self.result
        return {"protocol": self.protocol, "scenario": self.scenario, "expect": self.expect,
                "expect_property": self.expect_property, "verdict": self.verdict,
                "status": r.status if r else "error", "message": self.message,
                "distinct_states": r.distinct_states if r else 0, "stopped_by": r.stopped_by if r else None,
                "property": r.violation.property if r and r.violation else None,
                "trace_file": self.trace_file, "seconds": round(self.seconds, 3)}


def run_model(model, time_limit: float | None = None, max_states: int | None = None,
              max_depth: int | None = None) -> CheckResult:
    """Check ``model`` exactly as ``consensuslab check`` does (safety, then the liveness its scenario names)."""
    from consensuslab.checkers.run import check

    return check(model, max_states=max_states, max_depth=max_depth, time_limit=time_limit, progress=False)


def scenario_names(cls) -> list[str]:
    return [s.name for s in cls.scenarios] or [DEFAULT]


def run_scenario(cls, scenario: str, time_limit: float | None = None,
                 traces_dir: str | None = None) -> Outcome:
    """Configure ``cls`` for ``scenario``, check it, and judge the result against the expectation."""
    from consensuslab.checkers.search.lint import lint
    from consensuslab.models.definition import source_of

    chosen = cls.scenario_named(scenario) if scenario != DEFAULT else None
    expect = chosen.expect if chosen else "ok"
    prop = chosen.expect_property if chosen else None
    started = time.monotonic()
    out = Outcome(cls.name, scenario, expect, prop, FAIL, "")
    try:
        model = cls.configure(scenario=chosen.name if chosen else None).compile()
        if source_of(cls) is not None:
            lint(model)
        out.model = model
        out.result = run_model(model, time_limit, max_depth=chosen.max_depth if chosen else None)
    except ConsensuslabError as exc:
        out.message = f"error: {exc}"
        out.seconds = time.monotonic() - started
        return out
    except Exception as exc:  # a bug in the protocol (or ours): one scenario fails, the run goes on
        out.message = f"error: {type(exc).__name__}: {exc}"
        out.seconds = time.monotonic() - started
        return out
    out.verdict, out.message = judge(out.result, expect, prop, chosen.states if chosen else None)
    v = out.result.violation
    if v is not None and v.trace is not None:
        if traces_dir:
            out.trace_file = _write(model, out.result, traces_dir, out.name)
        if out.verdict == PASS:
            problem = _replays(model, out.result)
            if problem:
                out.verdict, out.message = FAIL, f"the counterexample does not replay: {problem}"
    out.seconds = time.monotonic() - started
    return out


def judge(result: CheckResult, expect: str, prop: str | None, states: int | None) -> tuple[str, str]:
    """(verdict, one-line message) for ``result`` against the scenario's expectation."""
    v = result.violation
    found = _found(result)
    if result.status == "incomplete":
        return INCOMPLETE, (f"incomplete: stopped by {result.stopped_by} after {result.distinct_states:,} "
                            f"states, depth {result.depth}; expected {expect}, nothing found so far")
    if found != expect:
        got = found + (f" of {v.property} ({v.kind})" if v is not None else "")
        return FAIL, f"expected {expect}{f' of {prop}' if prop else ''}, got {got}" + (
            f": {v.message}" if v is not None and v.message else "")
    if prop and v is not None and v.property != prop:
        return FAIL, f"expected {expect} of {prop}, but {v.property} failed first ({v.kind})"
    if expect == "ok":
        if states is not None and result.distinct_states != states:
            return FAIL, f"ok, but {result.distinct_states:,} distinct states where the scenario pins {states:,}"
        return PASS, f"ok, {result.distinct_states:,} states" + (" (as pinned)" if states is not None else "")
    return PASS, f"{expect} of {v.property} found as expected ({len(v.trace) if v.trace else 0} steps, replays)"


def _found(result: CheckResult) -> str:
    if result.status == "violation" and result.violation is not None and result.violation.kind == "liveness":
        return "liveness"
    return result.status


def _replays(model, result: CheckResult) -> str | None:
    """None when the counterexample re-executes from its ITF document, else why not."""
    from consensuslab.checkers.replay import replay_document
    from consensuslab.traces.itf import trace_document

    v = result.violation
    try:
        replayed = replay_document(trace_document(model, v.trace, v, result.status), model)
    except ConsensuslabError as exc:
        return str(exc)
    if replayed.exit_code != result.exit_code or len(replayed.trace) != len(v.trace):
        return "the replayed trace ends differently"
    return None


def _write(model, result: CheckResult, folder: str, name: str) -> str:
    from consensuslab.traces.itf import write_trace

    os.makedirs(folder, exist_ok=True)
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name.replace(":", "--"))
    path = os.path.join(folder, f"{safe}.itf.json")
    write_trace(path, model, result.violation.trace, result.violation, result.status)
    result.violation.trace_file = path
    return path
