"""Model-based testing in a user's own code: drive a sans-IO implementation from a model.

    from consensuslab.testing import Adapter, conform
    result = conform(MyAdapter(), max_depth=12)       # breadth-first, every behaviour within the bound
    assert result.status == "ok", result.divergence.message

``assert_conforms_along`` is what a regression test written by ``consensuslab
conform`` calls: it replays recorded model steps on the implementation and
fails with the divergence where it still diverges.
"""

from __future__ import annotations

import json
from typing import Any

from consensuslab.checkers.conformance.adapter import Adapter
from consensuslab.checkers.conformance.explore import conform as explore
from consensuslab.checkers.conformance.explore import run_along
from consensuslab.checkers.conformance.lockstep import Lockstep
from consensuslab.checkers.conformance.result import ConformanceResult
from consensuslab.commands.user_code import load_adapter, model_for
from consensuslab.traces.itf import encode_action
from consensuslab.traces.result import Trace


def conform(adapter: Adapter | str, protocol: str | None = None, params: dict | None = None, *,
            variant: str | None = None, scenario: str | None = None, **options: Any) -> ConformanceResult:
    """Check an implementation against its model (options as ``checkers.conformance.explore.conform``)."""
    if isinstance(adapter, str):
        adapter = load_adapter(adapter)
    return explore(model_for(adapter, protocol, params, variant, scenario), adapter, **options)


def assert_conforms_along(adapter: Adapter | str, steps: list[dict], protocol: str | None = None,
                          params: dict | None = None, variant: str | None = None,
                          scenario: str | None = None) -> None:
    """Replay the model steps ``steps`` (ITF-encoded actions) on the implementation; AssertionError where it diverges."""
    if isinstance(adapter, str):
        adapter = load_adapter(adapter)
    model = model_for(adapter, protocol, params, variant, scenario)
    state = model.initial_states()[0]
    trace = Trace(state)
    for k, want in enumerate(steps, start=1):
        text = json.dumps(want, sort_keys=True)
        step = next(((a, t) for a, t in model.successors(state)
                     if json.dumps(encode_action(a), sort_keys=True) == text), None)
        if step is None:
            raise AssertionError(f"step {k}: the model no longer takes {want.get('name')} here (has it changed?)")
        trace.steps.append(step)
        state = step[1]
    divergence, _ = run_along(Lockstep(model, adapter), trace)
    if divergence is not None:
        raise AssertionError(f"step {divergence.step}: {divergence.message}")
