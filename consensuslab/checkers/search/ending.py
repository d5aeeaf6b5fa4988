"""How every search ends, written once: the stop signal, the limits, the status rules, the verdicts.

Every engine (interpreted, compiled, partitioned, swarm) raises ``Stop`` when
it finds a violation, asks a ``Budget`` whether to go on, and builds its
result with ``finish``; so ``ok``, ``incomplete`` and the per-property
verdicts mean the same thing whichever engine ran.
"""

from __future__ import annotations

import time
from typing import Any

from consensuslab.checkers.search.limits import MemoryCeiling, interrupted_since, signals_received, stand_down
from consensuslab.checkers.search.progress import Progress
from consensuslab.traces.result import CheckResult, Violation

#: expansions between two readings of the clock
CHECK_EVERY = 1024
#: ``Budget.spent``'s answer when a search racing this one finished first (its result is the run's)
RIVAL_FINISHED = "rival-finished"
#: ... and when the two searches near the run's memory cap while the rival is ahead: this one makes way
MAKE_WAY = "make-way"


class Stop(Exception):
    """A violation was found: the search ends with it."""

    def __init__(self, violation: Violation):
        super().__init__(violation.property)
        self.violation = violation


class Budget:
    """A search's limits and its progress line, read together every ``CHECK_EVERY`` expansions.

    Time: ``time_limit`` seconds from ``started``.  Memory: the process's cap
    (``RLIMIT_DATA``/``RLIMIT_AS``, which the command line sets from
    ``--memory-limit``) or ``memory_limit`` bytes, whichever is lower; the
    search stops at ``limits.STOP_AT`` of it, leaving room to build its result.
    """

    def __init__(self, time_limit: float | None = None, progress: Progress | None = None,
                 started: float | None = None, memory_limit: int | None = None, rival=None):
        self.time_limit = time_limit
        self.progress = progress if progress is not None else Progress(enabled=False)
        self.started = time.monotonic() if started is None else started
        self.memory = MemoryCeiling(memory_limit)
        self.signals = signals_received()
        #: another search of the same model racing this one (``rival.Rival``): told our count, it says when it won
        self.rival = rival

    def spent(self, states: int, depth: int, queue: int) -> str | None:
        """Print progress when due; the name of the limit that is reached (``time-limit``,
        ``memory-limit``), ``interrupted`` when Ctrl-C or SIGTERM arrived (even if a library
        swallowed the exception it raised), or None."""
        now = time.monotonic()
        if self.progress.due(now):
            self.progress.report(now, states, depth, queue)
        if self.time_limit is not None and now - self.started >= self.time_limit:
            stand_down()  # the search ends by itself now
            return "time-limit"
        if self.memory.reached():
            return "memory-limit"
        if interrupted_since() or interrupted_since(self.signals):
            return "interrupted"
        if self.rival is not None:
            return self.rival.keep_up(states)
        return None

    def left(self) -> float | None:
        """Seconds left of the time limit (at least a millisecond), for a search that hands over."""
        if self.time_limit is None:
            return None
        return max(self.time_limit - (time.monotonic() - self.started), 0.001)


def outcome(violation: Violation | None, stopped_by: str | None, pending_witnesses: list) -> tuple:
    """``(status, violation)`` of a finished search: a witness never found is a violation too."""
    if violation is not None:
        return ("deadlock" if violation.kind == "deadlock" else "violation"), violation
    if stopped_by is not None:
        return "incomplete", None
    if pending_witnesses:
        return "violation", Violation(pending_witnesses[0].name, "sometimes", None,
                                      message="no reachable state satisfies it: the model may be vacuous")
    return "ok", None


def verdicts(model, status: str, violation: Violation | None, witnessed: set[str]) -> dict[str, str]:
    """Each safety property's verdict: holds/violated/witnessed/unwitnessed, or unknown when incomplete."""
    complete = status == "ok" or (status == "violation" and violation is not None and violation.kind == "sometimes")
    out = {}
    for prop in model.invariants + model.step_properties:
        if violation is not None and violation.property == prop.name:
            out[prop.name] = "violated"
        else:
            out[prop.name] = "holds" if complete else "unknown"
    for prop in model.witnesses:
        if prop.name in witnessed:
            out[prop.name] = "witnessed"
        else:
            out[prop.name] = "unwitnessed" if complete else "unknown"
    return out


def collision_probability(distinct: int, generated: int) -> float:
    """The chance that two of ``distinct`` 64-bit fingerprints collided among ``generated`` look-ups."""
    return float(f"{distinct * max(generated - distinct, 0) / 2.0 ** 64:.3g}")


def finish(model, *, violation: Violation | None, stopped_by: str | None, witnessed: set[str],
           distinct: int, generated: int, depth: int, seconds: float, search: str = "bfs",
           fingerprints: bool = True, extra: dict[str, Any] | None = None) -> CheckResult:
    """The ``CheckResult`` of a safety search, with the status rules and verdicts above.

    ``fingerprints``: the seen-set held 64-bit hashes, not states, so the
    result reports the chance that a collision hid a state.
    """
    pending = [p for p in model.witnesses if p.name not in witnessed]
    status, violation = outcome(violation, stopped_by, pending)
    result = CheckResult(status=status, model_meta=model.meta(), distinct_states=distinct,
                         states_generated=generated, depth=depth, seconds=seconds, violation=violation,
                         search=search, stopped_by=stopped_by if status == "incomplete" else None)
    result.properties = verdicts(model, status, violation, witnessed)
    if fingerprints:
        result.extra["fingerprint_collision_probability"] = collision_probability(distinct, generated)
    result.extra.update(extra or {})
    return result
