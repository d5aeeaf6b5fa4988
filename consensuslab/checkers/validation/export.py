"""The log a model's behaviour would leave: one event per step of a node, receives linked to their sends.

Steps that belong to no node (a network losing or copying a message) and, with
``hide_faults``, faults (crashes, restarts) are not logged: a validation must
infer them, as it must for a real system.  ``clock`` is the step's position in
the behaviour, so the canonical order validation tries first is the order the
behaviour took.  ``random_behaviour`` draws a behaviour to export.
"""

from __future__ import annotations

import random
from collections import Counter, deque
from typing import Any

from consensuslab.checkers.validation.mapping import fault_class
from consensuslab.checkers.validation.native import INIT, NodeViews, view_fields
from consensuslab.errors import UsageError
from consensuslab.models.action import Action
from consensuslab.traces.itf import encode, encode_action
from consensuslab.traces.result import Trace


def received(action: Action, node: str | None, flight: list[tuple] | None) -> tuple | None:
    """The envelope a step receives: an actor's delivery, or a step whose one argument is a message in flight."""
    if action.kind == "deliver":
        return action.args[0], node, action.args[1]
    if flight and len(action.args) == 1:
        for env in flight:
            if env[1] == node and env[2] == action.args[0]:
                return env
    return None


def export_trace(model, trace: Trace, hide_faults: bool = True) -> list[dict[str, Any]]:
    """The per-node events of ``trace`` in the log format (dicts), every node's ``init`` first."""
    views = NodeViews(model)
    events: list[dict[str, Any]] = []
    seqs: Counter = Counter()
    state = trace.initial
    if not views.nodes:
        raise UsageError(f"{model.protocol}: its steps name no node, so there is no per-node log to write "
                         f"(an actor protocol's steps do; a spec's say so with @action(by=...) and participants)")
    for node in views.nodes:
        events.append({"node": node, "seq": 0, "kind": INIT, "state": view_fields(views.view(state, node)),
                       "clock": 0})
        seqs[node] = 1
    sent: dict[tuple, deque] = {}  # per envelope in flight: who sent each copy, oldest first
    flight = views.in_flight(state)
    for step, (action, after) in enumerate(trace.steps, start=1):
        node = views.name(model.node_of(action))
        after_flight = views.in_flight(after)
        env = received(action, node, flight)
        queue = sent.get(env) if env is not None else None
        link = queue[0] if queue else None
        logged = node is not None and not (hide_faults and fault_class(action) is not None)
        if logged:
            event = {"node": node, "seq": seqs[node], "kind": action.kind, "action": encode_action(action),
                     "state": view_fields(views.view(after, node)), "clock": step}
            if env is not None:
                event["msg"] = encode(env[2])
            if link is not None:
                event["link"] = {"node": link[0], "seq": link[1]}
            events.append(event)
            seqs[node] += 1
        if flight is not None and after_flight is not None:
            _note_sends(sent, flight, after_flight, (node, seqs[node] - 1) if logged else None)
        state, flight = after, after_flight
    return events


def _note_sends(sent: dict[tuple, deque], before: list, after: list, sender) -> None:
    """Forget the oldest copies that left the network; remember who sent the copies that joined it.

    A copy made by the network (no logged sender) is linked to the send of the copy it duplicates.
    """
    was, now = Counter(before), Counter(after)
    for key in was.keys() | now.keys():
        queue = sent.setdefault(key, deque())
        for _ in range(was[key] - now[key]):
            if queue:
                queue.popleft()
        for _ in range(now[key] - was[key]):
            if sender is not None:
                queue.append(sender)
            elif queue:
                queue.append(queue[0])
        if not queue:
            del sent[key]


def random_behaviour(model, steps: int, seed: int = 0, fault_rate: float = 0.1) -> Trace:
    """A behaviour of up to ``steps`` steps drawn with ``seed``: a fault only with probability ``fault_rate``."""
    rng = random.Random(seed)
    trace = Trace(model.initial_states()[0])
    state = trace.initial
    for _ in range(steps):
        options = model.successors(state)
        if not options:
            break
        faults = [p for p in options if fault_class(p[0]) is not None]
        normal = [p for p in options if fault_class(p[0]) is None]
        pool = faults if faults and (not normal or rng.random() < fault_rate) else normal
        action, state = pool[rng.randrange(len(pool))]
        trace.steps.append((action, state))
    return trace
