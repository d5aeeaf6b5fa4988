"""What a conformance run returns: ok, the first divergence (a model trace with the implementation's values), or
incomplete."""

from __future__ import annotations

from typing import Any

import attrs

from consensuslab.errors import EXIT_INCOMPLETE, EXIT_OK, EXIT_SAFETY
from consensuslab.traces.result import Trace


@attrs.define
class Divergence:
    """Where the implementation and the model part: the step, what differs, both values."""

    step: int  # 0: the initial states; k: the k-th step of the trace
    node: str | None
    what: str  # "state", "sends", "timers", "refused", "raised"
    field: str | None
    model: Any
    implementation: Any
    message: str
    trace: Trace | None = None
    #: per step of the trace, the implementation's view of the node that took it (for the report)
    beside: list[dict[str, Any]] = attrs.field(factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"step": self.step, "node": self.node, "what": self.what, "field": self.field,
                "model": repr(self.model), "implementation": repr(self.implementation), "message": self.message,
                "trace_length": len(self.trace) if self.trace is not None else None}


@attrs.define
class ConformanceResult:
    status: str  # ok | violation | incomplete
    model_meta: dict[str, Any]
    search: str  # bfs | walks
    states: int = 0
    steps: int = 0
    depth: int = 0
    walks: int = 0
    seconds: float = 0.0
    stopped_by: str | None = None
    divergence: Divergence | None = None
    trace_file: str | None = None
    test_file: str | None = None

    @property
    def exit_code(self) -> int:
        return {"ok": EXIT_OK, "violation": EXIT_SAFETY, "incomplete": EXIT_INCOMPLETE}[self.status]

    def to_json(self) -> dict[str, Any]:
        return {"status": self.status, **{k: self.model_meta.get(k) for k in ("protocol", "variant", "scenario",
                                                                               "params")},
                "search": self.search, "states": self.states, "steps": self.steps, "depth": self.depth,
                "walks": self.walks, "seconds": round(self.seconds, 3), "stopped_by": self.stopped_by,
                "divergence": self.divergence.to_json() if self.divergence else None,
                "trace_file": self.trace_file, "test_file": self.test_file}
