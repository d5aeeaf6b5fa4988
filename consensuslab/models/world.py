"""What properties of an actor protocol see: node states by role, in-flight messages, faults."""

from __future__ import annotations

from typing import Any


class World:
    """A read-only view of one global state.

    ``states(role)`` excludes Byzantine nodes (their state means nothing) but
    includes crashed ones (a crashed node's decision still counts for
    agreement); ``correct(role)`` excludes both.
    """

    __slots__ = ("model", "raw")

    def __init__(self, model, raw):
        self.model = model
        self.raw = raw

    def nodes(self, role: str) -> tuple[str, ...]:
        return self.model.topology[role]

    def __getitem__(self, node: str) -> Any:
        return self.raw.locals[self.model.index[node]]

    def states(self, role: str) -> list:
        byz = self.model.byzantine
        return [self[n] for n in self.model.topology[role] if n not in byz]

    def items(self, role: str) -> list[tuple[str, Any]]:
        byz = self.model.byzantine
        return [(n, self[n]) for n in self.model.topology[role] if n not in byz]

    def correct(self, role: str) -> list[tuple[str, Any]]:
        bad = self.model.byzantine | self.raw.down
        return [(n, self[n]) for n in self.model.topology[role] if n not in bad]

    @property
    def crashed(self) -> frozenset:
        return self.raw.down

    @property
    def byzantine(self) -> frozenset:
        return self.model.byzantine

    @property
    def in_flight(self) -> list[tuple[str, str, Any]]:
        return self.model.network.in_flight(self.raw.net)

    def timers(self, node: str) -> frozenset:
        return self.raw.timers[self.model.index[node]]
