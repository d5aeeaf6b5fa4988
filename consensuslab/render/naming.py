"""Node names wherever a rendering shows a node: lanes, ``currentTerm[s1]``, messages without their route.

A spec keeps a node's variables at tuple positions; its ``participants``
declaration (``models/messages.py``) says which node each position is, so every
renderer, the explorers and the explanations show ``log[s1]`` where the state
holds ``log[0]``.  ``Names`` is built once per rendering and handed down.
"""

from __future__ import annotations

import re
from typing import Any

import attrs

from consensuslab.models.messages import Channel, Wiring, wiring_of
from consensuslab.models.values import show

_INDEXED = re.compile(r"^([A-Za-z_]\w*)((?:\[[^\]]*\])*)$")


class Names:
    """A model's node names, position names and message labels."""

    def __init__(self, model, sample=None):
        self.model = model
        if sample is None:
            inits = model.initial_states()
            sample = inits[0] if inits else None
        self.wiring: Wiring | None = wiring_of(model, sample)

    def node(self, node: Any) -> str | None:
        """A node's name (None stays None)."""
        if node is None:
            return None
        if self.wiring is None:
            return str(node)
        return self.wiring.label(node)

    def index(self, parent: str, i: int) -> str:
        """The name of position ``i`` under ``parent`` (``currentTerm`` -> ``s1``), or ``i``."""
        if self.wiring is None:
            return str(i)
        m = _INDEXED.match(parent)
        if not m:
            return str(i)
        nodes = self.wiring.index_nodes(m.group(1), m.group(2).count("["))
        if nodes is None or i >= len(nodes):
            return str(i)
        return self.wiring.label(nodes[i])

    def counted(self) -> frozenset:
        """Variables holding (message, copies) pairs."""
        if self.wiring is None:
            return frozenset()
        return frozenset(c.variable for c in self.wiring.channels if c.counted and isinstance(c.variable, str))

    def channel_variables(self) -> frozenset:
        if self.wiring is None:
            return frozenset()
        return frozenset(c.variable for c in self.wiring.channels if isinstance(c.variable, str))

    def message(self, channel: Channel | None, message) -> str:
        """A message as an arrow's label: the channel's own label, or the message without the
        fields that only say where it goes (the arrow shows that)."""
        if channel is not None and self.wiring is not None:
            own = self.wiring.message_label(channel, message)
            if own is not None:
                return own
            route = channel.route(message)
            if attrs.has(type(message)):
                skip = {r for r in route if isinstance(r, str)}
                parts = [f"{f.name}={show(getattr(message, f.name))}" for f in attrs.fields(type(message))
                         if f.name not in skip]
                return f"{type(message).__name__}({', '.join(parts)})" if parts else type(message).__name__
        return show(message)


def short_action(action, names: Names | None = None) -> str:
    """An action with message arguments shown by their type only (the arrow shows the message)."""
    if action.kind != "step":
        return str(action)
    if not any(attrs.has(type(a)) for a in action.args):
        return str(action)
    args = [type(a).__name__ if attrs.has(type(a)) else show(a) for a in action.args]
    return f"{action.name}({', '.join(args)})"
