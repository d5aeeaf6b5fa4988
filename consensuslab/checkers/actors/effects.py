"""One node's step on a packed state: the handler's answer, memoised, turned into bit changes.

Handlers are pure, so each distinct (node, local state, input) runs the
protocol's Python once (through ``ActorModel.run_delivery`` and its siblings,
which do not memoise: the model's own memo stays the interpreted search's, so
an audit that recomputes a step on the model really recomputes it).  A step is
then ``(x, y)``: the successor of ``s`` is ``(s ^ x) | y`` on a soup (``y`` the
bits of the envelopes sent) and ``(s ^ x) + y`` on a multiset (``y`` the counts
added, less the one delivered); on FIFO links every change is in ``x``, because
a unit that sends reads the sender's outgoing links.
"""

from __future__ import annotations

from consensuslab.checkers.actors.layout import Layout
from consensuslab.models.effects import SetTimer


class Queues:
    """FIFO queues a step reads and changes, by link, starting from a packed key."""

    __slots__ = ("layout", "k", "now", "start")

    def __init__(self, layout: Layout, k: int):
        self.layout, self.k, self.now, self.start = layout, k, {}, {}

    def get(self, link: int) -> tuple:
        if link not in self.now:
            q = self.layout.queue(self.k, link)
            self.start[link] = q
            self.now[link] = self.layout.tables.queue_values[link][q]
        return self.now[link]

    def set(self, link: int, queue: tuple) -> None:
        self.get(link)
        self.now[link] = queue

    def bits(self) -> int:
        """``x`` of the queues that changed."""
        layout, x = self.layout, 0
        for link, queue in self.now.items():
            x ^= (self.start[link] ^ layout.queue_value(link, queue)) << layout.link_shift(link)
        return x


class Effects:
    """The handler memos of one search and the translation of their answers into bits."""

    def __init__(self, model, layout: Layout):
        self.model = model
        self.layout = layout
        self.kind = layout.kind
        n = len(model.nodes)
        self.deliveries: list[dict] = [{} for _ in range(n)]
        self.timers: list[dict] = [{} for _ in range(n)]
        self.locals: list[dict] = [{} for _ in range(n)]
        self.restarts: list[dict] = [{} for _ in range(n)]
        self.forged: dict = {}
        self.calls = 0  # handler runs: each distinct step once

    # -- the handlers, once per distinct input ------------------------------------------------
    def delivery(self, i: int, local, src: str, msg):
        key = (local, src, msg)
        out = self.deliveries[i].get(key)
        if out is None:
            self.calls += 1
            out = self.deliveries[i][key] = self.model.run_delivery(self.model.nodes[i], src, msg, local)
        return out

    def timer(self, i: int, local, name: str):
        key = (local, name)
        out = self.timers[i].get(key)
        if out is None:
            self.calls += 1
            out = self.timers[i][key] = self.model.run_timer(self.model.nodes[i], name, local)
        return out

    def local_steps(self, i: int, local) -> list:
        out = self.locals[i].get(local)
        if out is None:
            self.calls += 1
            out = self.locals[i][local] = self.model.run_local_steps(self.model.nodes[i], local)
        return out

    def restart(self, i: int, local):
        out = self.restarts[i].get(local)
        if out is None:
            self.calls += 1
            out = self.restarts[i][local] = self.model.restart(self.model.nodes[i], local)
        return out

    def forgeries(self, node: str) -> tuple:
        out = self.forged.get(node)
        if out is None:
            model = self.model
            forge = model.forgers.get(model.role_of[node])
            out = self.forged[node] = tuple(forge(model.ctx(node))) if forge is not None else ()
        return out

    # -- answers as bits ---------------------------------------------------------------------
    def node_change(self, i: int, v: int, state, timers: frozenset, ops: tuple = ()) -> int:
        """``x`` of node ``i`` going from field value ``v`` to ``state`` with ``timers`` after ``ops``."""
        if ops:
            timers = set(timers)
            for op in ops:
                (timers.add if isinstance(op, SetTimer) else timers.discard)(op.name)
            timers = frozenset(timers)
        v2 = self.layout.node_value(i, state, timers)
        return (v ^ v2) << self.layout.node_shift(i)

    def sends(self, sends: tuple, queues: Queues | None) -> int:
        """``y`` of ``sends`` (soup, counts); on FIFO links they go into ``queues`` and ``y`` is 0."""
        layout = self.layout
        if self.kind == "fifo":
            index, n = self.model.index, layout.n
            for src, dst, msg in sends:
                link = index[src] * n + index[dst]
                queues.set(link, queues.get(link) + (msg,))
            return 0
        env_id, y = layout.tables.env_id, 0
        if self.kind == "soup":
            for env in sends:
                y |= 1 << layout.env_shift(env_id(env))
        else:
            for env in sends:
                y += 1 << layout.env_shift(env_id(env))
        return y

    def step(self, i: int, k: int, result, timers: frozenset, removed: int = 0, popped: int | None = None):
        """``(x, y)`` of node ``i`` taking a handler's ``result`` in packed key ``k``.

        ``removed``: the bit offset of a multiset copy it consumed; ``popped``: the link whose head it consumed.
        """
        state, sends, ops = result
        layout = self.layout
        x = self.node_change(i, layout.node(k, i), state, timers, ops)
        if self.kind == "fifo":
            queues = Queues(layout, k)
            if popped is not None:
                queues.set(popped, queues.get(popped)[1:])
            self.sends(sends, queues)
            return x ^ queues.bits(), 0
        y = self.sends(sends, None)
        if removed:
            y -= 1 << removed
        return x, y

    def budget_spent(self, k: int, fault: int) -> int:
        """``x`` of spending one unit of fault ``fault``'s budget (which ``k`` holds and is positive)."""
        b = self.layout.budget(k, fault)
        return (b ^ (b - 1)) << self.layout.budget_at[fault]

    def step_queue(self, k: int, link: int) -> int:
        """``x`` of the head of ``link``'s queue leaving it (delivered elsewhere, or lost)."""
        queues = Queues(self.layout, k)
        queues.set(link, queues.get(link)[1:])
        return queues.bits()

    def forge(self, k: int, env: tuple) -> tuple[int, int]:
        """``(x, y)`` of the network gaining ``env``, which no handler sent."""
        if self.kind == "fifo":
            queues = Queues(self.layout, k)
            self.sends((env,), queues)
            return queues.bits(), 0
        return 0, self.sends((env,), None)
