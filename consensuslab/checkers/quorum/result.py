"""Answers of the quorum queries: ``holds`` | ``violated`` (with a re-checked witness) | ``unknown``.

``unknown`` (the solver's time limit) is never reported as safe. Each answer names the
encoding and the solver settings that produced it.
"""

from __future__ import annotations

import attrs

from consensuslab.checkers.quorum.systems import Nodes, node_key


def show(nodes) -> str:
    return "{" + ", ".join(sorted(nodes, key=node_key)) + "}"


@attrs.frozen
class Witness:
    quorum_a: Nodes = ()
    quorum_b: Nodes = ()
    faulty: Nodes = ()

    def to_json(self) -> dict:
        return {"quorum_a": list(self.quorum_a), "quorum_b": list(self.quorum_b),
                "faulty": list(self.faulty)}


@attrs.frozen
class QuorumResult:
    """One requirement on one system."""

    status: str                      # holds | violated | unknown
    requirement: str
    system: str
    witness: Witness | None = None
    why: str = ""
    encoding: str = ""
    solver: dict = attrs.field(factory=dict, hash=False)
    seconds: float = 0.0

    def to_json(self) -> dict:
        return {"status": self.status, "requirement": self.requirement, "system": self.system,
                "witness": self.witness.to_json() if self.witness else None, "why": self.why,
                "encoding": self.encoding, "solver": dict(self.solver), "seconds": round(self.seconds, 6)}


@attrs.frozen
class Report:
    """Several requirements on one system; the first violation (or unknown) decides."""

    results: tuple[QuorumResult, ...]

    @property
    def status(self) -> str:
        statuses = [r.status for r in self.results]
        for s in ("violated", "unknown"):
            if s in statuses:
                return s
        return "holds"

    @property
    def decisive(self) -> QuorumResult:
        return next((r for r in self.results if r.status == self.status), self.results[0])

    def to_json(self) -> dict:
        d = self.decisive
        return {"status": self.status, "system": d.system, "requirement": d.requirement,
                "witness": d.witness.to_json() if d.witness else None, "why": d.why,
                "results": [r.to_json() for r in self.results]}


@attrs.frozen
class MinimalSet:
    """The smallest splitting or blocking set, and the proof that one fewer node is not enough.

    ``status``: ``found`` (``lower_bound_proved``: the query at ``size - 1`` was UNSAT),
    ``none`` (no such set at all, proved UNSAT) or ``unknown`` (time limit; ``size`` is then
    only an upper bound, or absent).
    """

    kind: str                        # splitting | blocking
    status: str
    system: str
    nodes: Nodes = ()
    quorum_a: Nodes = ()
    quorum_b: Nodes = ()
    lower_bound_proved: bool = False
    queries: tuple[tuple[int, str, float], ...] = ()   # (bound, sat/unsat/unknown, seconds)
    encoding: str = ""
    solver: dict = attrs.field(factory=dict, hash=False)
    seconds: float = 0.0

    @property
    def size(self) -> int | None:
        return len(self.nodes) if self.status == "found" or self.nodes else None

    def to_json(self) -> dict:
        return {"kind": self.kind, "status": self.status, "system": self.system,
                "nodes": list(self.nodes), "size": self.size,
                "quorum_a": list(self.quorum_a), "quorum_b": list(self.quorum_b),
                "lower_bound_proved": self.lower_bound_proved,
                "queries": [{"at_most": k, "answer": a, "seconds": round(s, 6)} for k, a, s in self.queries],
                "encoding": self.encoding, "solver": dict(self.solver), "seconds": round(self.seconds, 6)}
