"""A trace as lanes and events: who acted at each step, which message went from whom to whom.

Actor models say it all in their actions (deliver/forge/drop carry sender,
receiver and message) and the network in each state tells when a message was
sent.  Spec models (TLA+ style) do not have nodes, so lanes are derived:
an action's node-like arguments (``RMPrepare(r1)`` is r1's step), an
upper-case role prefix (``TMCommit`` is the TM's), and a message that first
appears in a set-valued variable is a send by the acting lane; an action
whose name says it receives (``TMRcvPrepared``) is matched to the latest sent
message whose type its name mentions.  A protocol may override all of this
by defining ``lanes(self, action) -> (lane, peers)``.
"""

from __future__ import annotations

import inspect
import re
from collections import Counter
from typing import Any

import attrs

from consensuslab.models.action import describe_action
from consensuslab.models.values import canon, show

_RECEIVE = re.compile(r"rcv|recv|receive|deliver", re.I)
_ROLE = re.compile(r"^([A-Z]{2,})(?=[A-Z][a-z])")
_NODE_NAME = re.compile(r"^[a-z]{1,3}\d+$")
_NODE_PARAMS = {"node", "i", "j", "p", "r", "rm", "replica", "acceptor", "proposer", "learner",
                "leader", "server", "src", "dst", "sender", "receiver", "general", "peer", "member"}
_VALUE_PARAMS = {"v", "val", "value", "d", "digest", "b", "bal", "ballot", "index", "n", "seq", "term"}


@attrs.define
class Event:
    """One step as a chart shows it."""

    step: int
    kind: str  # deliver | send | local | crash | recover | drop | duplicate | forge | timer | step | global
    lane: str | None
    text: str
    peer: str | None = None  # the sender of a delivery; the receiver of a forge/drop/duplicate
    label: str = ""  # the message, or the action's short name
    sent_at: int | None = None  # the step that sent the delivered/dropped message (0: initial state)
    sends: list = attrs.field(factory=list)  # (receiver or None, message label) sent by this step
    fault: bool = False
    byzantine: bool = False


@attrs.define
class Story:
    lanes: list[str]
    events: list[Event]
    byzantine: frozenset = frozenset()


def is_actor(model) -> bool:
    return hasattr(model, "topology") and hasattr(model, "network")


def build(model, trace) -> Story:
    return _actor_story(model, trace) if is_actor(model) else _spec_story(model, trace)


# -- actor models -----------------------------------------------------------------
def _flight(model, state) -> Counter:
    return Counter(model.network.in_flight(state.net))


def _actor_story(model, trace) -> Story:
    byz = frozenset(model.byzantine)
    sent: dict[tuple, int] = {env: 0 for env in _flight(model, trace.initial)}
    events = []
    before = trace.initial
    for k, (act, after) in enumerate(trace.steps, start=1):
        new = _flight(model, after) - _flight(model, before)
        ev = Event(k, act.kind, act.node, describe_action(act), label=act.name,
                   fault=model.is_fault(act))
        if act.kind in ("deliver", "drop", "duplicate"):
            src, msg = act.args[0], act.args[1]
            ev.label, ev.sent_at = show(msg), sent.get((src, act.node, msg))
            ev.byzantine = src in byz
            if act.kind != "deliver":  # drawn on the sender's side, pointing at the receiver
                ev.lane, ev.peer = src, act.node
            else:
                ev.peer = src
        elif act.kind == "forge":
            ev.peer, ev.label, ev.byzantine = act.args[0], show(act.args[1]), True
        elif act.kind in ("gst", "round"):
            ev.kind, ev.lane = "global", None
        if act.kind != "forge":
            ev.sends = [(dst, show(msg)) for src, dst, msg in sorted(new.elements(), key=canon)]
        for env in new:
            sent[env] = k
        events.append(ev)
        before = after
    return Story(list(model.nodes), events, byz)


# -- spec models --------------------------------------------------------------------
def _params(model, name: str) -> list[str]:
    fn = getattr(getattr(model, "spec", None), name, None)
    if fn is None:
        return []
    try:
        return list(inspect.signature(fn).parameters)[1:]
    except (TypeError, ValueError):
        return []


def _node_label(param: str, value: Any) -> str | None:
    if param in _VALUE_PARAMS or isinstance(value, bool):
        return None
    if isinstance(value, str) and (param in _NODE_PARAMS or _NODE_NAME.match(value)):
        return value
    if isinstance(value, int) and param in _NODE_PARAMS:
        return f"{param if len(param) > 2 else 'node'} {value}"
    return None


def _is_lanes(out) -> bool:
    return (isinstance(out, (tuple, list)) and len(out) == 2 and (out[0] is None or isinstance(out[0], str))
            and isinstance(out[1], (tuple, list)) and all(isinstance(p, str) for p in out[1]))


def spec_lane(model, action) -> tuple[str | None, list[str]]:
    """(acting lane, other lanes named) for a spec action."""
    hook = getattr(model.definition, "lanes", None)
    if callable(hook):
        from consensuslab.models.blame import call_hook

        lane, peers = call_hook(model.protocol, "lanes", "a pair (lane name or None, list of lane names)", hook,
                                action, check=_is_lanes)
        return lane, list(peers)
    nodes = [(p, lbl) for p, v in zip(_params(model, action.name), action.args)
             if (lbl := _node_label(p, v)) is not None]
    m = _ROLE.match(action.name)
    role = m.group(1) if m else None
    own = [lbl for p, lbl in nodes if role and p.lower() == role.lower()]
    if own:
        return own[0], [lbl for _, lbl in nodes if lbl != own[0]]
    if role:
        return role, [lbl for _, lbl in nodes]
    if nodes:
        return nodes[0][1], [lbl for _, lbl in nodes[1:]]
    return None, []


def _messages(encoded: dict) -> Counter:
    """Messages (attrs values) held in set-valued variables: the TLA+ ``msgs`` idiom."""
    out: Counter = Counter()
    for value in encoded.values():
        if isinstance(value, frozenset):
            out.update(x for x in value if attrs.has(type(x)))
    return out


def _spec_story(model, trace) -> Story:
    lanes: list[str] = []
    sent: list[tuple[Any, int, str | None]] = []  # (message, step, sender lane)
    events = []
    before = model.encode_state(trace.initial)
    for k, (act, state) in enumerate(trace.steps, start=1):
        after = model.encode_state(state)
        lane, peers = spec_lane(model, act)
        for name in [lane, *peers]:
            if name is not None and name not in lanes:
                lanes.append(name)
        fault = model.is_fault(act)
        ev = Event(k, "step", lane, describe_action(act), label=act.name, fault=fault,
                   byzantine=fault and bool(re.search(r"forge|byzantin|traitor|equivocat", act.name, re.I)))
        new = sorted((_messages(after) - _messages(before)).elements(), key=canon)
        ev.sends = [(None, show(m)) for m in new]
        if _RECEIVE.search(act.name):
            got = _match(act, sent)
            if got is not None:
                msg, at, src = got
                ev.kind, ev.label, ev.sent_at, ev.peer = "deliver", show(msg), at, src
        sent.extend((m, k, lane) for m in new)
        events.append(ev)
        before = after
    if not lanes or any(e.lane is None for e in events):
        lanes.append(model.protocol)
        for e in events:
            e.lane = e.lane or model.protocol
    return Story(lanes, events, frozenset())


def _match(act, sent: list) -> tuple | None:
    """The latest sent message whose type the receiving action names, preferring one naming its args."""
    lowered = act.name.lower()
    best, best_score = None, -1
    for msg, at, src in sent:
        if type(msg).__name__.lower() not in lowered:
            continue
        values = {getattr(msg, f.name) for f in attrs.fields(type(msg))}
        score = sum(1 for a in act.args if a in values)
        if score >= best_score:
            best, best_score = (msg, at, src), score
    return best
