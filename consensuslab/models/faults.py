"""Fault policies, chosen per scenario; their budgets live in the global state.

Because a budget is part of the state, a bounded fault ("at most one crash")
is explored exhaustively: every point at which it can happen is a branch.
"""

from __future__ import annotations

import attrs


def durable(default=attrs.NOTHING, **kwargs):
    """An attrs field that survives a crash-recover (persisted to stable storage)."""
    metadata = dict(kwargs.pop("metadata", {}) or {})
    metadata["durable"] = True
    return attrs.field(default=default, metadata=metadata, **kwargs)


@attrs.frozen
class CrashStop:
    """Up to ``max_crashes`` nodes (of ``roles``, or any) stop for good."""

    max_crashes: int = 1
    roles: tuple[str, ...] | None = None

    @property
    def budget(self) -> int:
        return self.max_crashes


@attrs.frozen
class CrashRecover(CrashStop):
    """Up to ``max_crashes`` crashes; a crashed node may recover, keeping only its durable fields."""


@attrs.frozen
class Omission:
    """The network may lose up to ``max_drops`` messages."""

    max_drops: int = 1

    @property
    def budget(self) -> int:
        return self.max_drops


@attrs.frozen
class Byzantine:
    """``nodes`` are Byzantine: their handlers do not run; they may send up to ``max_forged``
    messages from their role's forgeable universe, to anyone, in any order.

    They cannot forge other nodes' identities: the network stamps the real sender.
    """

    nodes: tuple[str, ...] = ()
    max_forged: int = 2

    @property
    def budget(self) -> int:
        return self.max_forged
