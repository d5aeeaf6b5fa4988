"""Checking a scenario against its declared expectation: what ``check-all``, the pytest plugin and
generated ``test_NAME.py`` files share, so they cannot disagree.

Each scenario is checked as its ``kind`` says: ``exhaustive`` by the full
search (``consensuslab check``), ``bounded`` by the breadth-first search
stopped at its ``max_states``/``max_depth`` (reaching the bound is the
expected end, and ``ok`` means nothing was found within it), ``simulate`` by
seeded random walks and Hypothesis examples (``consensuslab simulate``).

An expected violation passes only when the checker finds it (the right kind
and, where declared, the right property) *and* its trace replays from the
ITF document alone: a counterexample nobody can re-run is not evidence.  A
run stopped by its time or memory limit is ``incomplete`` (with the states
covered), which is neither a pass nor a failure; callers decide (``--strict``).
An exception raised while checking (a crash in the protocol's code) is a
failure that carries ``error``: its type, file and line.
"""

from __future__ import annotations

import os
import time
from typing import Any

import attrs

from consensuslab.checkers.variants.locate import crash_details, property_location, scenario_location
from consensuslab.errors import ConsensuslabError
from consensuslab.models.scenario import BOUNDED, EXHAUSTIVE, SIMULATE
from consensuslab.traces.result import CheckResult

PASS, FAIL, INCOMPLETE = "pass", "fail", "incomplete"
#: the name given to the one run of a protocol that declares no scenarios
DEFAULT = "(default)"
#: how a bounded scenario's search is meant to end
BOUND_REACHED = ("max-states", "max-depth")
MEMORY_LIMIT = "memory-limit"


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
    #: what is kept of ``result`` when the outcome crosses a process or comes from the cache
    kind: str = EXHAUSTIVE
    status: str = "error"
    distinct_states: int = 0
    stopped_by: str | None = None
    violated: str | None = None
    #: a crash while checking: type, message, file, line, traceback
    error: dict | None = None
    #: where a failure points in the protocol's source: {"file", "line"}
    location: dict | None = None
    #: the rendered failure (trace included), made where the model was
    report: str | None = None
    cached: bool = False
    peak_mb: float | None = None

    @property
    def name(self) -> str:
        return f"{self.protocol}:{self.scenario}"

    @property
    def states(self) -> int:
        return self.result.distinct_states if self.result is not None else self.distinct_states

    @property
    def interrupted(self) -> bool:
        return self.stopped_by == "interrupted"

    def settle(self) -> None:
        """Copy what the JSON keeps from ``result`` into the outcome's own fields."""
        r = self.result
        if r is not None:
            self.status, self.distinct_states, self.stopped_by = r.status, r.distinct_states, r.stopped_by
            self.violated = r.violation.property if r.violation else None

    def to_json(self) -> dict[str, Any]:
        self.settle()
        return {"protocol": self.protocol, "scenario": self.scenario, "kind": self.kind, "expect": self.expect,
                "expect_property": self.expect_property, "verdict": self.verdict, "status": self.status,
                "message": self.message, "distinct_states": self.distinct_states, "stopped_by": self.stopped_by,
                "property": self.violated, "trace_file": self.trace_file, "seconds": round(self.seconds, 3),
                "error": self.error, "location": self.location, "cached": self.cached, "peak_mb": self.peak_mb}

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> "Outcome":
        """The inverse of ``to_json`` (no result object, no model); KeyError/TypeError on a malformed one."""
        out = cls(str(doc["protocol"]), str(doc["scenario"]), str(doc["expect"]), doc["expect_property"],
                  str(doc["verdict"]), str(doc["message"]), trace_file=doc["trace_file"],
                  seconds=float(doc["seconds"]), kind=str(doc["kind"]), status=str(doc["status"]),
                  distinct_states=int(doc["distinct_states"]), stopped_by=doc["stopped_by"],
                  violated=doc["property"], error=doc["error"], location=doc["location"],
                  cached=bool(doc["cached"]), peak_mb=doc["peak_mb"])
        if out.verdict not in (PASS, FAIL, INCOMPLETE):
            raise TypeError(f"verdict {out.verdict!r}")
        return out


def run_model(model, time_limit: float | None = None, max_states: int | None = None,
              max_depth: int | None = None) -> CheckResult:
    """Check ``model`` exactly as ``consensuslab check`` does (safety, then the liveness its scenario names)."""
    from consensuslab.checkers.run import check

    return check(model, max_states=max_states, max_depth=max_depth, time_limit=time_limit, progress=False)


def run_kind(model, scenario, time_limit: float | None = None) -> CheckResult:
    """Check ``model`` as ``scenario.kind`` says (no scenario: exhaustively)."""
    kind = scenario.kind if scenario is not None else EXHAUSTIVE
    if kind == SIMULATE:
        from consensuslab.checkers.simulation.defaults import DEFAULT_EXAMPLES, DEFAULT_STEPS, DEFAULT_WALKS
        from consensuslab.checkers.simulation.simulate import simulate

        return simulate(model, examples=_given(scenario.examples, DEFAULT_EXAMPLES),
                        steps=_given(scenario.steps, DEFAULT_STEPS), seed=scenario.seed,
                        walks=_given(scenario.walks, DEFAULT_WALKS))
    if kind == BOUNDED:
        return run_model(model, time_limit, max_states=scenario.max_states, max_depth=scenario.max_depth)
    return run_model(model, time_limit)


def _given(value: int | None, default: int) -> int:
    return default if value is None else value


def scenario_names(cls) -> list[str]:
    return [s.name for s in cls.scenarios] or [DEFAULT]


def run_scenario(cls, scenario: str, time_limit: float | None = None,
                 traces_dir: str | None = None) -> Outcome:
    """Configure ``cls`` for ``scenario``, check it as its kind says, and judge the result."""
    from consensuslab.checkers.search.lint import lint
    from consensuslab.models.definition import source_of

    chosen = cls.scenario_named(scenario) if scenario != DEFAULT else None
    kind = chosen.kind if chosen else EXHAUSTIVE
    expect = chosen.expect if chosen else "ok"
    prop = chosen.expect_property if chosen else None
    started = time.monotonic()
    out = Outcome(cls.name, scenario, expect, prop, FAIL, "", kind=kind)
    try:
        model = cls.configure(scenario=chosen.name if chosen else None).compile()
        if source_of(cls) is not None:
            lint(model)
        out.model = model
        out.result = run_kind(model, chosen, time_limit)
    except MemoryError:  # the process's memory limit (or the machine's) was reached
        out.result = None
        out.verdict, out.status, out.stopped_by = INCOMPLETE, "incomplete", MEMORY_LIMIT
        out.message = f"incomplete: stopped by {MEMORY_LIMIT}; expected {expect}, nothing found so far"
        return _done(out, started, cls)
    except Exception as exc:  # noqa: BLE001 - a crash in the protocol (or ours): one scenario fails, the run goes on
        out.error = crash_details(exc, cls)
        out.message = f"error: {exc}" if isinstance(exc, ConsensuslabError) else f"error: {type(exc).__name__}: {exc}"
        return _done(out, started, cls)
    out.verdict, out.message = judge(out.result, expect, prop, chosen.states if chosen else None, kind)
    v = out.result.violation
    if v is not None and v.trace is not None:
        if traces_dir:
            out.trace_file = _write(model, out.result, traces_dir, out.name)
        if out.verdict == PASS:
            problem = _replays(model, out.result)
            if problem:
                out.verdict, out.message = FAIL, f"the counterexample does not replay: {problem}"
    return _done(out, started, cls)


def stopped_outcome(cls, scenario: str, stopped_by: str, detail: str, seconds: float = 0.0) -> Outcome:
    """An ``incomplete`` outcome for a run that ended without a result (killed, interrupted, out of memory)."""
    chosen = cls.scenario_named(scenario) if scenario != DEFAULT else None
    expect = chosen.expect if chosen else "ok"
    return Outcome(cls.name, scenario, expect, chosen.expect_property if chosen else None, INCOMPLETE,
                   f"incomplete: {_stopped(stopped_by)} ({detail}); expected {expect}, nothing found so far",
                   seconds=seconds, kind=chosen.kind if chosen else EXHAUSTIVE, status="incomplete",
                   stopped_by=stopped_by)


def _done(out: Outcome, started: float, cls) -> Outcome:
    out.seconds = time.monotonic() - started
    out.settle()
    if out.verdict == FAIL and out.error is None:
        unexpected = out.violated if out.violated and out.violated != out.expect_property else None
        out.location = (property_location(out.model, unexpected) if unexpected and out.model is not None
                        else None) or scenario_location(cls, out.scenario)
    elif out.error is not None:
        out.location = {"file": out.error["file"], "line": out.error["line"]}
    return out


def judge(result: CheckResult, expect: str, prop: str | None, states: int | None,
          kind: str = EXHAUSTIVE) -> tuple[str, str]:
    """(verdict, one-line message) for ``result`` against the scenario's expectation."""
    v = result.violation
    within_bound = kind == BOUNDED and result.status == "incomplete" and result.stopped_by in BOUND_REACHED
    if result.status == "incomplete" and not within_bound:
        return INCOMPLETE, (f"incomplete: {_stopped(result.stopped_by)} after {result.distinct_states:,} "
                            f"states, depth {result.depth}; expected {expect}, nothing found so far")
    found = "ok" if within_bound else _found(result)
    if found != expect:
        got = found + (f" of {v.property} ({v.kind})" if v is not None else "") + _scope(result, kind)
        return FAIL, f"expected {expect}{f' of {prop}' if prop else ''}, got {got}" + (
            f": {v.message}" if v is not None and v.message else "")
    if prop and v is not None and v.property != prop:
        return FAIL, f"expected {expect} of {prop}, but {v.property} failed first ({v.kind})"
    if expect == "ok":
        if kind != EXHAUSTIVE:
            return PASS, f"ok{_scope(result, kind)}"
        if states is not None and result.distinct_states != states:
            return FAIL, f"ok, but {result.distinct_states:,} distinct states where the scenario pins {states:,}"
        return PASS, f"ok, {result.distinct_states:,} states" + (" (as pinned)" if states is not None else "")
    return PASS, f"{expect} of {v.property} found as expected ({len(v.trace) if v.trace else 0} steps, replays)"


def _stopped(by: str | None) -> str:
    return "interrupted" if by == "interrupted" else f"stopped by {by}"


def _scope(result: CheckResult, kind: str) -> str:
    """What a bounded or simulated ``ok`` covered: it says nothing beyond that."""
    if kind == SIMULATE and result.violation is None:
        x = result.extra
        return (f": nothing found in {x.get('walks', 0):,} random walks and {x.get('hypothesis_examples', 0):,} "
                f"Hypothesis examples ({result.distinct_states:,} states, seed {x.get('seed')})")
    if kind == BOUNDED and result.violation is None:
        end = f"the bound ({result.stopped_by})" if result.status == "incomplete" else "the whole state space"
        return f": nothing found in {result.distinct_states:,} states, depth {result.depth}, up to {end}"
    return ""


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


def trace_file_name(folder: str, name: str) -> str:
    """``DIR/protocol--scenario.itf.json``: where a scenario's counterexample is written."""
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name.replace(":", "--"))
    return os.path.join(folder, f"{safe}.itf.json")


def _write(model, result: CheckResult, folder: str, name: str) -> str:
    from consensuslab.traces.itf import write_trace

    os.makedirs(folder, exist_ok=True)
    path = trace_file_name(folder, name)
    write_trace(path, model, result.violation.trace, result.violation, result.status)
    result.violation.trace_file = path
    return path
