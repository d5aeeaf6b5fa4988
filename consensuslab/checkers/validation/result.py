"""What a validation returns: explained (with the behaviour and the faults it needed), not explained, incomplete."""

from __future__ import annotations

from typing import Any

import attrs

from consensuslab.errors import EXIT_INCOMPLETE, EXIT_OK, EXIT_SAFETY
from consensuslab.traces.itf import encode
from consensuslab.traces.result import Trace

EXPLAINED, NOT_EXPLAINED, INCOMPLETE = "explained", "not-explained", "incomplete"
EXIT = {EXPLAINED: EXIT_OK, NOT_EXPLAINED: EXIT_SAFETY, INCOMPLETE: EXIT_INCOMPLETE}


@attrs.define
class Failure:
    """The first event no behaviour can take, and why, in the model states reached just before it."""

    event: tuple[str, int]
    where: str
    describe: str
    expected: str
    reason: str
    field: str | None = None
    logged: Any = None
    observed: Any = None
    states: list = attrs.field(factory=list)
    node_fields: list[dict[str, Any]] = attrs.field(factory=list)
    enabled: list[str] = attrs.field(factory=list)
    also_stuck: list[str] = attrs.field(factory=list)

    def to_json(self, model) -> dict[str, Any]:
        return {"event": {"node": self.event[0], "seq": self.event[1]}, "where": self.where,
                "describe": self.describe, "expected": self.expected, "reason": self.reason,
                "field": self.field, "logged": _plain(self.logged), "model": _plain(self.observed),
                "node_fields": [{k: _plain(v) for k, v in f.items()} for f in self.node_fields],
                "enabled": self.enabled, "also_stuck": self.also_stuck,
                "states": [{k: encode(v) for k, v in model.encode_state(s).items()} for s in self.states]}


@attrs.define
class ValidationResult:
    status: str
    model_meta: dict[str, Any]
    nodes: tuple[str, ...]
    events: int
    expectations: int
    explained_events: int
    prefix: dict[str, int | None]  # per node, the seq of the last event explained (None: none)
    trace: Trace | None = None
    faults: dict[str, int] = attrs.field(factory=dict)  # inferred (unlogged) faults, by class
    logged_faults: dict[str, int] = attrs.field(factory=dict)
    unlogged_steps: int = 0  # unlogged steps that are no fault
    failure: Failure | None = None
    stopped_by: str | None = None
    search_nodes: int = 0
    distinct: int = 0
    seconds: float = 0.0
    order: str = "canonical"
    warnings: list[str] = attrs.field(factory=list)
    trace_file: str | None = None

    @property
    def exit_code(self) -> int:
        return EXIT[self.status]

    def to_json(self, model) -> dict[str, Any]:
        return {"status": self.status, **{k: self.model_meta.get(k) for k in ("protocol", "variant", "scenario",
                                                                               "params")},
                "nodes": list(self.nodes), "events": self.events, "expectations": self.expectations,
                "explained_events": self.explained_events,
                "prefix": {n: ({"last_seq": s} if s is not None else None) for n, s in self.prefix.items()},
                "trace_length": len(self.trace) if self.trace is not None else None,
                "trace_file": self.trace_file, "faults": self.faults, "logged_faults": self.logged_faults,
                "unlogged_steps": self.unlogged_steps,
                "failure": self.failure.to_json(model) if self.failure is not None else None,
                "stopped_by": self.stopped_by, "search_nodes": self.search_nodes,
                "distinct": self.distinct, "seconds": round(self.seconds, 3), "order": self.order,
                "warnings": self.warnings}


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, dict)):
        return value
    return encode(value)
