"""The model's own logs: each event names the model action it took and shows the node's state after it.

``node_view`` is what one node of a model shows: an actor's local state, or,
for a spec that defines ``node_view(state, node)``, that.  ``NativeMapping``
reads logs written by ``export`` (or by an implementation that logs in the
model's own terms): an ``init`` event checks a node's initial state, every
other event must carry the encoded ``action`` it took, and its ``state`` is
compared field by field.
"""

from __future__ import annotations

import json
from typing import Any

import attrs

from consensuslab.checkers.validation.expect import Expect
from consensuslab.checkers.validation.mapping import Mapping
from consensuslab.errors import UsageError
from consensuslab.models.action import Action
from consensuslab.models.actor_model import ActorState
from consensuslab.traces.itf import encode, encode_action

INIT = "init"


def node_view(model, state, node: str) -> Any:
    """What ``node`` shows of ``state``: its local state (actors) or the spec's ``node_view``; None if unknown."""
    view = getattr(model, "node_view", None)
    if callable(view):
        return view(state, node)
    if isinstance(state, ActorState):
        return state.locals[model.index[node]]
    return None


def view_fields(view: Any) -> dict[str, Any]:
    """A node's view as encoded fields (a record's fields, a dict's keys; anything else is one ``state``)."""
    if view is None:
        return {}
    if isinstance(view, dict):
        return {str(k): encode(v) for k, v in view.items()}
    if isinstance(view, tuple) and hasattr(view, "_asdict"):
        return {k: encode(v) for k, v in view._asdict().items()}
    if attrs.has(type(view)):
        return {f.name: encode(getattr(view, f.name)) for f in attrs.fields(type(view)) if f.init}
    return {"state": encode(view)}


def _dump(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


class NativeMapping(Mapping):
    """Reads logs in the model's own terms (what ``export`` writes); the default of ``validate``."""

    def __init__(self):
        self._encoded: dict[Action, str] = {}
        self._views: dict[tuple[int, str], tuple[Any, dict[str, Any]]] = {}

    def expectations(self, model, node, events):
        for event in events:
            fields = event.state
            if fields is not None and not isinstance(fields, dict):
                raise UsageError(f"{event.where}: 'state' must be an object of fields")
            pairs = tuple(sorted((fields or {}).items()))
            if event.kind == INIT:
                yield Expect(node, event.ref, None, fields=pairs, label=f"{node}'s initial state")
                continue
            want = event.get("action")
            if not isinstance(want, dict):
                raise UsageError(f"{event.where}: no 'action': the native mapping reads logs that name the model "
                                 f"action of each event (as export-log writes them); give --mapping for others")
            yield Expect(node, event.ref, self._matcher(_dump(want)), fields=pairs, label=_label(want))

    def _matcher(self, want: str):
        encoded = self._encoded

        def takes(action: Action) -> bool:
            got = encoded.get(action)
            if got is None:
                got = encoded[action] = _dump(encode_action(action))
            return got == want

        return takes

    def observe(self, model, node, name, before, action, after):
        key = (id(after), node)
        got = self._views.get(key)
        if got is None or got[0] is not after:  # an id is reused only once its state is gone
            if len(self._views) > 4096:
                self._views.clear()
            got = self._views[key] = (after, view_fields(node_view(model, after, node)))
        return got[1].get(name)


def _label(action: dict) -> str:
    name, node = action.get("name"), action.get("node")
    return f"{name}" + (f" at {node}" if node else "")


def readable(value: Any) -> Any:
    """An ITF-encoded value as plain JSON for people: ``{"#bigint": "3"}`` is 3, a tuple a list, a set a list."""
    if isinstance(value, list):
        return [readable(v) for v in value]
    if not isinstance(value, dict):
        return value
    if "#bigint" in value and len(value) == 1:
        try:
            return int(value["#bigint"])
        except (TypeError, ValueError):
            return value
    for key in ("#tup", "#set"):
        if key in value and len(value) == 1 and isinstance(value[key], list):
            return [readable(v) for v in value[key]]
    if "#map" in value and len(value) == 1 and isinstance(value["#map"], list):
        return {json.dumps(readable(k)) if not isinstance(readable(k), str) else readable(k): readable(v)
                for k, v in (p for p in value["#map"] if isinstance(p, list) and len(p) == 2)}
    if set(value) == {"tag", "value"} and isinstance(value["tag"], str):
        inner = readable(value["value"])
        return value["tag"] if inner in ({}, []) else {value["tag"]: inner}
    return {k: readable(v) for k, v in value.items()}
