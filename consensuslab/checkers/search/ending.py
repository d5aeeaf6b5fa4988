"""How every search ends, written once: the stop signal, the limits, the status rules, the verdicts.

Every engine (interpreted, compiled, partitioned, swarm) raises ``Stop`` when
it finds a violation, asks a ``Budget`` whether to go on, and builds its
result with ``finish``; so ``ok``, ``incomplete`` and the per-property
verdicts mean the same thing whichever engine ran.
"""

from __future__ import annotations

import os
import time
from typing import Any

from consensuslab.checkers.search.progress import Progress
from consensuslab.traces.result import CheckResult, Violation

#: expansions between two readings of the clock
CHECK_EVERY = 1024


class Stop(Exception):
    """A violation was found: the search ends with it."""

    def __init__(self, violation: Violation):
        super().__init__(violation.property)
        self.violation = violation


def resident_mb() -> float:
    """This process's resident memory in MB (Linux's /proc; elsewhere its peak)."""
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2 ** 20
    except (OSError, ValueError, IndexError):
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class Budget:
    """A search's limits (time; resident memory in MB, where given) and its progress line, read together every
    ``CHECK_EVERY`` expansions."""

    def __init__(self, time_limit: float | None = None, progress: Progress | None = None,
                 started: float | None = None, memory_limit: float | None = None):
        self.time_limit = time_limit
        self.memory_limit = memory_limit
        self.progress = progress if progress is not None else Progress(enabled=False)
        self.started = time.monotonic() if started is None else started

    def spent(self, states: int, depth: int, queue: int) -> str | None:
        """Print progress when due; the name of the limit that is reached (``time-limit``, ``memory-limit``),
        or None."""
        now = time.monotonic()
        if self.progress.due(now):
            self.progress.report(now, states, depth, queue)
        if self.time_limit is not None and now - self.started >= self.time_limit:
            return "time-limit"
        if self.memory_limit is not None and resident_mb() > self.memory_limit:
            return "memory-limit"
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
