"""Faults are declared (``@action(fault=...)``, ``fault_actions``), not guessed from action names; every
bundled scenario passes the lint (declarations, UNCHANGED, fairness)."""

import pytest

from consensuslab.checkers.search.lint import lint
from consensuslab.models.action import Action
from consensuslab.protocols import available, protocol_class

# protocol -> (faults, protocol steps whose names once read as faults)
DECLARED = {
    "hash-chain": (["Tamper"], ["Append", "Verify"]),
    "raft": (["DropMessage", "DuplicateMessage", "Restart"], ["DropStaleResponse", "Timeout"]),
    "nakamoto": (["AdversaryMine", "AdversaryRelease", "AdversaryForge"], ["Mine", "Receive"]),
    "byzantine-generals": (["TraitorSends"], ["Round", "Decide"]),
    "byzantine-generals-signed": (["TraitorSends"], ["Deliver", "Decide"]),
    "pbft": (["AcceptByzantineNewView"], ["AcceptNewView", "StartViewChange"]),
    "smr-clocks": (["Crash"], ["Request", "Receive"]),
}


@pytest.mark.parametrize("name", sorted(DECLARED))
def test_bundled_faults_are_declared(name):
    model = protocol_class(name)().compile()
    faults, steps = DECLARED[name]
    assert all(model.is_fault(Action("step", a)) for a in faults)
    assert not any(model.is_fault(Action("step", a)) for a in steps)


SCENARIOS = [(name, s.name) for name in available() for s in protocol_class(name).scenarios]


@pytest.mark.parametrize("name,scenario", SCENARIOS, ids=[f"{n}:{s}" for n, s in SCENARIOS])
def test_every_bundled_scenario_passes_the_lint(name, scenario):
    assert lint(protocol_class(name).configure(scenario=scenario).compile(), 200) == []
