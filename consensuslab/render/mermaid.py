"""The trace as a Mermaid ``sequenceDiagram`` (GitHub renders it in pull-request comments).

One participant per lane.  Each step is a note over the node that took it
(over every lane for a global step) naming the action and what changed; its
messages are arrows: an actor model's at the step that delivers them, a spec's
at the step that sends them (Mermaid cannot slant an arrow, and a spec's
message may be read by several later steps, each of which names it and the
step that sent it).  A dropped message is a crossed arrow, a forged one an
async arrow.  The violated property and the explanation close the chart.

Labels are escaped with Mermaid's entity codes (``#lt;`` for ``<``, ``#59;``
for ``;``): an HTML entity's ``;`` would end the statement.
"""

from __future__ import annotations

import re

from consensuslab.render.explain import explain
from consensuslab.render.naming import Names
from consensuslab.render.story import build
from consensuslab.render.text import verdict

_ENTITIES = {"#": "#35;", ";": "#59;", "<": "#lt;", ">": "#gt;", "\n": " ", "\r": " "}
_ARROW = {"message": "->>", "call": "->>", "forged": "-)", "dropped": "-x", "duplicate": "--)"}
_WORD = {"forged": "FORGED ", "dropped": "DROPPED ", "duplicate": "DUPLICATED "}


def _id(lane: str) -> str:
    return "L_" + re.sub(r"\W", "_", lane)


def mermaid_text(s: str) -> str:
    """Mermaid text: statement separators and angle brackets as entity codes, no newlines."""
    return "".join(_ENTITIES.get(c, c) for c in s)


def render_mermaid(model, trace, violation=None) -> str:
    names = Names(model, trace.initial)
    st = build(model, trace, names)
    lanes = st.lanes or [model.protocol]
    out = ["sequenceDiagram"]
    for lane in lanes:
        tag = " (Byzantine)" if lane in st.byzantine else ""
        out.append(f"    participant {_id(lane)} as {mermaid_text(lane + tag)}")
    first, last = _id(lanes[0]), _id(lanes[-1])
    span = first if first == last else f"{first},{last}"
    by_step: dict[int, list] = {}
    for a in st.arrows:
        by_step.setdefault(a.at, []).append(a)
    for a in by_step.get(0, ()):
        out.append(f"    {_id(a.src)}{_ARROW[a.kind]}{_id(a.dst)}: 0. {mermaid_text(a.label)} (in flight at the start)")
    for e in st.events:
        n = e.step
        arrows = by_step.get(n, [])
        where = _id(e.lane) if e.lane and e.kind not in ("drop", "duplicate") else span
        if e.kind == "crash":
            out.append(f"    Note over {where}: {n}. CRASH")
        elif e.kind not in ("drop", "duplicate") and (e.effects or e.receives or not arrows or e.kind == "global"):
            mark = "FAULT " if e.fault else ""
            body = [f"{n}. {mark}{e.title}"]
            body += [f"from {r.src}, sent at step {r.sent}" for r in e.receives if e.kind == "step" and not r.again]
            body += e.effects
            out.append(f"    Note over {where}: " + "<br/>".join(mermaid_text(x) for x in body))
        for a in arrows:
            text = mermaid_text(_WORD.get(a.kind, "") + a.label)
            out.append(f"    {_id(a.src)}{_ARROW[a.kind]}{_id(a.dst)}: {n}. {text}")
    if trace.loop is not None:
        out.append(f"    Note over {span}: the behaviour loops back to the state after step {trace.loop}")
    if violation is not None:
        out.append(f"    Note over {span}: VIOLATED {mermaid_text(verdict(violation))}")
    notes = explain(model, trace, violation, names)
    if notes:
        out.append(f"    Note over {span}: " + "<br/>".join(mermaid_text(x) for x in notes))
    return "\n".join(out) + "\n"
