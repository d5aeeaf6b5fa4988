"""The trace as a numbered table: step, who did what to whom, and only what changed.

On a terminal it is a rich table with changes highlighted; into a file or a
pipe it is plain text (one step per block) so it can be grepped and diffed.
"""

from __future__ import annotations

import io

from consensuslab.render.changes import fields, fmt, state_diff, state_tree
from consensuslab.render.explain import explain
from consensuslab.render.naming import Names
from consensuslab.render.story import build, is_actor

VERDICT = {"invariant": "invariant violated in the last state",
           "transition": "transition property violated by the last step",
           "deadlock": "deadlock: no action is enabled in the last state",
           "liveness": "liveness violated: the behaviour loops without reaching the goal"}


def verdict(violation) -> str:
    return f"{violation.property}: {VERDICT.get(violation.kind, violation.kind)}"


def initial_lines(model, state, names: Names | None = None) -> list[str]:
    """The state, one leaf per line (nested records flattened; a node-owned tuple on one line)."""
    out = []

    def walk(node, prefix):
        kids = node.get("children", ())
        if node.get("named") and kids and all("children" not in c for c in kids):
            out.append(f"{prefix} = {{{', '.join(c['name'][1:-1] + ': ' + c['value'] for c in kids)}}}")
            return
        for child in kids:
            name = child["name"]
            path = f"{prefix}{name}" if name.startswith("[") or not prefix else f"{prefix}.{name}"
            if "children" in child:
                walk(child, path)
            else:
                out.append(f"{path} = {child['value']}")

    walk(state_tree(model, state, names), "")
    return out


def who(ev, receives: bool = True) -> str | None:
    """Who did what to whom in one step: what the node received, sent and from whom (None: nothing).

    ``receives`` False leaves receipts to the action (an actor's delivery says them)."""
    parts = []
    mine = "" if ev.lane else "{} "  # a global step says whose each message is
    for r in ev.receives if receives else ():
        when = f"sent at step {r.sent}" if r.sent else "in flight from the start"
        verb = "handles again" if r.again else "receives"
        parts.append(mine.format(r.dst) + f"{verb} {r.label} from {r.src} ({when})")
    to: dict[tuple, list] = {}
    for s in ev.sends:
        to.setdefault((s.src, s.label), []).extend([s.dst] if s.dst else [])
    for (src, label), dsts in to.items():
        if src is None and not dsts:  # neither end known (a spec without ``participants``): the diff says it
            continue
        parts.append((mine.format(src) if src is not None else "") + f"sends {label}"
                     + (f" to {', '.join(dsts)}" if dsts else ""))
    if not parts:
        return None
    return (f"{ev.lane}: " if ev.lane else "") + "; ".join(parts)


def rows(model, trace, names: Names | None = None) -> list[tuple[int, str, list, bool, str | None]]:
    """(step, action, changes, is a fault, who did what to whom) for every step."""
    names = names or Names(model, trace.initial)
    story = build(model, trace, names)
    out = []
    before = trace.initial
    for (k, (act, after)), ev in zip(enumerate(trace.steps, start=1), story.events):
        label = str(act)
        if trace.loop is not None and k - 1 == trace.loop:
            label += "  <- loop starts here"
        out.append((k, label, state_diff(model, before, after, names), model.is_fault(act),
                    who(ev, receives=not is_actor(model))))
        before = after
    return out


def render_text(model, trace, violation=None, *, color: bool = False, width: int | None = None) -> str:
    """Plain text, or (``color``) a rich table rendered with terminal colours."""
    names = Names(model, trace.initial)
    notes = explain(model, trace, violation, names)
    if color:
        return _rich(model, trace, violation, notes, width, names)
    lines = ["0  initial state"] + [f"     {x}" for x in initial_lines(model, trace.initial, names)]
    for k, label, changes, fault, whom in rows(model, trace, names):
        lines.append(f"{k:<2} {label}{'  [fault]' if fault else ''}")
        if whom:
            lines.append(f"     {whom}")
        lines.extend(f"     {c.text()}" for c in changes)
    if violation is not None:
        lines.append(f"=> {verdict(violation)}")
    lines.extend(f"   * {n}" for n in notes)
    return "\n".join(lines)


def _rich(model, trace, violation, notes, width, names) -> str:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    table = Table(title=f"{model.protocol} counterexample", show_lines=True, expand=False)
    table.add_column("#", justify="right", style="bold")
    table.add_column("action (who did what to whom)")
    table.add_column("changed")
    table.add_row("0", "initial state", Text("\n".join(initial_lines(model, trace.initial, names)), style="dim"))
    for k, label, changes, fault, whom in rows(model, trace, names):
        cell = Text()
        if whom:
            cell.append(whom, style="green")
        for i, c in enumerate(changes):
            if i or whom:
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


def replay_command(path: str, meta: dict | None = None) -> str:
    """The command that replays the trace at ``path``: a user's protocol must be named with
    ``--protocol`` (a trace never chooses the code it runs), relative to here when it lies below."""
    command = f"consensuslab replay {path}"
    source = (meta or {}).get("protocol_source")
    if not source:
        return command
    where, colon, cls = source.rpartition(":")
    if not colon or not where.endswith(".py"):
        return f"{command} --protocol {source}"
    import os

    try:
        relative = os.path.relpath(where)
    except ValueError:  # another drive
        relative = where
    shown = relative if not relative.startswith("..") else where
    return f"{command} --protocol {shown}:{cls}"


def render_outcome(outcome) -> str:
    """A scenario's outcome (``checkers.variants.expect.Outcome``) as ``check-all`` and the pytest plugin
    print it: the message, the rendered trace if there is one, and where the ITF file is."""
    lines = [f"{outcome.name}: {outcome.message}"]
    v = outcome.result.violation if outcome.result is not None else None
    if v is not None and v.trace is not None and outcome.model is not None:
        lines.append(render_text(outcome.model, v.trace, v))
    if outcome.trace_file:
        meta = outcome.model.meta() if outcome.model is not None else None
        lines.append(f"ITF trace: {outcome.trace_file} (replay: {replay_command(outcome.trace_file, meta)})")
    return "\n".join(lines)


__all__ = ["render_text", "render_outcome", "replay_command", "rows", "initial_lines", "who", "verdict", "fields", "fmt"]
