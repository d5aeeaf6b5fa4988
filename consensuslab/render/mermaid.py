"""The trace as a Mermaid ``sequenceDiagram`` (GitHub renders it in pull-request comments).

One participant per lane; a delivered message is an arrow from its sender,
a dropped one a crossed arrow, a forged one an async arrow with a note;
local steps, sends into a message set, crashes and spec steps are notes over
the acting lane; the violated property and the explanation close the chart.
"""

from __future__ import annotations

import re

from consensuslab.render.explain import explain
from consensuslab.render.story import build
from consensuslab.render.text import verdict


def _id(lane: str) -> str:
    return "L_" + re.sub(r"\W", "_", lane)


def _text(s: str) -> str:
    """Mermaid message text: no ';' or '#' (statement separators and entity starts), no newlines."""
    return re.sub(r"[;#\n]", ",", s).replace("<", "&lt;").replace(">", "&gt;")


def render_mermaid(model, trace, violation=None) -> str:
    st = build(model, trace)
    out = ["sequenceDiagram"]
    for lane in st.lanes:
        tag = " (Byzantine)" if lane in st.byzantine else ""
        out.append(f"    participant {_id(lane)} as {_text(lane + tag)}")
    first, last = _id(st.lanes[0]), _id(st.lanes[-1])
    span = first if first == last else f"{first},{last}"
    for e in st.events:
        me = _id(e.lane) if e.lane else None
        n = e.step
        if e.kind == "deliver" and e.peer:
            arrow = "-)" if e.byzantine else "->>"
            out.append(f"    {_id(e.peer)}{arrow}{me}: {n}. {_text(e.label)}")
        elif e.kind == "forge":
            out.append(f"    {me}-){_id(e.peer)}: {n}. FORGED {_text(e.label)}")
        elif e.kind == "drop":
            out.append(f"    {me}-x{_id(e.peer)}: {n}. DROPPED {_text(e.label)}")
        elif e.kind == "duplicate":
            out.append(f"    {me}--){_id(e.peer)}: {n}. DUPLICATED {_text(e.label)}")
        elif e.kind == "crash":
            out.append(f"    Note over {me}: {n}. CRASH")
        elif e.kind == "global" or me is None:
            out.append(f"    Note over {span}: {n}. {_text(e.text)}")
        else:
            what = _text(e.text if e.kind == "step" else e.label)
            mark = "FAULT " if e.fault else ""
            sends = "".join(f"<br/>sends {_text(m)}" + (f" to {_text(d)}" if d else "") for d, m in e.sends[:4])
            out.append(f"    Note over {me}: {n}. {mark}{what}{sends}")
    if trace.loop is not None:
        out.append(f"    Note over {span}: the behaviour loops back to the state after step {trace.loop}")
    if violation is not None:
        out.append(f"    Note over {span}: VIOLATED {_text(verdict(violation))}")
    notes = explain(model, trace, violation)
    if notes:
        out.append(f"    Note over {span}: " + "<br/>".join(_text(x) for x in notes))
    return "\n".join(out) + "\n"
