"""The trace as a numbered table: step, who did what to whom, and only what changed.

On a terminal it is a rich table with changes highlighted; into a file or a
pipe it is plain text (one step per block) so it can be grepped and diffed.
"""

from __future__ import annotations

import io

from consensuslab.render.changes import fields, fmt, state_diff, tree
from consensuslab.render.explain import explain

VERDICT = {"invariant": "invariant violated in the last state",
           "transition": "transition property violated by the last step",
           "deadlock": "deadlock: no action is enabled in the last state",
           "liveness": "liveness violated: the behaviour loops without reaching the goal"}


def verdict(violation) -> str:
    return f"{violation.property}: {VERDICT.get(violation.kind, violation.kind)}"


def initial_lines(model, state) -> list[str]:
    """The initial state, one leaf per line (nested records flattened)."""
    out = []

    def walk(node, prefix):
        for child in node.get("children", ()):
            name = child["name"]
            path = f"{prefix}{name}" if name.startswith("[") or not prefix else f"{prefix}.{name}"
            if "children" in child:
                walk(child, path)
            else:
                out.append(f"{path} = {child['value']}")

    walk(tree(model.encode_state(state)), "")
    return out


def rows(model, trace) -> list[tuple[int, str, list, bool]]:
    """(step, action, changes, is a fault) for every step."""
    out = []
    before = trace.initial
    for k, (act, after) in enumerate(trace.steps, start=1):
        label = str(act)
        if trace.loop is not None and k - 1 == trace.loop:
            label += "  <- loop starts here"
        out.append((k, label, state_diff(model, before, after), model.is_fault(act)))
        before = after
    return out


def render_text(model, trace, violation=None, *, color: bool = False, width: int | None = None) -> str:
    """Plain text, or (``color``) a rich table rendered with terminal colours."""
    notes = explain(model, trace, violation)
    if color:
        return _rich(model, trace, violation, notes, width)
    lines = ["0  initial state"] + [f"     {x}" for x in initial_lines(model, trace.initial)]
    for k, label, changes, fault in rows(model, trace):
        lines.append(f"{k:<2} {label}{'  [fault]' if fault else ''}")
        lines.extend(f"     {c.text()}" for c in changes)
    if violation is not None:
        lines.append(f"=> {verdict(violation)}")
    lines.extend(f"   * {n}" for n in notes)
    return "\n".join(lines)


def _rich(model, trace, violation, notes, width) -> str:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    table = Table(title=f"{model.protocol} counterexample", show_lines=True, expand=False)
    table.add_column("#", justify="right", style="bold")
    table.add_column("action (who did what to whom)")
    table.add_column("changed")
    table.add_row("0", "initial state", Text("\n".join(initial_lines(model, trace.initial)), style="dim"))
    for k, label, changes, fault in rows(model, trace):
        cell = Text()
        for i, c in enumerate(changes):
            if i:
                cell.append("\n")
            path, _, rest = c.text().partition(": ")
            cell.append(path, style="cyan")
            cell.append(": ")
            cell.append(rest, style="bold yellow")
        table.add_row(str(k), Text(label, style="bold red" if fault else ""), cell)
    import shutil

    buf = io.StringIO()
    width = width or shutil.get_terminal_size((120, 40)).columns
    console = Console(file=buf, force_terminal=True, width=width, color_system="standard")
    console.print(table)
    if violation is not None:
        console.print(Text(f"=> {verdict(violation)}", style="bold red"))
    for n in notes:
        console.print(Text(f"   * {n}", style="magenta"))
    return buf.getvalue().rstrip("\n")


def render_outcome(outcome) -> str:
    """A scenario's outcome (``checkers.variants.expect.Outcome``) as ``check-all`` and the pytest plugin
    print it: the message, the rendered trace if there is one, and where the ITF file is."""
    lines = [f"{outcome.name}: {outcome.message}"]
    v = outcome.result.violation if outcome.result is not None else None
    if v is not None and v.trace is not None and outcome.model is not None:
        lines.append(render_text(outcome.model, v.trace, v))
    if outcome.trace_file:
        lines.append(f"ITF trace: {outcome.trace_file} (replay: consensuslab replay {outcome.trace_file})")
    return "\n".join(lines)


__all__ = ["render_text", "render_outcome", "rows", "initial_lines", "verdict", "fields", "fmt"]
