"""Every registered protocol's scenarios give their declared outcome.

Scenarios with a pinned state count, or an expected violation or deadlock,
are checked exhaustively here; each counterexample is written as ITF and
replayed from the document, as ``consensuslab replay`` would.
"""

import pytest

from consensuslab.checkers.explicit import check
from consensuslab.checkers.replay import replay_document
from consensuslab.models.itf import trace_document
from consensuslab.protocols import available, protocol_class

CASES = []
for _name in available():
    for _s in protocol_class(_name).scenarios:
        if _s.expect in ("violation", "deadlock") or _s.states is not None:
            CASES.append(pytest.param(_name, _s, id=f"{_name}:{_s.name}"))


@pytest.mark.parametrize("name,scenario", CASES)
def test_scenario_outcome(name, scenario):
    model = protocol_class(name).configure(scenario=scenario.name).compile()
    r = check(model, max_depth=scenario.max_depth, time_limit=240, progress=False)
    assert r.status != "incomplete", f"{name}:{scenario.name} did not finish ({r.stopped_by})"
    assert r.status == scenario.expect, r.violation
    if scenario.states is not None and scenario.expect == "ok":
        assert r.distinct_states == scenario.states
    if scenario.expect in ("violation", "deadlock"):
        if scenario.expect_property:
            assert r.violation.property == scenario.expect_property
        doc = trace_document(model, r.violation.trace, r.violation, r.status)
        replayed = replay_document(doc)
        assert replayed.exit_code == r.exit_code
        assert len(replayed.trace) == len(r.violation.trace)
