"""A message sequence chart as SVG, drawn here (no library): lanes across, one row per step.

Each step is a box on its node's lane holding the action and what it changed
(wrapped, never cut: two steps with the same action differ in what follows);
a global step is a band across the lanes.  A message is an arrow from the
sender's box at the step that sent it to the receiver's box at the step that
received it (level when it was not received in the trace); a dropped one ends
in a cross half-way, a duplicated one is dashed, a forged one red and dashed;
a crash is a red cross on the lane.  Rows grow with their text.  The violated
property and the explanation are called out in red at the bottom.  Each step
is a ``<g class="step" data-step="k">`` so the HTML view can highlight it and
scroll to it; the lane names are a separate ``<svg class="lanes">`` strip
that the HTML page keeps in view.
"""

from __future__ import annotations

from html import escape
from textwrap import wrap

import attrs

from consensuslab.render.explain import explain
from consensuslab.render.naming import Names
from consensuslab.render.story import Story, build
from consensuslab.render.text import verdict

LEFT, HEAD, LINE, PAD, CHAR = 40, 44, 13, 6, 6.0
RED, BLUE, GREY = "#c0392b", "#1f5fa8", "#555"
STYLE = ('<style>.step.sel rect.band{fill:#ffd84d;fill-opacity:0.35}.lbl{fill:#222}.fault{fill:' + RED + '}'
         '.arrowlbl{fill:#1f3f6a;font-size:10px;paint-order:stroke;stroke:white;stroke-width:3px;'
         'stroke-linejoin:round}</style>')


@attrs.frozen
class Layout:
    """Where things go: lane centres, row tops and heights, box width."""

    xs: dict
    width: int
    box: int
    gap: int  # between the boxes of two neighbouring lanes
    tops: list
    heights: list
    bottom: int

    def mid(self, k: int) -> float:
        return self.tops[k] + self.heights[k] / 2


def lane_width(lanes: int, room: int = 1150) -> int:
    """Lanes share ``room`` px (by default every lane of six fits a 1,280 px window), 150 to 400 px each."""
    return max(150, min(400, room // max(lanes, 1)))


def box_lines(e, chars: int) -> list[str]:
    """A step's box: its number and action, then its changes, each wrapped to the box."""
    lines = wrap(f"{e.step}. {'FAULT ' if e.fault else ''}{e.title}", chars, break_on_hyphens=False) or [""]
    for effect in e.effects:
        lines += wrap(effect, chars, subsequent_indent="  ", break_on_hyphens=False)
    return lines


def layout(st: Story, steps: int, room: int = 1150) -> Layout:
    lane_w = lane_width(len(st.lanes), room)
    xs = {lane: LEFT + lane_w * i + lane_w // 2 for i, lane in enumerate(st.lanes)}
    width = max(LEFT + lane_w * len(st.lanes) + 12, 520)
    box = int(lane_w * 0.66)  # the rest of the lane is room for the arrows' labels
    tops, heights, y = [HEAD], [18], HEAD + 18
    by_step = {e.step: e for e in st.events}
    for k in range(1, steps + 1):
        e = by_step.get(k)
        chars = int((width - LEFT - 20) / CHAR) if e is not None and e.kind == "global" else int((box - 8) / CHAR)
        n = len(box_lines(e, chars)) if e is not None else 1
        h = max(30, n * LINE + 2 * PAD + 10)
        tops.append(y)
        heights.append(h)
        y += h
    return Layout(xs, width, box, lane_w - box, tops, heights, y + 12)


def render_svg(model, trace, violation=None, *, notes: list[str] | None = None, names: Names | None = None) -> str:
    names = names or Names(model, trace.initial)
    st = build(model, trace, names)
    notes = explain(model, trace, violation, names) if notes is None else notes
    if trace.loop is not None:
        notes = [f"the behaviour loops back to the state after step {trace.loop} forever"] + list(notes)
    return chart(st, len(trace), verdict(violation) if violation is not None else None, notes)


def lanes_strip(st: Story, lay: Layout) -> str:
    """The lane names as their own small SVG (the HTML page keeps it in view while the chart scrolls)."""
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="lanes" width="{lay.width}" height="{HEAD}" '
           f'viewBox="0 0 {lay.width} {HEAD}" font-family="sans-serif" font-size="12">']
    for lane, x in lay.xs.items():
        bad = lane in st.byzantine
        w = lay.box
        out.append(f'<g class="lane" data-lane="{escape(lane)}"><rect x="{x - w / 2}" y="8" width="{w}" height="28" '
                   f'rx="4" fill="{"#fde2e0" if bad else "#e8eef7"}" stroke="{RED if bad else BLUE}"/>')
        out.append(f'<text x="{x}" y="27" text-anchor="middle" font-weight="bold">{escape(lane)}'
                   f'{" (byz)" if bad else ""}</text></g>')
    out.append("</svg>")
    return "\n".join(out)


def chart(st: Story, steps: int, failed: str | None, notes: list[str], *, strip: bool = True,
          room: int = 1150) -> str:
    """The whole chart; ``strip`` False leaves the lane names out (the HTML page draws them apart);
    ``room`` is the width the lanes share."""
    lay = layout(st, steps, room)
    note_h = 18 * (len(notes) + 1) + 14 if (failed or notes) else 0
    height = lay.bottom + note_h + 8
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="msc" width="{lay.width}" height="{height}" '
           f'viewBox="0 0 {lay.width} {height}" font-family="sans-serif" font-size="11">',
           '<defs><marker id="arr" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" '
           'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="context-stroke"/></marker></defs>', STYLE]
    if strip:
        out.append(lanes_strip(st, lay).replace('<svg xmlns="http://www.w3.org/2000/svg" ', '<svg x="0" y="0" ', 1))
    for x in lay.xs.values():
        out.append(f'<line x1="{x}" y1="{HEAD}" x2="{x}" y2="{lay.bottom}" stroke="#aaa" stroke-dasharray="3,3"/>')
    groups: dict[int, list] = {k: [] for k in range(0, steps + 1)}
    fanned: dict[tuple, int] = {}  # arrows leaving one box: their labels are stacked, not piled up
    for a in st.arrows:
        slot = fanned[(a.src, a.sent)] = fanned.get((a.src, a.sent), -1) + 1
        groups.setdefault(a.received if a.received is not None else a.at, []).append(_arrow(a, lay, slot))
    for e in st.events:
        k = e.step
        body = [f'<g class="step" data-step="{k}"><title>{k}. {escape(e.text)}</title>',
                f'<rect class="band" x="0" y="{lay.tops[k]}" width="{lay.width}" height="{lay.heights[k]}" '
                f'fill="none"/>',
                f'<text x="6" y="{lay.tops[k] + 16}" fill="{GREY}">{k}</text>']
        body += groups.pop(k, [])
        body.append(_event(e, lay))
        body.append("</g>")
        out.extend(body)
    for rest in groups.values():
        out.extend(rest)
    if failed or notes:
        y0 = lay.bottom + 4
        out.append(f'<rect x="4" y="{y0}" width="{lay.width - 8}" height="{note_h}" fill="#fdecea" stroke="{RED}"/>')
        if failed:
            out.append(f'<text x="12" y="{y0 + 18}" class="fault" font-weight="bold" id="violated">'
                       f'VIOLATED {escape(failed)}</text>')
        for i, n in enumerate(notes, start=1):
            out.append(f'<text x="12" y="{y0 + 18 + 18 * i}" class="lbl">{escape(n)}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _tspans(lines: list[str], x: float, y: float, cls: str = "lbl", anchor: str = "middle") -> str:
    spans = "".join(f'<tspan x="{x}" dy="{0 if i == 0 else LINE}">{escape(t)}</tspan>' for i, t in enumerate(lines))
    return f'<text x="{x}" y="{y}" text-anchor="{anchor}" class="{cls}">{spans}</text>'


def _event(e, lay: Layout) -> str:
    k, top, h = e.step, lay.tops[e.step], lay.heights[e.step]
    if e.kind in ("drop", "duplicate"):
        return ""
    if e.kind == "global" or e.lane not in lay.xs:
        chars = int((lay.width - LEFT - 20) / CHAR)
        lines = box_lines(e, chars)
        return (f'<rect x="{LEFT - 4}" y="{top + 4}" width="{lay.width - LEFT - 4}" height="{h - 8}" rx="6" '
                f'fill="#f4f4f4" stroke="{RED if e.fault else GREY}" stroke-dasharray="4,2"/>'
                + _tspans(lines, LEFT + 6, top + PAD + 14, "fault" if e.fault else "lbl", "start"))
    x = lay.xs[e.lane]
    if e.kind == "crash":
        return (_cross(x, top + h / 2, 9, 3)
                + f'<text x="{x + 12}" y="{top + h / 2 + 4}" class="fault">{k}. crash</text>')
    lines = box_lines(e, int((lay.box - 8) / CHAR))
    bh = len(lines) * LINE + 2 * PAD
    y = top + (h - bh) / 2
    return (f'<rect class="box" x="{x - lay.box / 2}" y="{y}" width="{lay.box}" height="{bh}" rx="6" fill="white" '
            f'stroke="{RED if e.fault else BLUE}"/>'
            + _tspans(lines, x, y + PAD + 10, "fault" if e.fault else "lbl"))


def _arrow(a, lay: Layout, slot: int = 0) -> str:
    if a.src not in lay.xs or a.dst not in lay.xs:
        return ""
    x0, x1 = lay.xs[a.src], lay.xs[a.dst]
    y0 = lay.mid(a.sent) if a.sent else lay.tops[0] + 6
    end = a.received if a.received is not None else a.at
    y1 = lay.mid(end)
    side = 1 if x1 > x0 else -1
    x0, x1 = x0 + side * lay.box / 2, x1 - side * lay.box / 2
    colour = RED if a.kind == "forged" or a.byzantine else (GREY if a.kind == "call" else BLUE)
    dash = ' stroke-dasharray="6,3"' if a.kind in ("forged", "duplicate") else ""
    word = {"forged": "forged ", "dropped": "dropped ", "duplicate": "duplicated "}.get(a.kind, "")
    chars = max(18, int(min(abs(x1 - x0), lay.gap) / 5.6) - 2)
    label = wrap(word + a.label, chars, break_on_hyphens=False)
    if a.kind == "dropped":
        mx, my = (x0 + x1) / 2, (y0 + y1) / 2
        return (f'<line x1="{x0}" y1="{y0}" x2="{mx}" y2="{my}" stroke="{RED}"/>' + _cross(mx, my, 6)
                + _tspans(label, mx, my - 4 - LINE * (len(label) - 1), "fault"))
    gap = min(abs(x1 - x0), lay.gap)  # the label sits in the first clear stretch after the sender's box
    lx = x0 + side * gap / 2
    ly = y0 + (y1 - y0) * (gap / 2) / max(abs(x1 - x0), 1) - 4 - LINE * (len(label) - 1) + 11 * slot
    return (f'<line class="msg" x1="{x0}" y1="{y0}" x2="{x1}" y2="{y1}" stroke="{colour}" stroke-width="1.5" '
            f'marker-end="url(#arr)"{dash}/>' + _tspans(label, lx, ly, "arrowlbl"))


def _cross(x: float, y: float, r: int, width: int = 2) -> str:
    return (f'<path d="M{x - r},{y - r} L{x + r},{y + r} M{x - r},{y + r} L{x + r},{y - r}" '
            f'stroke="{RED}" stroke-width="{width}" class="mark"/>')
