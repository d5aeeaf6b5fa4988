"""The model's own logs: each event names the model action it took and shows the node's state after it.

``NodeViews`` says what one node of a model shows: an actor's local state, or
a spec's entries of the variables its nodes index.  ``NativeMapping``
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
from consensuslab.models.actor_model import ActorModel
from consensuslab.models.messages import wiring_of
from consensuslab.traces.itf import encode, encode_action

INIT = "init"


class NodeViews:
    """What each node of a model shows, and the messages in flight between nodes.

    An actor model says it itself (its local states, its network).  A spec says it
    in its ``participants`` (``models.messages``): the variables indexed by its nodes,
    the variables holding messages and where each goes; a spec that declares none
    gets them inferred from its first state.
    """

    def __init__(self, model):
        self.model = model
        self.actors = isinstance(model, ActorModel)
        self.wiring = None if self.actors else wiring_of(model, model.initial_states()[0])
        members = tuple(model.nodes) if self.actors else tuple(self.wiring.nodes)
        #: a log names a node by a string: the model's name, or (a spec's node that is not one) its label
        self.names = {node: node if isinstance(node, str) else self.wiring.label(node) for node in members}
        self.members = {name: node for node, name in self.names.items()}
        self.nodes = tuple(self.names.values())

    def name(self, node) -> str | None:
        return None if node is None else self.names.get(node, str(node))

    def view(self, state, name: str) -> Any:
        """The node's local state (actors) or its entries of the variables indexed by nodes (specs)."""
        if self.actors:
            return state.locals[self.model.index[name]]
        node, out = self.members.get(name, name), {}
        for variable, nodes in self.wiring.indexed.items():
            value = getattr(state, variable, None)
            if node in nodes and isinstance(value, tuple) and len(value) == len(nodes):
                out[variable] = value[nodes.index(node)]
        return out

    def in_flight(self, state) -> list[tuple] | None:
        """The envelopes ``(src, dst, msg)`` in flight, one per copy (None where the model says nothing)."""
        if self.actors:
            return list(self.model.network.in_flight(state.net))
        if not self.wiring.channels and not self.wiring.in_flight(state):
            return None
        out = []
        for (channel, m), k in sorted(self.wiring.in_flight(state).items(), key=lambda item: repr(item[0][1])):
            src = self.name(self.wiring.sender(channel, m))
            for dst in self.wiring.receivers(channel, m):
                out.extend([(src, self.name(dst), m)] * k)
        return out


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
        self.views: NodeViews | None = None

    def prepare(self, model, log) -> None:
        self.views = NodeViews(model)

    def node_of(self, model, action: Action) -> str | None:
        """The node taking ``action``, by the name the log gives it."""
        return self.views.name(model.node_of(action))

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
            got = self._views[key] = (after, view_fields(self.views.view(after, node)))
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
