"""Scenarios: named configurations of a protocol with their expected outcomes.

A scenario fixes parameters, the variant, the network and fault policies and
the search bounds, and records what checking it must give (as the TLA+
Examples' manifests and Stateright's tests do), so tests and ``check-all``
iterate over them instead of repeating configurations.

A scenario also says what it is for, and so how it is checked (``kind``):
``exhaustive`` explores every reachable state (``states`` pins their number);
``bounded`` explores breadth-first up to ``max_states`` states or
``max_depth`` steps, and the expected outcome must show within that bound;
``simulate`` runs ``walks`` seeded random walks of up to ``steps`` actions,
then ``examples`` Hypothesis examples, as ``consensuslab simulate`` does (with
its defaults for the bounds left unset).  The last two are for configurations
beyond exhaustive search: their ``ok`` means "nothing found within the
bound", which is what they promise and no more.
"""

from __future__ import annotations

from typing import Any

import attrs

OUTCOMES = ("ok", "violation", "deadlock", "liveness")
EXHAUSTIVE, BOUNDED, SIMULATE = "exhaustive", "bounded", "simulate"
KINDS = (EXHAUSTIVE, BOUNDED, SIMULATE)


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
    #: exhaustive | bounded | simulate: how the scenario is checked (see the module's docstring)
    kind: str = EXHAUSTIVE
    #: bounded: the breadth-first search stops after this many distinct states
    max_states: int | None = None
    #: simulate: random walks, actions per walk or example, Hypothesis examples after the walks, seed
    walks: int | None = None
    steps: int | None = None
    examples: int | None = None
    seed: int = 0

    def __attrs_post_init__(self):
        if self.expect not in OUTCOMES:
            raise ValueError(f"scenario {self.name}: expect must be one of {OUTCOMES}")
        problem = self._kind_problem()
        if problem:
            raise ValueError(f"scenario {self.name}: {problem}")

    def _kind_problem(self) -> str | None:
        """Why the bounds do not fit the kind, or None."""
        if self.kind not in KINDS:
            return f"kind must be one of {', '.join(KINDS)}, not {self.kind!r}"
        simulated = [f for f in ("walks", "steps", "examples") if getattr(self, f) is not None]
        if self.kind != SIMULATE and simulated:
            return f"{simulated[0]} is a bound of kind='simulate', not of kind={self.kind!r}"
        if self.kind == BOUNDED and self.max_states is None and self.max_depth is None:
            return "kind='bounded' needs max_states=N or max_depth=N"
        if self.kind == EXHAUSTIVE and self.max_depth is not None:
            return "max_depth bounds the search: say kind='bounded' (a bounded run cannot claim exhaustive)"
        bounded = [f for f in ("max_states", "max_depth") if getattr(self, f) is not None]
        if self.kind != BOUNDED and bounded:
            return f"{bounded[0]} is a bound of kind='bounded', not of kind={self.kind!r}"
        if self.kind != EXHAUSTIVE and self.states is not None:
            return "states pins the count of an exhaustive search; a bounded or simulated run has none"
        if self.kind != EXHAUSTIVE and self.expect == "liveness":
            return "liveness needs the whole state graph: expect='liveness' needs kind='exhaustive'"
        return None

