"""Scenarios: named configurations of a protocol with their expected outcomes.

A scenario fixes parameters, the variant, the network and fault policies and
the search bounds, and records what checking it must give (as the TLA+
Examples' manifests and Stateright's tests do), so tests and ``check-all``
iterate over them instead of repeating configurations.
"""

from __future__ import annotations

from typing import Any

import attrs

OUTCOMES = ("ok", "violation", "deadlock", "liveness")


@attrs.frozen
class Scenario:
    name: str
    description: str = ""
    params: dict[str, Any] = attrs.field(factory=dict)
    variant: str | None = None
    network: Any = None
    faults: tuple = ()
    #: report states without successors (that are not ``done``) as deadlocks
    deadlock: bool = True
    #: expected status of a complete check: ok | violation | deadlock | liveness
    expect: str = "ok"
    #: the property whose violation is expected (for expect == violation / liveness)
    expect_property: str | None = None
    #: the exact distinct-state count, where known (pinned by the tests)
    states: int | None = None
    max_depth: int | None = None
    #: properties switched on only in this scenario (liveness goals, say)
    properties: tuple[str, ...] | None = None

    def __attrs_post_init__(self):
        if self.expect not in OUTCOMES:
            raise ValueError(f"scenario {self.name}: expect must be one of {OUTCOMES}")
