"""Renderings of a replayed counterexample: text, Mermaid, SVG, self-contained HTML.

Every renderer takes ``(model, trace, violation)`` from ``checkers.replay`` so
that it shows the model's real states and actions, never a re-parse of JSON.
``story`` derives lanes, steps and message arrows (one reading for every
format), ``naming`` the node names, ``changes`` what changed per step,
``explain`` the reading in the protocol's terms (its own ``explain`` hook, then
conflicting decisions, quorums, Byzantine messages).
"""

FORMATS = ("text", "mermaid", "svg", "html")


def render(fmt: str, model, trace, violation=None, *, color: bool = False) -> str:
    """The trace in ``fmt`` (one of ``FORMATS``)."""
    if fmt == "text":
        from consensuslab.render.text import render_text
        return render_text(model, trace, violation, color=color)
    if fmt == "mermaid":
        from consensuslab.render.mermaid import render_mermaid
        return render_mermaid(model, trace, violation)
    if fmt == "svg":
        from consensuslab.render.svg import render_svg
        return render_svg(model, trace, violation)
    if fmt == "html":
        from consensuslab.render.html import render_html
        return render_html(model, trace, violation)
    raise ValueError(f"unknown format {fmt!r}; valid: {', '.join(FORMATS)}")
