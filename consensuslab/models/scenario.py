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
    """One named configuration of a protocol and what checking it must give.

    ``Scenario("crash", "the TM may crash", {"rm": 3}, faults=(CrashStop(1, roles=("tm",)),),
    expect="deadlock")``: ``params`` fix parameters (as ``-p``), ``variant`` picks a broken
    variant, ``network`` and ``faults`` replace the protocol's defaults (actor protocols),
    ``deadlock`` overrides the class's ``check_deadlock``, ``expect`` (and ``expect_property``)
    is the outcome a complete check must give, ``states`` the exact distinct-state count where
    known, ``max_depth`` a depth bound, ``properties`` the properties checked.  ``consensuslab
    check P --scenario NAME`` runs one; ``check-all`` and the pytest plugin run them all.
    """

    name: str
    description: str = ""
    params: dict[str, Any] = attrs.field(factory=dict)
    variant: str | None = None
    network: Any = None
    faults: tuple = ()
    #: report states without successors (that are not ``done``) as deadlocks; None (the default):
    #: as the protocol class says (its ``check_deadlock``, True unless it sets it False)
    deadlock: bool | None = None
    #: expected status of a complete check: ok | violation | deadlock | liveness
    expect: str = "ok"
    #: the property whose violation is expected (for expect == violation / liveness)
    expect_property: str | None = None
    #: the exact distinct-state count, where known (pinned by the tests)
    states: int | None = None
    max_depth: int | None = None
    #: the properties this scenario checks, by name; None: every safety property the protocol
    #: declares.  A liveness property (``@eventually``, ``@leads_to``, ``@always_eventually``) is
    #: checked only where a scenario names it here (or ``--property`` does), since its verdict
    #: depends on the fairness and faults the scenario states.
    properties: tuple[str, ...] | None = None

    def __attrs_post_init__(self):
        if self.expect not in OUTCOMES:
            raise ValueError(f"scenario {self.name}: expect must be one of {OUTCOMES}")
