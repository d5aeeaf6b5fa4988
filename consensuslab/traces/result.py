"""What a check returns: status, statistics, and the counterexample if any."""

from __future__ import annotations

from typing import Any

import attrs

from consensuslab.errors import EXIT_DEADLOCK, EXIT_INCOMPLETE, EXIT_LIVENESS, EXIT_OK, EXIT_SAFETY

STATUSES = ("ok", "violation", "deadlock", "incomplete")


@attrs.define
class Trace:
    """A behaviour: the initial state, then (action, state) steps; ``loop`` starts a lasso's cycle."""

    initial: Any
    steps: list[tuple[Any, Any]] = attrs.field(factory=list)
    loop: int | None = None

    @property
    def states(self) -> list:
        return [self.initial] + [s for _, s in self.steps]

    @property
    def actions(self) -> list:
        return [a for a, _ in self.steps]

    def __len__(self) -> int:
        return len(self.steps)


def rebuild_trace(model, roots: dict, parents, via: list, idx: int) -> Trace:
    """The path to state ``idx``, from parent links and the actions that first reached each
    state, rebuilt by re-applying those actions from the initial state (so searches need
    not keep states in memory)."""
    chain = []
    while parents[idx] >= 0:
        chain.append(via[idx])
        idx = parents[idx]
    trace = Trace(roots[idx])
    state = trace.initial
    for act in reversed(chain):
        state = model.apply(state, act)
        trace.steps.append((act, state))
    return trace


@attrs.define
class Violation:
    """The property that failed, its ``kind`` (invariant, transition, sometimes, deadlock,
    liveness) and the counterexample: the shortest ``trace`` found (a lasso for liveness)."""

    property: str
    kind: str  # invariant | transition | sometimes | deadlock | liveness
    trace: Trace | None = None
    trace_file: str | None = None
    message: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"property": self.property, "kind": self.kind,
                "trace_length": len(self.trace) if self.trace is not None else None,
                "trace_file": self.trace_file, "message": self.message}


@attrs.define
class CheckResult:
    """What ``check`` returns: ``status`` (ok | violation | deadlock | incomplete), the counts, each
    property's verdict in ``properties``, the ``violation`` if any, ``stopped_by`` for an incomplete
    run, and in ``extra`` the engine that ran and why (``engine``, ``engine_reason``)."""

    status: str
    model_meta: dict[str, Any]
    distinct_states: int = 0
    states_generated: int = 0
    depth: int = 0
    seconds: float = 0.0
    violation: Violation | None = None
    search: str = "bfs"
    #: why the run stopped early (limit name or "interrupted"), for incomplete results
    stopped_by: str | None = None
    properties: dict[str, str] = attrs.field(factory=dict)
    queue: int = 0
    extra: dict[str, Any] = attrs.field(factory=dict)

    @property
    def states_per_second(self) -> float:
        return self.distinct_states / self.seconds if self.seconds > 0 else 0.0

    @property
    def exit_code(self) -> int:
        if self.status == "ok":
            return EXIT_OK
        if self.status == "deadlock":
            return EXIT_DEADLOCK
        if self.status == "violation":
            return EXIT_LIVENESS if self.violation and self.violation.kind == "liveness" else EXIT_SAFETY
        return EXIT_INCOMPLETE

    def to_json(self) -> dict[str, Any]:
        out = dict(self.model_meta)
        out.update({
            "status": self.status,
            "search": self.search,
            "distinct_states": self.distinct_states,
            "states_generated": self.states_generated,
            "depth": self.depth,
            "seconds": round(self.seconds, 3),
            "states_per_second": round(self.states_per_second, 1),
            "stopped_by": self.stopped_by,
            "properties": dict(self.properties),
            "violation": self.violation.to_json() if self.violation else None,
            # how the space was explored; scaled searches override these in ``extra``
            "workers": 1,
            "symmetry": False,
            "reduction": None,
        })
        out.update(self.extra)
        return out
