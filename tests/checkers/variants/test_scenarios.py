"""Every registered protocol's scenarios give their declared outcome.

Every scenario is checked here as its kind says (exhaustive ones with their
pinned count or expected violation, deadlock or liveness failure; bounded and
simulated ones within their bounds), exactly as ``consensuslab check-all``
checks them; each counterexample must replay from its ITF document alone.
"""

import pytest

from consensuslab.checkers.variants.expect import PASS, run_scenario
from consensuslab.protocols import available, protocol_class
from consensuslab.render.text import render_outcome

CASES = []
for _name in available():
    for _s in protocol_class(_name).scenarios:
        CASES.append(pytest.param(_name, _s.name, id=f"{_name}:{_s.name}"))


@pytest.mark.parametrize("name,scenario", CASES)
def test_scenario_outcome(name, scenario):
    outcome = run_scenario(protocol_class(name), scenario, time_limit=300)
    assert outcome.verdict == PASS, render_outcome(outcome)
