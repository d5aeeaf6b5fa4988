"""Re-executing a trace file against the model it names.

Replay goes by action *values*: at each step the recorded action must be one
of the model's enabled actions, and the state it leads to must equal the
recorded one.  At the end the recorded violation must hold again.  Any
divergence is reported with the step where it happened.
"""

from __future__ import annotations

import json
from typing import Any

import attrs

from consensuslab.checkers.result import Trace, Violation
from consensuslab.errors import (
    EXIT_DEADLOCK, EXIT_LIVENESS, EXIT_SAFETY, ReplayError, UsageError,
)
from consensuslab.models.itf import encode, encode_action, same

KIND_EXIT = {"invariant": EXIT_SAFETY, "transition": EXIT_SAFETY, "deadlock": EXIT_DEADLOCK,
             "liveness": EXIT_LIVENESS}


@attrs.define
class Replayed:
    model: Any
    trace: Trace
    violation: Violation
    exit_code: int


def load_document(path: str) -> dict[str, Any]:
    """Read and shape-check an ITF trace file; one-line UsageErrors for anything malformed."""
    try:
        with open(path, encoding="utf-8") as fh:
            doc = json.load(fh)
    except FileNotFoundError:
        raise UsageError(f"trace file {path!r} does not exist") from None
    except IsADirectoryError:
        raise UsageError(f"trace file {path!r} is a directory") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise UsageError(f"trace file {path!r} is not JSON: {exc}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("states"), list) or not doc["states"]:
        raise UsageError(f"trace file {path!r} is not an ITF trace: it needs a non-empty 'states' list")
    meta = doc.get("#meta")
    if not isinstance(meta, dict) or not isinstance(meta.get("protocol"), str):
        raise UsageError(f"trace file {path!r} has no '#meta.protocol': it does not say what it is a trace of")
    for i, st in enumerate(doc["states"]):
        if not isinstance(st, dict) or not isinstance(st.get("#meta"), dict):
            raise UsageError(f"trace file {path!r}: state {i} is not an object with '#meta'")
        if i > 0 and not isinstance(st["#meta"].get("action"), dict):
            raise UsageError(f"trace file {path!r}: state {i} does not record the action that led to it")
    if meta.get("kind") not in KIND_EXIT:
        raise UsageError(f"trace file {path!r}: '#meta.kind' must be one of {', '.join(KIND_EXIT)}")
    if not isinstance(meta.get("property"), str):
        raise UsageError(f"trace file {path!r}: '#meta.property' names no property")
    return doc


def _vars(encoded_state: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in encoded_state.items() if k != "#meta"}


def _encoded(model, state) -> dict[str, Any]:
    return {k: encode(v) for k, v in model.encode_state(state).items()}


def _diff_names(a: dict, b: dict) -> str:
    names = sorted(k for k in set(a) | set(b) if not same(a.get(k), b.get(k)))
    return ", ".join(names) or "?"


def replay_document(doc: dict[str, Any], expected_protocol: str | None = None) -> Replayed:
    """Re-execute ``doc``; raises ReplayError (naming the step) where it does not reproduce."""
    from consensuslab.protocols import configure

    meta = doc["#meta"]
    if expected_protocol is not None and meta["protocol"] != expected_protocol:
        raise UsageError(f"the trace is of {meta['protocol']}, not {expected_protocol}")
    params = meta.get("params") or {}
    if not isinstance(params, dict):
        raise UsageError("'#meta.params' must be an object")
    source = meta.get("protocol_source")
    if isinstance(source, str) and source:
        # a user's protocol: the class recorded at check time, never a registry name it may shadow
        from consensuslab.loader import load_source

        model = load_source(source).configure(params, meta.get("variant"), meta.get("scenario")).compile()
    else:
        model = configure(meta["protocol"], params, meta.get("variant"), meta.get("scenario")).compile()
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
        from consensuslab.checkers import liveness

        liveness.confirm_lasso(model, trace, name)


def replay_file(path: str, expected_protocol: str | None = None) -> Replayed:
    return replay_document(load_document(path), expected_protocol)
