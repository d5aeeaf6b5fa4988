"""What an actor's handler may know besides its state: who it is, who the others are, who sent."""

from __future__ import annotations


class Ctx:
    """What a handler may know besides its state: who it is, who the others are, who sent.

    * ``ctx.me``: the node running the handler (``"r2"``);
    * ``ctx.role``: its role (``"rm"``);
    * ``ctx.src``: the sender of the message being handled (None in ``@initial``,
      ``@local`` and ``@on_timer`` handlers); the network stamps it, so a
      Byzantine node cannot forge it;
    * ``ctx.nodes(role)``: the nodes of a role, in topology order;
    * ``ctx.only(role)``: the one node of a role (an error if it has several);
    * ``ctx.others(role=None)``: the nodes of a role (or all nodes) but ``me``;
    * ``ctx.all``: every node.
    """

    __slots__ = ("me", "role", "src", "_topology")

    def __init__(self, me: str, role: str, src: str | None, topology: dict[str, tuple[str, ...]]):
        self.me, self.role, self.src, self._topology = me, role, src, topology

    def nodes(self, role: str) -> tuple[str, ...]:
        return self._topology[role]

    def only(self, role: str) -> str:
        nodes = self._topology[role]
        if len(nodes) != 1:
            raise ValueError(f"role {role} has {len(nodes)} nodes, not one")
        return nodes[0]

    def others(self, role: str | None = None) -> tuple[str, ...]:
        pool = self._topology[role] if role else self.all
        return tuple(n for n in pool if n != self.me)

    @property
    def all(self) -> tuple[str, ...]:
        return tuple(n for nodes in self._topology.values() for n in nodes)
