"""Consensus-aware reading of a counterexample: conflicting decisions, quorums, Byzantine messages.

Generic, driven by the model's states, action kinds and messages:

- *conflicting decisions*: the variables the violating step changed (with
  the node index wildcarded, ``rmState[*]``, ``nodes.*.decision``) are what
  the property compares; their values across nodes that differ from the
  initial ones are the decisions in conflict (for a transition property, the
  old and new value);
- *quorums*: messages are grouped by content minus their sender, so
  ``Commit(v=0, n=1, d=req1)`` from {1, 2} is a vote set; for each conflicting
  value the largest set of the same message type justifies it, and the two
  sets' intersection is shown (with ``quorum_system()['q']`` when the
  protocol declares one; Byzantine nodes of a spec that models them as
  having "sent everything" complete a quorum);
- *Byzantine messages*: forge actions, deliveries from Byzantine nodes (with
  equivocation: one node, one message type, different contents), and spec
  steps named like Traitor/Forge/Tamper.

A protocol MAY define ``explain(self, trace) -> list[str]``; its lines come
first.  ``trace`` is the replayed ``Trace`` (``initial``, ``steps`` of
(action, state), ``states``); states are the model's raw states, so an actor
protocol reads ``model.view(state)``-style worlds through its own helpers.
"""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any

import attrs

from consensuslab.models.values import canon, show
from consensuslab.render import story as story_mod
from consensuslab.render.changes import diff, fmt

_WILD = re.compile(r"^(nodes\.)[^.\[]+|^([^.\[]+)\[\d+\]")
_SENDER_FIELDS = ("i", "src", "sender", "rm", "node", "replica", "frm", "acceptor")


def explain(model, trace, violation=None) -> list[str]:
    """Lines of explanation, most specific first; empty when nothing is recognisable."""
    lines: list[str] = []
    hook = getattr(model.definition, "explain", None)
    if callable(hook):
        from consensuslab.models.blame import call_hook

        said = call_hook(model.protocol, "explain", "a list of lines (strings)", hook, trace,
                         check=lambda out: out is None or (isinstance(out, (list, tuple))
                                                           and all(isinstance(x, str) for x in out)))
        lines.extend(said or ())
    st = story_mod.build(model, trace)
    values, decision_lines = conflicts(model, trace, violation, st.lanes)
    lines.extend(decision_lines)
    lines.extend(quorums(model, trace, values))
    lines.extend(faults(model, trace, st))
    return lines


# -- decisions ----------------------------------------------------------------------
def _pattern(path: str) -> re.Pattern:
    m = _WILD.match(path)
    if not m:
        return re.compile(re.escape(path) + r"(\[\d+\])?$")
    head = m.group(1) + r"[^.\[]+" if m.group(1) else re.escape(m.group(2)) + r"\[\d+\]"
    return re.compile(head + re.escape(path[m.end():]) + "$")


def _leaves(model, state) -> dict[str, Any]:
    """Concrete paths to every changed-from-nothing leaf, tuples expanded per position."""
    out: dict[str, Any] = {}

    def walk(value, path):
        parts = _parts(value)
        if parts is not None:
            for k, v in parts.items():
                walk(v, f"{path}.{k}" if path else k)
        elif type(value) is tuple:
            out[path] = value
            for i, v in enumerate(value):
                walk(v, f"{path}[{i}]")
        else:
            out[path] = value

    walk(model.encode_state(state), "")
    return out


def _parts(value):
    from consensuslab.render.changes import fields
    return fields(value)


def _node_names(model, length: int, lanes) -> list[str] | None:
    """Names for the positions of a per-node tuple variable of a spec: a node list the spec
    keeps (an upper-case attribute of that length) whose names are lanes of the chart."""
    for name, value in sorted(vars(model.definition).items()):
        if name[:1].isupper() and isinstance(value, tuple) and len(value) == length \
                and all(isinstance(x, (str, int)) and not isinstance(x, bool) for x in value):
            names = [x if isinstance(x, str) else f"node {x}" for x in value]
            if set(names) & set(lanes):
                return names
    return None


def _who(model, path: str, leaves: dict, lanes=()) -> str:
    m = re.match(r"^nodes\.([^.\[]+)", path)
    if m:
        return m.group(1)
    m = re.match(r"^([^.\[]+)\[(\d+)\]", path)
    if m:
        whole = leaves.get(m.group(1))
        names = _node_names(model, len(whole), lanes) if isinstance(whole, tuple) else None
        if names:
            rest = path[m.end():]
            return names[int(m.group(2))] + (f" {m.group(1)}{rest}" if rest else "")
    return path


def conflicts(model, trace, violation, lanes=()) -> tuple[list, list[str]]:
    """(the conflicting values, lines saying who decided what) at the violation."""
    if not trace.steps or (violation is not None and violation.kind not in ("invariant", "transition")):
        return [], []
    before, (act, after) = trace.states[-2], trace.steps[-1]
    paths = [c.path for c in diff(model.encode_state(before), model.encode_state(after))
             if c.path.split(".")[0].split("[")[0] not in ("network", "msgs", "budgets", "crashed", "timers")]
    first, last = _leaves(model, trace.initial), _leaves(model, after)
    prev = _leaves(model, before)
    lines, values = [], []
    for path in dict.fromkeys(paths):
        pat = _pattern(path)
        held = {p: v for p, v in last.items() if pat.match(p) and _scalar(v)
                and v != first.get(p) and v not in ("", None)}
        distinct = sorted({v for v in held.values()}, key=canon)
        if len(distinct) >= 2:
            who = ", ".join(f"{_who(model, p, last, lanes)}={fmt(v)}" for p, v in held.items())
            lines.append(f"conflicting decisions: {who}")
            values = values or distinct
        elif violation is not None and violation.kind == "transition" and path in prev and path in last \
                and prev[path] not in ("", None) and _scalar(prev[path]):
            lines.append(f"decision changed at step {len(trace)}: {_who(model, path, last, lanes)} "
                         f"{fmt(prev[path])} -> {fmt(last[path])} ({act})")
            values = values or [prev[path], last[path]]
    return values, lines


def _scalar(value) -> bool:
    return isinstance(value, (str, int)) or attrs.has(type(value))


# -- quorums ------------------------------------------------------------------------
def _sender(msg, lanes: set) -> tuple[Any, tuple] | None:
    """(sender, rest of the content) for a message that names its sender."""
    fs = [f.name for f in attrs.fields(type(msg))]
    for name in fs:
        value = getattr(msg, name)
        if name in _SENDER_FIELDS or (isinstance(value, str) and value in lanes):
            rest = tuple((f, getattr(msg, f)) for f in fs if f != name)
            return value, rest
    return None


def vote_sets(model, trace) -> dict[tuple, set]:
    """(message type, content without sender) -> the nodes that sent it, over the whole trace."""
    groups: dict[tuple, set] = defaultdict(set)
    order: dict[tuple, int] = {}
    if story_mod.is_actor(model):
        for k, state in enumerate(trace.states):
            for src, _dst, msg in model.network.in_flight(state.net):
                key = (type(msg).__name__, tuple((f.name, getattr(msg, f.name)) for f in attrs.fields(type(msg))))
                groups[key].add(src)
                order.setdefault(key, k)
    else:
        lanes = {x for s in trace.states for x in _strings(model.encode_state(s))}
        for k, state in enumerate(trace.states):
            for value in model.encode_state(state).values():
                if not isinstance(value, frozenset):
                    continue
                for msg in value:
                    if attrs.has(type(msg)) and (got := _sender(msg, lanes)) is not None:
                        key = (type(msg).__name__, got[1])
                        groups[key].add(got[0])
                        order.setdefault(key, k)
    return {k: groups[k] for k in sorted(groups, key=lambda k: (order[k], canon(k)))}


def _strings(encoded: dict) -> set:
    return {x for v in encoded.values() if isinstance(v, tuple) for x in v if isinstance(x, str)}


def _byzantine_nodes(model) -> frozenset:
    if story_mod.is_actor(model):
        return frozenset(model.byzantine)
    for name in ("byz", "byzantine_nodes"):
        value = getattr(model.definition, name, None)
        if isinstance(value, (frozenset, set, tuple)):
            return frozenset(value)
    return frozenset()


def quorums(model, trace, values: list) -> list[str]:
    if len(values) < 2:
        return []
    qs = getattr(model.definition, "quorum_system", None)
    system = qs() if callable(qs) else {}
    q = system.get("q") if isinstance(system, dict) else None
    byz = _byzantine_nodes(model)
    groups = vote_sets(model, trace)
    best: dict[str, dict] = defaultdict(dict)  # type -> value -> (key, senders)
    for key, senders in groups.items():
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
def faults(model, trace, st) -> list[str]:
    lines = []
    byz = _byzantine_nodes(model)
    if byz:
        lines.append(f"Byzantine per the scenario: {_set(byz)}")
    sent: dict[tuple, dict] = defaultdict(dict)
    for e in st.events:
        if e.kind == "forge":
            lines.append(f"step {e.step}: {e.lane} (Byzantine) sent {e.label} to {e.peer}")
            sent[(e.lane, e.label.split("(")[0])].setdefault(e.peer, []).append(e.label)
        elif e.kind == "deliver" and e.byzantine:
            lines.append(f"step {e.step}: {e.lane} accepted {e.label} from Byzantine {e.peer}")
        elif e.byzantine or (e.fault and not story_mod.is_actor(model)):
            lines.append(f"step {e.step}: {e.text} (adversary)")
        elif e.fault:
            lines.append(f"step {e.step}: fault: {e.text}")
    for (node, kind), by_dst in sent.items():
        if len({m for ms in by_dst.values() for m in ms}) > 1:
            told = "; ".join(f"{', '.join(dict.fromkeys(ms))} to {d}" for d, ms in sorted(by_dst.items()))
            lines.append(f"{node} equivocated: {told}")
    final = model.encode_state(trace.states[-1])
    for name in ("traitors", "byzantine"):
        if isinstance(final.get(name), frozenset) and final[name]:
            lines.append(f"{name}: {_set(final[name])}")
    return lines
