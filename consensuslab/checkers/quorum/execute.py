"""From a Z3 quorum witness to a concrete execution that breaks agreement.

Z3 answers an arithmetic question: can two quorums of this protocol's
quorum system fail to share a (correct) node?  Its witness names two quorums
and a faulty set.  Here that witness configures the protocol (its quorum size,
and the witness's faulty nodes as the protocol's Byzantine nodes where it has
them), and the model checker searches for the execution in which the two
quorums decide differently.  The result is an ordinary counterexample, written
as ITF, that ``consensuslab replay`` confirms.
"""

from __future__ import annotations

from typing import Any

import attrs

from consensuslab.checkers.quorum.queries import check_requirement
from consensuslab.checkers.quorum.systems import Budget, ByzantineIntersection, Intersection, Threshold
from consensuslab.checkers.run import check
from consensuslab.errors import UsageError

#: the safety property each quorum-based protocol's agreement rests on, in order of preference
AGREEMENT_PROPERTIES = ("Consistency", "agreement", "election_safety", "state_machine_safety")


@attrs.define
class Execution:
    status: str  # violated | holds | not-found | unknown
    quorum: Any  # the QuorumResult from Z3
    model: Any = None
    check: Any = None  # the CheckResult of the guided search
    property: str | None = None
    params: dict = attrs.field(factory=dict)

    def to_json(self) -> dict:
        out = {"status": self.status, "quorum": self.quorum.to_json(), "property": self.property,
               "params": dict(self.params)}
        if self.check is not None:
            out["check"] = self.check.to_json()
        return out


def quorum_system_of(definition) -> tuple[Threshold, Any, dict]:
    """The protocol's quorum system as a Z3-checkable system and the requirement it relies on."""
    describe = getattr(definition, "quorum_system", None)
    if describe is None:
        raise UsageError(f"{definition.name} exposes no quorum system; "
                         "valid: paxos, paxos-actors, raft, pbft")
    qs = describe()
    n, q = int(qs["n"]), int(qs["q"])
    system = Threshold(n, q)
    if qs.get("kind") == "byzantine":
        return system, ByzantineIntersection(Budget(count=int(qs.get("f", 0)))), qs
    return system, Intersection(), qs


def agreement_property(definition, model) -> str:
    declared = getattr(definition, "agreement_property", None)
    invariants = [p.name for p in model.invariants]
    for name in ((declared,) if declared else ()) + AGREEMENT_PROPERTIES:
        if name in invariants:
            return name
    raise UsageError(f"{definition.name} declares none of the agreement properties "
                     f"{', '.join(AGREEMENT_PROPERTIES)}")


def execute(protocol_cls, params: dict[str, Any], variant: str | None = None, scenario: str | None = None,
            quorum_size: int | None = None, max_states: int | None = None,
            time_limit: float | None = None) -> Execution:
    """Ask Z3 for a split of the protocol's quorums, then find the execution that realises it."""
    params = dict(params)
    if quorum_size is not None:
        if "quorum" not in protocol_cls.params:
            raise UsageError(f"{protocol_cls.name} has no quorum parameter; valid: paxos, paxos-actors, raft, pbft")
        params["quorum"] = quorum_size
    definition = protocol_cls.configure(params, variant, scenario)
    system, requirement, qs = quorum_system_of(definition)
    verdict = check_requirement(system, requirement, time_limit=time_limit)
    if verdict.status != "violated":
        return Execution("holds" if verdict.status == "holds" else "unknown", verdict,
                         params=dict(definition.param_values))
    faulty = list(verdict.witness.faulty)
    if faulty and "byzantine" in protocol_cls.params:
        # The witness's faulty nodes become the protocol's Byzantine replicas (n1 is replica 0).
        params["byzantine"] = ",".join(str(int(v.lstrip("n")) - 1) for v in faulty)
        definition = protocol_cls.configure(params, variant, scenario)
    model = definition.compile()
    prop = agreement_property(definition, model)
    model.invariants = [p for p in model.invariants if p.name == prop]
    model.step_properties, model.witnesses, model.check_deadlock = [], [], False
    result = check(model, max_states=max_states, time_limit=time_limit, progress=False, liveness=False)
    status = {"violation": "violated", "ok": "not-found"}.get(result.status, "unknown")
    return Execution(status, verdict, model, result, prop, dict(definition.param_values))
