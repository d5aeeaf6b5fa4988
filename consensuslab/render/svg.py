"""A message sequence chart as SVG, drawn here (no library): lanes down, one row per step.

A delivered message is an arrow from its sender at the step that sent it to
its receiver at the step that delivered it (horizontal when the send step is
unknown); a dropped one ends in a cross half-way; a forged one is a red
dashed arrow; a crash is a red cross on the lane; local steps are boxes.  The
violated property and the explanation are called out in red at the bottom.
Each step is a ``<g class="step" data-step="k">`` so the HTML view can
highlight the selected one.
"""

from __future__ import annotations

from html import escape

from consensuslab.render.explain import explain
from consensuslab.render.story import Story, build
from consensuslab.render.text import verdict

LANE_W, ROW, TOP, LEFT = 170, 34, 64, 44
RED, BLUE, GREY = "#c0392b", "#1f5fa8", "#555"


def _cut(s: str, n: int = 34) -> str:
    return s if len(s) <= n else s[: n - 1] + "\u2026"


def render_svg(model, trace, violation=None, *, notes: list[str] | None = None) -> str:
    st = build(model, trace)
    notes = explain(model, trace, violation) if notes is None else notes
    if trace.loop is not None:
        notes = [f"the behaviour loops back to the state after step {trace.loop} forever"] + list(notes)
    return chart(st, len(trace), verdict(violation) if violation is not None else None, notes)


def chart(st: Story, steps: int, failed: str | None, notes: list[str]) -> str:
    xs = {lane: LEFT + LANE_W * i + LANE_W // 2 for i, lane in enumerate(st.lanes)}

    def y(k: int) -> int:
        return TOP + ROW * k

    bottom = y(steps) + ROW
    width = max(LEFT + LANE_W * len(st.lanes) + 20, 520)
    height = bottom + 30 + (18 * (len(notes) + 1) if (failed or notes) else 0)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="msc" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">',
           '<defs><marker id="arr" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" '
           'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="context-stroke"/></marker></defs>',
           '<style>.step.sel rect.band{fill:#ffd84d;fill-opacity:0.35}.lbl{fill:#222}.fault{fill:' + RED + '}</style>']
    for k in range(1, steps + 1):
        out.append(f'<text x="6" y="{y(k) + 4}" fill="{GREY}">{k}</text>')
    for lane, x in xs.items():
        bad = lane in st.byzantine
        out.append(f'<rect x="{x - 60}" y="8" width="120" height="26" rx="4" fill="{"#fde2e0" if bad else "#e8eef7"}" '
                   f'stroke="{RED if bad else BLUE}"/>')
        out.append(f'<text x="{x}" y="25" text-anchor="middle" font-weight="bold">{escape(_cut(lane, 18))}'
                   f'{" (byz)" if bad else ""}</text>')
        out.append(f'<line x1="{x}" y1="34" x2="{x}" y2="{bottom}" stroke="#999" stroke-dasharray="3,3"/>')
    for e in st.events:
        k, x = e.step, xs.get(e.lane, LEFT + 10)
        out.append(f'<g class="step" data-step="{k}"><title>{k}. {escape(e.text)}</title>')
        out.append(f'<rect class="band" x="0" y="{y(k) - ROW // 2}" width="{width}" height="{ROW}" fill="none"/>')
        label = escape(_cut(e.label))
        if e.kind in ("deliver", "drop", "duplicate") and e.peer in xs:
            src, dst = (xs[e.peer], x) if e.kind == "deliver" else (x, xs[e.peer])
            y0 = y(e.sent_at) if e.sent_at is not None else y(k)
            colour = RED if (e.byzantine or e.fault) else BLUE
            if e.kind == "drop":
                mx, my = (src + dst) / 2, (y0 + y(k)) / 2
                out.append(f'<line x1="{src}" y1="{y0}" x2="{mx}" y2="{my}" stroke="{colour}"/>')
                out.append(_cross(mx, my, 6))
                out.append(f'<text x="{mx + 8}" y="{my - 3}" class="fault">dropped {label}</text>')
            else:
                dash = ' stroke-dasharray="6,3"' if e.kind == "duplicate" else ""
                out.append(f'<line x1="{src}" y1="{y0}" x2="{dst}" y2="{y(k)}" stroke="{colour}" '
                           f'stroke-width="1.5" marker-end="url(#arr)"{dash}/>')
                anchor, tx = ("end", dst - 6) if dst > src else ("start", dst + 6)
                out.append(f'<text x="{tx}" y="{y(k) - 4}" text-anchor="{anchor}" class="lbl">'
                           f'{"duplicated " if e.kind == "duplicate" else ""}{label}</text>')
        elif e.kind == "forge" and e.peer in xs:
            dst = xs[e.peer]
            out.append(f'<line x1="{x}" y1="{y(k)}" x2="{dst}" y2="{y(k)}" stroke="{RED}" stroke-width="2" '
                       f'stroke-dasharray="5,3" marker-end="url(#arr)"/>')
            out.append(f'<text x="{(x + dst) / 2}" y="{y(k) - 5}" text-anchor="middle" class="fault">'
                       f'forged {label}</text>')
        elif e.kind == "crash":
            out.append(_cross(x, y(k), 9, width=3))
            out.append(f'<text x="{x + 12}" y="{y(k) + 4}" class="fault">crash</text>')
        elif e.kind == "global":
            out.append(f'<text x="{LEFT}" y="{y(k) + 4}" fill="{GREY}">{escape(_cut(e.text, 80))}</text>')
        else:
            colour = RED if e.fault else BLUE
            text = escape(_cut(e.text if e.kind == "step" else e.label, 26))
            out.append(f'<rect x="{x - 78}" y="{y(k) - 10}" width="156" height="20" rx="8" fill="white" '
                       f'stroke="{colour}"/>')
            out.append(f'<text x="{x}" y="{y(k) + 4}" text-anchor="middle" '
                       f'class="{"fault" if e.fault else "lbl"}">{text}</text>')
        out.append("</g>")
    if failed or notes:
        out.append(f'<rect x="4" y="{bottom + 6}" width="{width - 8}" height="{18 * (len(notes) + 1) + 10}" '
                   f'fill="#fdecea" stroke="{RED}"/>')
        if failed:
            out.append(f'<text x="12" y="{bottom + 22}" class="fault" font-weight="bold" id="violated">'
                       f'VIOLATED {escape(failed)}</text>')
        for i, n in enumerate(notes, start=1):
            out.append(f'<text x="12" y="{bottom + 22 + 18 * i}" class="lbl">{escape(n)}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _cross(x: float, y: float, r: int, width: int = 2) -> str:
    return (f'<path d="M{x - r},{y - r} L{x + r},{y + r} M{x - r},{y + r} L{x + r},{y - r}" '
            f'stroke="{RED}" stroke-width="{width}" class="mark"/>')
