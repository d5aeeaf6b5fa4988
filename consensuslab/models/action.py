"""Actions: the labels on transitions, compared and replayed by value."""

from __future__ import annotations

import attrs

from consensuslab.models.values import canon, show

#: Action kinds, in the order successor lists put them.  The Hypothesis bridge
#: makes one rule per kind, so a whole fault class can be switched off per run.
KINDS = ("step", "local", "deliver", "timer", "round", "drop", "duplicate", "crash", "recover", "forge", "gst")
_KIND_RANK = {k: i for i, k in enumerate(KINDS)}
#: action kinds that are faults (the adversary's moves) rather than protocol steps
FAULT_KINDS = frozenset({"crash", "drop", "duplicate", "forge"})


@attrs.frozen(cache_hash=True)
class Action:
    """What happened in one step: its kind, the handler or spec action, the node, arguments.

    ``key`` is computed once, so sorting successors costs tuple comparisons only.
    """

    kind: str
    name: str
    node: str | None = None
    args: tuple = ()
    key: tuple = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self):
        if self.kind not in _KIND_RANK:
            raise ValueError(f"unknown action kind {self.kind!r}; valid: {', '.join(KINDS)}")
        object.__setattr__(self, "key", (_KIND_RANK[self.kind], self.name, canon(self.node), canon(self.args)))

    def __str__(self) -> str:
        return describe_action(self)


def describe_action(a: Action) -> str:
    """Who did what to whom, in one line."""
    if a.kind == "step":
        return f"{a.name}({', '.join(show(x) for x in a.args)})" if a.args else a.name
    if a.kind in ("deliver", "drop", "duplicate"):
        src, msg = a.args[0], a.args[1]
        verb = {"deliver": "receives", "drop": "loses", "duplicate": "duplicates"}[a.kind]
        who = a.node if a.kind == "deliver" else "network"
        tail = f" [{a.name}]" if a.kind == "deliver" else f" to {a.node}"
        return f"{who} {verb} {show(msg)} from {src}{tail}"
    if a.kind == "timer":
        return f"{a.node}: timer {a.args[0]} fires [{a.name}]"
    if a.kind == "local":
        arg = f"({', '.join(show(x) for x in a.args)})" if a.args else ""
        return f"{a.node}: {a.name}{arg}"
    if a.kind == "forge":
        return f"{a.node} (byzantine) sends {show(a.args[1])} to {a.args[0]}"
    if a.kind in ("crash", "recover"):
        return f"{a.node} {a.kind}es" if a.kind == "crash" else f"{a.node} recovers"
    if a.kind == "round":
        return f"round {show(a.args[0]) if a.args else ''}".strip()
    return f"{a.kind} {a.name} {show(a.args)}"
