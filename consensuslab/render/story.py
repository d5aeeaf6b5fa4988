"""A trace as lanes, events and arrows: who acted at each step, which message went from whom to whom.

Every renderer (text, Mermaid, SVG, HTML) draws from this one reading, so they
agree.  Lanes are nodes, never made up: an actor model's nodes; a spec's
declared participants (``models/messages.py``), in order, then any node an
action or a message names.  A step belongs to the node its action says
(``@action(by=...)``); a step of no single node (an agreed append, a
lock-step round) is *global* and spans the lanes.

Arrows are messages.  An actor model's deliveries say sender, receiver and
message, and the network in each state says when it was sent.  For a spec, a
message that appears in a channel is sent by its sender to its receivers (the
declared routes); it is received by the step that takes it as an argument
(``Phase1b(a1, Msg1a(bal=0))``, raft's handlers), or consumes it, or, in a
grow-only message set, by a step named like a receipt (``TMRcvPrepared``)
whose node is a receiver of a message of the type its name mentions.  A step
that only names another node (an atomic RPC, ``Receive(m1, src)``) is an
arrow between the two.  ``Arrow.at`` is where a chart that cannot slant
arrows (Mermaid) draws it: at the delivery for actor models, at the send for
specs, whose messages may be read by several steps.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import NamedTuple

import attrs

from consensuslab.models.action import describe_action
from consensuslab.models.values import canon, show
from consensuslab.render.changes import state_diff
from consensuslab.render.naming import Names, short_action

_RECEIVE = re.compile(r"rcv|recv|receive|deliver|accept|handle", re.I)
_DROP = re.compile(r"drop|lose|lost", re.I)
_BYZANTINE = re.compile(r"forge|byzantin|traitor|equivocat", re.I)


class Receipt(NamedTuple):
    src: str
    dst: str
    label: str
    sent: int | None  # the step that sent it (0: in flight from the start)
    again: bool  # the node acted on this message before


class Send(NamedTuple):
    src: str | None
    dst: str | None  # None: to nobody in particular
    label: str


@attrs.define
class Arrow:
    """A message from lane ``src`` (sent at step ``sent``, 0 = before the first step) to ``dst``."""

    src: str
    dst: str
    sent: int
    received: int | None  # the step that first received it; None: not received in the trace
    label: str
    kind: str = "message"  # message | forged | dropped | duplicate | call
    at: int = 0
    byzantine: bool = False


@attrs.define
class Event:
    """One step as a chart shows it."""

    step: int
    kind: str  # step | local | deliver | timer | crash | recover | drop | duplicate | forge | global
    lane: str | None
    text: str  # the whole action: who did what to whom
    title: str  # the action with messages by type only (their arrows show them)
    effects: list = attrs.field(factory=list)  # what changed, node-owned positions named; channels left out
    receives: list = attrs.field(factory=list)  # Receipt per message the step acted on
    sends: list = attrs.field(factory=list)  # Send per message and receiver
    fault: bool = False
    byzantine: bool = False


@attrs.define
class Story:
    lanes: list[str]
    events: list[Event]
    arrows: list[Arrow]
    byzantine: frozenset = frozenset()
    names: Names | None = None


def is_actor(model) -> bool:
    return hasattr(model, "topology") and hasattr(model, "network")


def build(model, trace, names: Names | None = None) -> Story:
    names = names or Names(model, trace.initial)
    return _actor_story(model, trace, names) if is_actor(model) else _spec_story(model, trace, names)


def effects(model, names: Names, before, after, skip: frozenset, own: str | None = None) -> list[str]:
    """The step's changes as lines, leaving out the variables its arrows already show; an actor
    node's own fields lose their ``nodes.<node>.`` prefix (the lane says whose they are)."""
    mine = f"nodes.{own}." if own else None
    return [c.text()[len(mine):] if mine and c.text().startswith(mine) else c.text()
            for c in state_diff(model, before, after, names)
            if re.split(r"[.\[]", c.path, maxsplit=1)[0] not in skip]


# -- actor models -----------------------------------------------------------------
def _flight(model, state) -> Counter:
    return Counter(model.network.in_flight(state.net))


def _actor_title(act) -> str:
    if act.kind == "deliver":
        return act.name
    if act.kind == "local":
        return f"{act.name}({', '.join(show(x) for x in act.args)})" if act.args else act.name
    if act.kind == "timer":
        return f"timer {act.args[0]}"
    return act.kind


def _actor_story(model, trace, names: Names) -> Story:
    byz = frozenset(model.byzantine)
    sent: dict[tuple, int] = {env: 0 for env in _flight(model, trace.initial)}
    events, arrows = [], []
    before = trace.initial
    for k, (act, after) in enumerate(trace.steps, start=1):
        new = _flight(model, after) - _flight(model, before)
        ev = Event(k, act.kind, act.node, describe_action(act), _actor_title(act),
                   effects(model, names, before, after, frozenset({"network"}), act.node), fault=model.is_fault(act))
        if act.kind in ("deliver", "drop", "duplicate"):
            src, msg = act.args[0], act.args[1]
            at = sent.get((src, act.node, msg))
            kind = {"deliver": "message", "drop": "dropped", "duplicate": "duplicate"}[act.kind]
            arrows.append(Arrow(src, act.node, at if at is not None else k, k, show(msg), kind, k, src in byz))
            ev.byzantine = src in byz
            if act.kind == "deliver":
                ev.receives.append(Receipt(src, act.node, show(msg), at, False))
        elif act.kind == "forge":
            dst, msg = act.args[0], act.args[1]
            arrows.append(Arrow(act.node, dst, k, None, show(msg), "forged", k, True))
            ev.byzantine = True
        elif act.kind in ("gst", "round"):
            ev.kind, ev.lane = "global", None
        if act.kind != "forge":
            ev.sends = [Send(src, dst, show(msg)) for src, dst, msg in sorted(new.elements(), key=canon)]
        for env in new:
            sent[env] = k
        events.append(ev)
        before = after
    return Story(list(model.nodes), events, arrows, byz, names)


# -- spec models --------------------------------------------------------------------
class _SpecReading:
    """The state of reading a spec trace: lanes so far, arrows awaiting receipt."""

    def __init__(self, model, names: Names):
        self.model, self.names, self.wiring = model, names, names.wiring
        self.lanes = [names.node(n) for n in self.wiring.nodes]
        self.arrows: list[Arrow] = []
        self.open: dict[tuple, list[Arrow]] = {}  # (channel, message) -> its arrows
        self.origin: dict[tuple, tuple] = {}  # (channel, message) -> (sent at, sender lane)

    def lane(self, node) -> str | None:
        if node is None:
            return None
        name = self.names.node(node)
        if name not in self.lanes:
            self.lanes.append(name)
        return name

    def send(self, ev: Event, key: tuple, step: int, actor: str | None) -> None:
        ch, m = key
        src = self.lane(self.wiring.sender(ch, m)) or actor
        label = self.names.message(ch, m)
        self.origin[key] = (step, src)
        arrows = []
        for node in self.wiring.receivers(ch, m):
            dst = self.lane(node)
            if dst != src and src is not None:
                arrows.append(Arrow(src, dst, step, None, label, at=step))
                if ev is not None:
                    ev.sends.append(Send(src, dst, label))
        if not arrows and ev is not None:
            ev.sends.append(Send(src, None, label))
        self.open[key] = arrows
        self.arrows.extend(arrows)

    def receive(self, ev: Event, key: tuple, receiver: str) -> None:
        ch, m = key
        label = self.names.message(ch, m)
        mine = [a for a in self.open.get(key, ()) if a.dst == receiver]
        fresh = next((a for a in mine if a.received is None), None)
        if fresh is not None:
            fresh.received = ev.step
            ev.receives.append(Receipt(fresh.src, receiver, label, fresh.sent, False))
        elif mine:
            ev.receives.append(Receipt(mine[0].src, receiver, label, mine[0].sent, True))
        elif key in self.origin and self.origin[key][1] not in (None, receiver):
            at, src = self.origin[key]
            arrow = Arrow(src, receiver, at, ev.step, label, at=at)
            self.open.setdefault(key, []).append(arrow)
            self.arrows.append(arrow)
            ev.receives.append(Receipt(src, receiver, label, at, False))

    def guess_receipts(self, act, actor: str, flight: Counter) -> list[tuple]:
        """A grow-only set's receipt: the latest message of a type the action's name mentions,
        addressed to the actor, preferring one whose fields hold the action's arguments."""
        if not _RECEIVE.search(act.name):
            return []
        best, best_score = None, (-1, -1)
        for key in flight:
            ch, m = key
            if type(m).__name__.lower() not in act.name.lower():
                continue
            to = {self.names.node(r) for r in self.wiring.receivers(ch, m)}
            if to and actor not in to:
                continue
            values = set(attrs.astuple(m, recurse=False)) if attrs.has(type(m)) else set()
            score = (sum(1 for a in act.args if a in values), self.origin.get(key, (0,))[0])
            if score >= best_score:
                best, best_score = key, score
        return [best] if best is not None else []


def _spec_story(model, trace, names: Names) -> Story:
    rd = _SpecReading(model, names)
    flight = rd.wiring.in_flight(trace.initial)
    for key in sorted(flight, key=lambda km: canon(km[1])):
        rd.send(None, key, 0, None)
    events = []
    before = trace.initial
    for k, (act, state) in enumerate(trace.steps, start=1):
        after = rd.wiring.in_flight(state)
        read = rd.wiring.read_by(before, act)
        args = [key for key in flight if key[1] in act.args or key[1] in read]
        fault = model.is_fault(act)
        node = model.node_of(act)
        if node is None and len(args) == 1 and not fault:
            got = rd.wiring.receivers(*args[0])
            node = got[0] if len(got) == 1 else None
        actor = rd.lane(node)
        ev = Event(k, "step" if actor else "global", actor, str(act), short_action(act),
                   effects(model, names, before, state, names.channel_variables()), fault=fault,
                   byzantine=fault and bool(_BYZANTINE.search(act.name)))
        if fault and args and actor is None:
            _network_fault(rd, ev, act, args)
        else:
            _messages(rd, ev, act, actor, args, flight, after)
        for key in sorted(after - flight, key=lambda km: canon(km[1])):
            if key not in rd.open or ev.kind not in ("drop", "duplicate"):
                rd.send(ev, key, k, actor)
        events.append(ev)
        flight, before = after, state
    return Story(rd.lanes, events, rd.arrows, frozenset(), names)


def _messages(rd: _SpecReading, ev: Event, act, actor, args, flight: Counter, after: Counter) -> None:
    """What the step received, and the arrow of an exchange no channel shows."""
    gone = [key for key in flight - after if key not in args]
    received = list(args) + [key for key in gone if not ev.fault]
    if not received and actor is not None:
        received = rd.guess_receipts(act, actor, flight)
    for key in received:
        targets = [actor] if actor is not None else [rd.lane(r) for r in rd.wiring.receivers(*key)]
        for lane in targets:
            if lane is not None:
                rd.receive(ev, key, lane)
    if received or after - flight or actor is None:
        return
    peers = [rd.lane(a) for a in rd.wiring.peers(act) if rd.names.node(a) != actor]
    for peer in peers:
        src, dst = (peer, actor) if _RECEIVE.search(act.name) else (actor, peer)
        rd.arrows.append(Arrow(src, dst, ev.step, ev.step, ev.title, "call", ev.step))


def _network_fault(rd: _SpecReading, ev: Event, act, args) -> None:
    """A spec's network losing or copying a message: drawn on the message's arrow."""
    ev.kind = "drop" if _DROP.search(act.name) else "duplicate"
    for key in args:
        label = rd.names.message(*key)
        at, src = rd.origin.get(key, (ev.step, None))
        for arrow in rd.open.get(key, ()) or [None]:
            dst = arrow.dst if arrow is not None else None
            if src is not None and dst is not None:
                rd.arrows.append(Arrow(src, dst, at, ev.step, label, "dropped" if ev.kind == "drop" else "duplicate",
                                       ev.step))
                ev.lane = ev.lane or src
