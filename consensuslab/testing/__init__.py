"""Protocol state machines in a user's own test suite, in one line each.

    from consensuslab.testing import stateful_test
    TestRaftDeep = stateful_test("raft", params={"servers": 5}, max_examples=200, steps=60)

and an implementation driven from its model (``conformance``)::

    from consensuslab.testing import Adapter, conform
    assert conform(MyAdapter(), max_depth=10).status == "ok"

pytest collects the returned ``unittest.TestCase`` and runs it like any
Hypothesis test (profiles, example database, ``@reproduce_failure``); a failure
shows Hypothesis's shrunk steps and our rendered trace.
"""

from __future__ import annotations

from typing import Any

from hypothesis import settings

from consensuslab.checkers.conformance.adapter import Adapter, NotEnabled
from consensuslab.testing.conformance import assert_conforms_along, conform

__all__ = ["Adapter", "NotEnabled", "assert_conforms_along", "conform", "stateful_test"]


def stateful_test(protocol_name: str, params: dict[str, Any] | None = None, variant: str | None = None,
                  scenario: str | None = None, max_examples: int | None = None, steps: int | None = None):
    """A ``TestCase`` class exploring the configured protocol; unset limits come from the active profile."""
    from consensuslab.checkers.simulation.machine import as_state_machine
    from consensuslab.checkers.simulation.profiles import SLOW_MODEL_CHECKS
    from consensuslab.protocols import configure
    from consensuslab.render.text import render_text

    model = configure(protocol_name, params or {}, variant, scenario).compile()
    machine = as_state_machine(model, describe=render_text)
    overrides: dict[str, Any] = {"deadline": None, "suppress_health_check": SLOW_MODEL_CHECKS}
    if max_examples is not None:
        overrides["max_examples"] = max_examples
    if steps is not None:
        overrides["stateful_step_count"] = steps
    case = machine.TestCase  # a fresh class on every access: take it once
    case.settings = settings(**overrides)
    case.__name__ = case.__qualname__ = "Test" + machine.__name__
    case.machine = machine
    return case
