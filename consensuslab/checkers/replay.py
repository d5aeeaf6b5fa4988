"""Re-executing a trace against its model (``loader.model_for_trace`` builds the model a trace names).

Replay goes by action *values*: at each step the recorded action must be one
of the model's enabled actions, and the state it leads to must equal the
recorded one.  At the end the recorded violation must hold again.  Any
divergence is reported with the step where it happened.
"""

from __future__ import annotations

import json
from typing import Any

import attrs

from consensuslab.errors import EXIT_DEADLOCK, EXIT_LIVENESS, EXIT_SAFETY, ReplayError
from consensuslab.traces.itf import encode, encode_action, same
from consensuslab.traces.result import Trace, Violation

KIND_EXIT = {"invariant": EXIT_SAFETY, "transition": EXIT_SAFETY, "deadlock": EXIT_DEADLOCK,
             "liveness": EXIT_LIVENESS}


@attrs.define
class Replayed:
    model: Any
    trace: Trace
    violation: Violation
    exit_code: int


def _vars(encoded_state: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in encoded_state.items() if k != "#meta"}


def _encoded(model, state) -> dict[str, Any]:
    return {k: encode(v) for k, v in model.encode_state(state).items()}


def _diff_names(a: dict, b: dict) -> str:
    names = sorted(k for k in set(a) | set(b) if not same(a.get(k), b.get(k)))
    return ", ".join(names) or "?"


def replay_document(doc: dict[str, Any], model) -> Replayed:
    """Re-execute ``doc`` on ``model``; raises ReplayError (naming the step) where it does not reproduce."""
    _same_configuration(doc["#meta"], model)
    meta = doc["#meta"]
    states = doc["states"]
    first = _vars(states[0])
    state = next((s for s in model.initial_states() if same(_encoded(model, s), first)), None)
    if state is None:
        raise ReplayError("step 0: the initial state is not an initial state of the model", 0)
    trace = Trace(state)
    for i, recorded in enumerate(states[1:], start=1):
        want = recorded["#meta"]["action"]
        label = recorded["#meta"].get("label", want.get("name"))
        nxt = None
        for act, candidate in model.successors(state):
            if same(encode_action(act), want):
                nxt = candidate
                break
        if nxt is None:
            raise ReplayError(f"step {i}: action '{label}' is not enabled", i)
        got = _encoded(model, nxt)
        if not same(got, _vars(recorded)):
            raise ReplayError(f"step {i}: '{label}' leads to a different state than recorded "
                              f"(differs in {_diff_names(got, _vars(recorded))})", i)
        trace.steps.append((act, nxt))
        state = nxt
    if doc.get("loop") is not None:
        trace.loop = int(doc["loop"])
    kind, name = meta["kind"], meta["property"]
    _confirm(model, trace, kind, name)
    return Replayed(model, trace, Violation(name, kind, trace), KIND_EXIT[kind])


def _confirm(model, trace: Trace, kind: str, name: str) -> None:
    last = len(trace)
    if kind == "invariant":
        if model.holds(model.property_named(name), trace.states[-1]):
            raise ReplayError(f"step {last}: {name} holds at the end of the trace", last)
    elif kind == "transition":
        if not trace.steps:
            raise ReplayError("the trace has no step for a transition property to fail on", 0)
        before = trace.states[-2]
        act, after = trace.steps[-1]
        if model.step_holds(model.property_named(name), before, act, after):
            raise ReplayError(f"step {last}: {name} holds on the last step", last)
    elif kind == "deadlock":
        if model.successors(trace.states[-1]):
            raise ReplayError(f"step {last}: the last state has enabled actions; no deadlock", last)
        if model.is_done(trace.states[-1]):
            raise ReplayError(f"step {last}: the last state is a final state, not a deadlock", last)
    elif kind == "liveness":
        from consensuslab.checkers.liveness import check as liveness

        liveness.confirm_lasso(model, trace, name)


def _same_configuration(meta: dict, model) -> None:
    """The trace must be of this model's protocol, variant, scenario and parameters."""
    mine = model.meta()
    for key in ("protocol", "variant", "scenario"):
        if meta.get(key) != mine[key]:
            raise ReplayError(f"the trace is of {key} {meta.get(key)!r}, the model of {mine[key]!r}", 0)
    params = {k: mine["params"].get(k) for k in meta.get("params") or {}}
    given = {k: _as_declared(model, k, v) for k, v in (meta.get("params") or {}).items()}
    if _params_text(params) != _params_text(given):
        raise ReplayError(f"the trace's parameters {meta.get('params')} are not the model's {mine['params']}", 0)


def _as_declared(model, key: str, value):
    """A trace's parameter value as the model's declaration reads it (``"0,2"`` for a set, from older traces)."""
    from consensuslab.errors import UsageError
    from consensuslab.models.params import plain

    param = (getattr(model.definition, "params", None) or {}).get(key)
    if param is None:
        return value
    try:
        parsed = param.parse(key, value) if isinstance(value, str) and param.type is not str else param.validate(key, value)
    except UsageError:
        return value
    return plain(parsed)


def _params_text(params: dict) -> str:
    return json.dumps(params, sort_keys=True, default=str)  # as the trace file wrote them
