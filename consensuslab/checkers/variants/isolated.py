"""Scenarios run each in a forked process of its own: bounded in time and memory, several at once,
read from a cache when unchanged, and stopped as a whole by Ctrl-C.

Why a process per scenario: one configuration that explodes (beyond
exhaustive search, or a protocol bug that allocates without end) must end as
``incomplete`` without taking the CI job or the machine with it.  The child
caps its data memory (``RLIMIT_DATA``, as every verb's ``--memory-limit``) at
what it holds when it starts plus the memory limit, so an allocation past it raises ``MemoryError`` and the
scenario ends ``incomplete`` (stopped by memory-limit); its search stops
itself at the time limit, and the parent kills a child that overstays it by
a grace period (``Limits.kill_after``).  The child answers with one JSON
document over a pipe (nothing is unpickled), and that process-per-scenario
shape is also what runs ``jobs`` scenarios at once.  Where ``fork`` is not
available the scenarios run in this process, bounded by the time limit only.

A search that stops itself at a memory budget, with the states it covered,
is better than a ``MemoryError``: once ``checkers/run.check`` takes one, pass
``Limits.memory_limit`` to it in ``run_kind`` and keep ``RLIMIT_AS`` a little
above it as the backstop.
"""

from __future__ import annotations

import collections
import contextlib
import json
import multiprocessing
import os
import signal
import threading
import time
from multiprocessing.connection import wait
from typing import Callable

import attrs

from consensuslab.checkers.search.limits import note_signal
from consensuslab.checkers.variants.expect import FAIL, PASS, Outcome, run_scenario, stopped_outcome
from consensuslab.models.scenario import SIMULATE

#: seconds between two looks at the running children
TICK = 0.25
#: seconds the children get to send their partial results after Ctrl-C
INTERRUPT_GRACE = 3.0


@attrs.frozen
class Limits:
    #: seconds per scenario (its search stops itself; the process is killed at ``kill_after``)
    time_limit: float | None = None
    #: megabytes a scenario's process may add to what it held when it started
    memory_limit: int | None = None
    #: seconds past the time limit (and a quarter of it) before a process that has not stopped is killed
    grace: float = 10.0

    def kill_after(self) -> float | None:
        return None if self.time_limit is None else self.time_limit * 1.25 + self.grace


#: what CI gets unless it says otherwise: every bundled scenario finishes well within both
DEFAULT_TIME_LIMIT = 120.0
DEFAULT_MEMORY_LIMIT = 1024


@attrs.define
class RunReport:
    #: in plan order; None for a scenario that did not run (the run was interrupted first)
    outcomes: list
    interrupted: bool = False

    @property
    def finished(self) -> list[Outcome]:
        return [o for o in self.outcomes if o is not None]


@attrs.define
class _Running:
    cls: type
    scenario: str
    process: multiprocessing.Process
    conn: object
    started: float


def execute(cls, scenario: str, time_limit: float | None, traces_dir: str | None,
            describe: Callable[[Outcome], str] | None) -> tuple[Outcome, dict | None]:
    """Run one scenario here; its outcome (with the rendered report of a failure) and, for a pass
    with a counterexample, the trace's ITF document (kept in the cache)."""
    from consensuslab.traces.itf import trace_document

    out = run_scenario(cls, scenario, time_limit, traces_dir)
    if out.verdict == FAIL and describe is not None:
        out.report = describe(out)
    out.peak_mb = peak_mb()
    v = out.result.violation if out.result is not None else None
    itf = None
    if out.verdict == PASS and v is not None and v.trace is not None:
        itf = trace_document(out.model, v.trace, v, out.result.status)
    return out, itf


class Runner:
    """Runs a plan of ``(protocol class, scenario name)`` pairs; see the module's docstring."""

    def __init__(self, limits: Limits = Limits(), jobs: int = 1, traces_dir: str | None = None, cache=None,
                 describe: Callable[[Outcome], str] | None = None,
                 on_done: Callable[[Outcome, int, int], None] | None = None,
                 on_tick: Callable[[list[tuple[str, float, float | None]], int, int], None] | None = None,
                 tick_every: float = 10.0, isolate: bool = True):
        self.limits, self.jobs, self.traces_dir, self.cache = limits, max(1, jobs), traces_dir, cache
        self.describe, self.on_done, self.on_tick, self.tick_every = describe, on_done, on_tick, tick_every
        self.isolate = isolate and "fork" in multiprocessing.get_all_start_methods()
        self._done = 0
        self._last_tick = 0.0
        self._plan: list = []
        self._preloaded = False

    def run(self, plan: list[tuple[type, str]]) -> RunReport:
        report = RunReport([None] * len(plan))
        pending = collections.deque(enumerate(plan))
        running: dict[int, _Running] = {}
        self._done, self._last_tick = 0, time.monotonic()
        self._plan, self._preloaded = plan, False
        with _sigterm_as_interrupt():
            try:
                while running or (pending and not report.interrupted):
                    while pending and len(running) < self.jobs and not report.interrupted:
                        index, (cls, scenario) = pending.popleft()
                        self._start(index, cls, scenario, running, report)
                    if running:
                        self._wait(running, report)
            except KeyboardInterrupt:
                report.interrupted = True
            if running:
                self._stop(running, report)
        return report

    def _start(self, index: int, cls, scenario: str, running: dict, report: RunReport) -> None:
        hit = self.cache.get(cls, scenario, self.traces_dir) if self.cache is not None else None
        if hit is not None:
            self._record(report, index, cls, hit, None)
        elif not self.isolate:
            out, itf = execute(cls, scenario, self.limits.time_limit, self.traces_dir, self.describe)
            self._record(report, index, cls, out, itf)
        else:
            if not self._preloaded:  # not before the first launch: a run from the cache needs none of it
                _preload(self._plan)
                self._preloaded = True
            ours, theirs = multiprocessing.Pipe(duplex=False)
            process = multiprocessing.get_context("fork").Process(
                target=_child, args=(theirs, cls, scenario, self.limits, self.traces_dir, self.describe),
                name=f"consensuslab {cls.name}:{scenario}", daemon=True)
            process.start()
            theirs.close()
            running[index] = _Running(cls, scenario, process, ours, time.monotonic())

    def _record(self, report: RunReport, index: int, cls, out: Outcome, itf: dict | None) -> None:
        report.outcomes[index] = out
        if out.interrupted:
            report.interrupted = True
        elif self.cache is not None:
            self.cache.put(cls, out, itf)
        self._done += 1
        if self.on_done is not None:
            self.on_done(out, self._done, len(report.outcomes))

    def _wait(self, running: dict, report: RunReport, timeout: float = TICK) -> None:
        now = time.monotonic()
        if self.on_tick is not None and now - self._last_tick >= self.tick_every:
            self._last_tick = now
            self.on_tick([(f"{r.cls.name}:{r.scenario}", now - r.started, rss_mb(r.process.pid))
                          for r in running.values()], self._done, len(report.outcomes))
        handles = {}
        for index, r in running.items():
            handles[r.conn] = handles[r.process.sentinel] = index
        for handle in wait(list(handles), timeout=timeout):
            index = handles[handle]
            if index in running:
                self._collect(index, running, report)
        now = time.monotonic()
        kill_after = self.limits.kill_after()
        for index, r in list(running.items()):
            if kill_after is not None and now - r.started > kill_after and index in running:
                _end(r.process)
                del running[index]
                self._record(report, index, r.cls, stopped_outcome(
                    r.cls, r.scenario, "time-limit", f"killed after {now - r.started:.0f} s", now - r.started), None)

    def _collect(self, index: int, running: dict, report: RunReport) -> None:
        """Take the child's answer if it sent one (or learn that it died without one)."""
        r = running[index]
        payload, closed = None, False
        try:
            if r.conn.poll():
                payload = json.loads(r.conn.recv_bytes())
        except (EOFError, OSError, ValueError):
            closed = True  # it died, or is dying, without an answer
        if payload is None and not closed and r.process.is_alive():
            return
        r.process.join(timeout=5)
        _end(r.process)
        r.conn.close()
        del running[index]
        out, itf = self._outcome_of(r, payload)
        self._record(report, index, r.cls, out, itf)

    def _outcome_of(self, r: _Running, payload: dict | None) -> tuple[Outcome, dict | None]:
        seconds = time.monotonic() - r.started
        if isinstance(payload, dict) and "outcome" in payload:
            try:
                out = Outcome.from_json(payload["outcome"])
                out.report = payload.get("report")
                return out, payload.get("itf")
            except (KeyError, TypeError, ValueError):
                pass
        if isinstance(payload, dict) and payload.get("stopped_by"):
            return stopped_outcome(r.cls, r.scenario, payload["stopped_by"], payload["detail"], seconds), None
        code = r.process.exitcode
        died = f"signal {-code}" if code is not None and code < 0 else f"exit code {code}"
        if code == -signal.SIGKILL:  # the machine's out-of-memory killer, most likely
            return stopped_outcome(r.cls, r.scenario, "killed", f"its process was killed: {died}", seconds), None
        out = stopped_outcome(r.cls, r.scenario, "crash", died, seconds)
        out.verdict, out.message = FAIL, f"error: the scenario's process died ({died}) without an answer"
        out.error = {"type": "ProcessDied", "message": out.message, "file": None, "line": None, "traceback": ""}
        return out, None

    def _stop(self, running: dict, report: RunReport) -> None:
        """Ask the children for their partial results, wait a little, then end the rest."""
        report.interrupted = True
        try:
            for r in running.values():
                with contextlib.suppress(OSError):
                    os.kill(r.process.pid, signal.SIGINT)
            deadline = time.monotonic() + INTERRUPT_GRACE
            while running and time.monotonic() < deadline:
                self._wait(running, report, timeout=0.1)
        except KeyboardInterrupt:  # a second Ctrl-C: no more waiting
            pass
        for index, r in list(running.items()):
            _end(r.process)
            del running[index]
            seconds = time.monotonic() - r.started
            self._record(report, index, r.cls, stopped_outcome(r.cls, r.scenario, "interrupted", "Ctrl-C",
                                                               seconds), None)


def _preload(plan: list) -> None:
    """Import here, once, what the checks will import, so that each forked child starts with it
    (measured: 0.3 s a scenario otherwise, a third of a CI run's time)."""
    import consensuslab.checkers.compiled.engine  # noqa: F401 - numpy, most of that time
    import consensuslab.checkers.liveness.check  # noqa: F401
    import consensuslab.checkers.replay  # noqa: F401
    import consensuslab.checkers.run  # noqa: F401
    import consensuslab.checkers.search.explicit  # noqa: F401
    import consensuslab.checkers.search.lint  # noqa: F401
    import consensuslab.traces.itf  # noqa: F401

    if any(cls.scenarios and s in {x.name for x in cls.scenarios if x.kind == SIMULATE} for cls, s in plan):
        import consensuslab.checkers.simulation.simulate  # noqa: F401 - Hypothesis


def _child(conn, cls, scenario: str, limits: Limits, traces_dir: str | None, describe) -> None:
    """The forked process: one scenario, one JSON answer."""
    _first_interrupt_only()
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _limit_memory(limits.memory_limit)
    try:
        out, itf = execute(cls, scenario, limits.time_limit, traces_dir, describe)
        payload = {"outcome": out.to_json(), "report": out.report, "itf": itf}
    except KeyboardInterrupt:
        payload = {"stopped_by": "interrupted", "detail": "Ctrl-C"}
    except MemoryError:  # past run_scenario's own handler: while rendering or tracing, say
        payload = {"stopped_by": "memory-limit", "detail": f"{limits.memory_limit} MB"}
    try:
        data = json.dumps(payload).encode()
    except (TypeError, ValueError) as exc:
        data = json.dumps({"stopped_by": "crash", "detail": f"unsendable answer: {exc}"}).encode()
    conn.send_bytes(data)
    conn.close()


def _first_interrupt_only() -> None:
    """Ctrl-C stops the search (which returns its partial result); a second one while it does so is ignored."""
    def handler(signum, frame):
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, handler)


def _limit_memory(megabytes: float | None) -> None:
    """The cap of every verb's ``--memory-limit`` (``limits.cap_for_megabytes``): megabytes on top of the program."""
    if not megabytes:
        return
    from consensuslab.checkers.search.limits import apply_memory_limit, cap_for_megabytes

    apply_memory_limit(cap_for_megabytes(megabytes))


def _status_kb(field: str, pid: int | str = "self") -> int:
    """A ``/proc/PID/status`` figure in kB (0 where there is no /proc)."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def peak_mb() -> float | None:
    """This process's peak resident memory in MB."""
    kb = _status_kb("VmHWM")
    if not kb:
        import resource
        import sys

        kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // (1024 if sys.platform == "darwin" else 1)
    return round(kb / 1024, 1) if kb else None


def rss_mb(pid: int) -> float | None:
    kb = _status_kb("VmRSS", pid)
    return round(kb / 1024, 1) if kb else None


def _end(process) -> None:
    if process.is_alive():
        process.kill()
    process.join(timeout=5)


@contextlib.contextmanager
def _sigterm_as_interrupt():
    """While the run lasts, SIGTERM (a CI job cancelled) ends it as Ctrl-C does: children stopped, report made."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        note_signal(signum)  # the command line exits 128+SIGTERM after the report, as for any interrupted run
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
