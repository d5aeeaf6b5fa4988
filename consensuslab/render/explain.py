"""Consensus-aware reading of a counterexample: conflicting decisions, quorums, Byzantine messages.

A protocol says what its counterexamples mean in its own terms with a hook,
``explain(self, trace, violation=None) -> list[str]`` (``trace`` is the replayed
``Trace``: ``initial``, ``steps`` of (action, state), ``states``; a hook may
take ``trace`` alone).  Its lines come first; every bundled protocol has one
(raft: leaders per term, what was committed where, the two commits that
conflict; two-phase: who decided what and why; ...).  Then generic readings,
driven by the model's states, action kinds and messages:

- *conflicting decisions*: the variables the violating step changed (with the
  node wildcarded, ``rmState[*]``, ``nodes.*.decision``) are what the property
  compares; their values across nodes that differ from the initial ones are
  the decisions in conflict (for a transition property, the old and new value);
- *quorums*: messages are grouped by content minus their sender, so
  ``Commit(v=0, n=1, d=req1)`` from {r0, r1} is a vote set; for each
  conflicting value the largest set of the same message type justifies it, and
  the two sets' intersection is shown (with ``quorum_system()['q']`` when the
  protocol declares one; Byzantine nodes of a spec that models them as having
  "sent everything" complete a quorum);
- *Byzantine messages*: forged messages, deliveries from Byzantine nodes (with
  equivocation: one node, one message type, different contents), and fault
  steps of specs.

Nodes are named as everywhere else (``naming.Names``).
"""

from __future__ import annotations

import inspect
import re
from collections import defaultdict
from typing import Any

import attrs

from consensuslab.models.values import canon, show
from consensuslab.render import story as story_mod
from consensuslab.render.changes import fields, fmt, named_state, state_diff
from consensuslab.render.naming import Names

_WILD = re.compile(r"^(nodes\.)[^.\[]+|^([^.\[]+)\[[^\]]+\]")
_PLUMBING = frozenset({"network", "msgs", "messages", "budgets", "crashed", "timers"})


def explain(model, trace, violation=None, names: Names | None = None) -> list[str]:
    """Lines of explanation, most specific first; empty when nothing is recognisable."""
    names = names or Names(model, trace.initial)
    lines: list[str] = []
    for line in protocol_lines(model, trace, violation):
        if line not in lines:
            lines.append(line)
    st = story_mod.build(model, trace, names)
    values, decision_lines = conflicts(model, trace, violation, names, st.lanes)
    for line in decision_lines + quorums(model, trace, values, names) + faults(model, trace, st, names):
        if line not in lines:
            lines.append(line)
    return lines


def protocol_lines(model, trace, violation) -> list[str]:
    """The protocol's own explanation (its ``explain`` hook), if it has one."""
    hook = getattr(model.definition, "explain", None)
    if not callable(hook):
        return []
    try:
        takes_violation = len(inspect.signature(hook).parameters) >= 2
    except (TypeError, ValueError):
        takes_violation = False
    got = hook(trace, violation) if takes_violation else hook(trace)
    return [str(x) for x in got or ()]


# -- decisions ----------------------------------------------------------------------
def _pattern(path: str) -> re.Pattern:
    m = _WILD.match(path)
    if not m:
        return re.compile(re.escape(path) + r"(\[[^\]]+\])?$")
    head = m.group(1) + r"[^.\[]+" if m.group(1) else re.escape(m.group(2)) + r"\[[^\]]+\]"
    return re.compile(head + re.escape(path[m.end():]) + "$")


def _leaves(model, state, names: Names) -> dict[str, Any]:
    """Concrete paths to every leaf, tuples expanded per position (positions named)."""
    out: dict[str, Any] = {}

    def walk(value, path):
        parts = fields(value)
        if parts is not None:
            for k, v in parts.items():
                walk(v, f"{path}.{k}" if path else k)
        elif type(value) is tuple:
            out[path] = value
            for i, v in enumerate(value):
                walk(v, f"{path}[{names.index(path, i)}]")
        else:
            out[path] = value

    walk(named_state(model, state, names), "")
    return out


def _who(path: str, lanes) -> str:
    """The node a path belongs to: ``nodes.l1.decision`` is l1's, ``log[r1][0]`` is r1's ``log[0]``."""
    m = re.match(r"^nodes\.([^.\[]+)", path)
    if m:
        return m.group(1)
    m = re.match(r"^([^.\[]+)\[([^\]]+)\]", path)
    if m and m.group(2) in lanes:
        rest = path[m.end():]
        return m.group(2) + (f" {m.group(1)}{rest}" if rest else "")
    return path


def conflicts(model, trace, violation, names: Names, lanes=()) -> tuple[list, list[str]]:
    """(the conflicting values, lines saying who decided what) at the violation."""
    if not trace.steps or (violation is not None and violation.kind not in ("invariant", "transition")):
        return [], []
    lanes = set(lanes)
    before, (act, after) = trace.states[-2], trace.steps[-1]
    paths = [c.path for c in state_diff(model, before, after, names)
             if re.split(r"[.\[]", c.path, maxsplit=1)[0] not in _PLUMBING | names.channel_variables()]
    first, last = _leaves(model, trace.initial, names), _leaves(model, after, names)
    prev = _leaves(model, before, names)
    lines, values = [], []
    for path in dict.fromkeys(paths):
        pat = _pattern(path)
        held = {p: v for p, v in last.items() if pat.match(p) and _scalar(v)
                and v != first.get(p) and v not in ("", None)}
        distinct = sorted({v for v in held.values()}, key=canon)
        if len(distinct) >= 2:
            who = ", ".join(f"{_who(p, lanes)}={fmt(v)}" for p, v in held.items())
            lines.append(f"conflicting decisions: {who}")
            values = values or distinct
        elif violation is not None and violation.kind == "transition" and path in prev and path in last \
                and prev[path] not in ("", None) and _scalar(prev[path]):
            lines.append(f"decision changed at step {len(trace)}: {_who(path, lanes)} "
                         f"{fmt(prev[path])} -> {fmt(last[path])} ({act})")
            values = values or [prev[path], last[path]]
    return values, lines


def _scalar(value) -> bool:
    return isinstance(value, (str, int)) or attrs.has(type(value))


# -- quorums ------------------------------------------------------------------------
def vote_sets(model, trace, names: Names) -> dict[tuple, set]:
    """(message type, content without sender) -> the nodes that sent it, over the whole trace."""
    groups: dict[tuple, set] = defaultdict(set)
    order: dict[tuple, int] = {}

    def add(kind: str, content: tuple, sender, k: int) -> None:
        key = (kind, content)
        groups[key].add(names.node(sender))
        order.setdefault(key, k)

    for k, state in enumerate(trace.states):
        if story_mod.is_actor(model):
            for src, _dst, msg in model.network.in_flight(state.net):
                add(type(msg).__name__, tuple((f.name, getattr(msg, f.name)) for f in attrs.fields(type(msg))), src, k)
            continue
        w = names.wiring
        for ch, msg in w.in_flight(state):
            sender = w.sender(ch, msg)
            if sender is None or not attrs.has(type(msg)):
                continue
            route = ch.route(msg)[0]
            add(type(msg).__name__, tuple((f.name, getattr(msg, f.name)) for f in attrs.fields(type(msg))
                                          if f.name != route), sender, k)
    return {k: groups[k] for k in sorted(groups, key=lambda k: (order[k], canon(k)))}


def byzantine_nodes(model, names: Names) -> frozenset:
    """The Byzantine nodes of the configuration, by name."""
    if story_mod.is_actor(model):
        return frozenset(model.byzantine)
    for name in ("byz", "byzantine_nodes"):
        value = getattr(model.definition, name, None)
        if isinstance(value, (frozenset, set, tuple)):
            return frozenset(names.node(x) for x in value)
    return frozenset()


def quorums(model, trace, values: list, names: Names) -> list[str]:
    if len(values) < 2:
        return []
    qs = getattr(model.definition, "quorum_system", None)
    system = qs() if callable(qs) else {}
    q = system.get("q") if isinstance(system, dict) else None
    byz = byzantine_nodes(model, names)
    best: dict[str, dict] = defaultdict(dict)  # type -> value -> (key, senders)
    for key, senders in vote_sets(model, trace, names).items():
        contents = [v for _, v in key[1]]
        for val in values[:2]:
            if val in contents:
                full = set(senders) | (set(byz) if q and len(senders) < q else set())
                if len(full) > len(best[key[0]].get(val, (None, ()))[1]):
                    best[key[0]][val] = (key, full)
    usable = [t for t in best if all(v in best[t] for v in values[:2])]
    if not usable:
        return []
    kind = usable[-1]  # the latest phase that voted for both values
    (k1, s1), (k2, s2) = best[kind][values[0]], best[kind][values[1]]
    if q is None and max(len(s1), len(s2)) < 2:
        return []  # single senders and no declared quorum size: nothing quorum-like to show
    size = f" (quorum size {q}{' of ' + str(system['n']) if 'n' in system else ''})" if q else ""
    lines = [f"quorum for {fmt(values[0])}: {_msg(k1)} from {_set(s1)}",
             f"quorum for {fmt(values[1])}: {_msg(k2)} from {_set(s2)}"]
    both = s1 & s2
    if not both:
        lines.append(f"the two quorums share no node{size}: nothing forces the second to see the first")
    else:
        tail = ", all Byzantine: an equivocating node is the only overlap" if both <= byz else ""
        lines.append(f"in both quorums: {_set(both)}{tail}{size}")
    if byz and q:
        lines.append(f"Byzantine {_set(byz)} count toward any quorum they are needed in")
    return lines


def _msg(key) -> str:
    return f"{key[0]}({', '.join(f'{f}={fmt(v)}' for f, v in key[1])})"


def _set(nodes) -> str:
    return "{" + ", ".join(show(x) for x in sorted(nodes, key=canon)) + "}"


# -- faults and Byzantine behaviour ---------------------------------------------------
def faults(model, trace, st, names: Names) -> list[str]:
    lines = []
    byz = byzantine_nodes(model, names)
    if byz:
        lines.append(f"Byzantine per the scenario: {_set(byz)}")
    sent: dict[tuple, dict] = defaultdict(dict)
    for a in st.arrows:
        if a.kind == "forged":
            lines.append(f"step {a.sent}: {a.src} (Byzantine) sent {a.label} to {a.dst}")
            sent[(a.src, a.label.split("(")[0])].setdefault(a.dst, []).append(a.label)
        elif a.kind == "message" and a.byzantine and a.received is not None:
            lines.append(f"step {a.received}: {a.dst} accepted {a.label} from Byzantine {a.src}")
    for e in st.events:
        if e.byzantine and e.kind != "forge":
            if not story_mod.is_actor(model):
                lines.append(f"step {e.step}: {e.text} (adversary)")
        elif e.fault and e.kind != "forge":
            adversary = "" if story_mod.is_actor(model) else " (adversary)"
            lines.append(f"step {e.step}: fault: {e.text}{adversary}")
    for (node, kind), by_dst in sent.items():
        if len({m for ms in by_dst.values() for m in ms}) > 1:
            told = "; ".join(f"{', '.join(dict.fromkeys(ms))} to {d}" for d, ms in sorted(by_dst.items()))
            lines.append(f"{node} equivocated: {told}")
    final = model.encode_state(trace.states[-1])
    for name in ("traitors", "byzantine"):
        if isinstance(final.get(name), frozenset) and final[name]:
            lines.append(f"{name}: {_set({names.node(x) for x in final[name]})}")
    return lines
