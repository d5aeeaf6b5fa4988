"""An actor model's global state packed into one int, field by field.

From the low bits up: each node's field holds the number of its (local state,
timers) pair, numbered the first time it is seen; then one bit per node that is
down (with crash faults), each fault budget, the ``gst`` flag (partial
synchrony); then the network, which grows upwards as envelopes are discovered:

* ``soup`` (``MessageSoup``): one bit per envelope;
* ``counts`` (``Unordered``): a count per envelope, its top bit a guard that a
  count never reaches (a step that sets it makes the search widen the counts);
* ``fifo`` (``Fifo``): per link (src, dst) the number of its queue of messages.

The numbers live in ``Tables`` and outlive a layout: when a node's or a queue's
numbers outgrow their field, ``Widen`` is raised and the search re-packs what it
holds into a wider ``Layout`` (``convert``), so no state is explored twice.
"""

from __future__ import annotations

from consensuslab.models.actor_model import ActorState
from consensuslab.models.faults import CrashStop
from consensuslab.models.network import Fifo, MessageSoup, PartialSynchrony, Unordered


#: bits of a node's field to begin with (doubled for a node whose values outgrow it)
INITIAL_NODE_WIDTH = 8


class Widen(Exception):
    """A field outgrew its width (``what``: node, count or queue; ``node`` the node's index); the search
    re-packs with wider fields."""

    def __init__(self, what: str, node: int | None = None):
        super().__init__(what)
        self.what, self.node = what, node


def network_kind(network) -> str | None:
    """How the network is packed (soup, counts, fifo), or None where it cannot be."""
    inner = network.inner if type(network) is PartialSynchrony else network
    return {MessageSoup: "soup", Unordered: "counts", Fifo: "fifo"}.get(type(inner))


class Tables:
    """Every node's (local state, timers) pairs, the envelopes and the FIFO queues, each numbered once."""

    def __init__(self, model):
        n = len(model.nodes)
        self.node_ids: list[dict] = [{} for _ in range(n)]
        self.node_values: list[list] = [[] for _ in range(n)]
        self.env_ids: dict = {}
        self.envs: list = []
        self.queue_ids: list[dict] = [{(): 0} for _ in range(n * n)]
        self.queue_values: list[list] = [[()] for _ in range(n * n)]
        self.discovered: list = []  # callbacks told of each new envelope number
        self.timer_names: set = set()  # (node index, timer name) seen set
        self.new_timer: list = []  # callbacks told of each new (node index, timer name)

    def node_id(self, i: int, local, timers: frozenset) -> int:
        key = (local, timers)
        v = self.node_ids[i].get(key)
        if v is None:
            v = self.node_ids[i][key] = len(self.node_values[i])
            self.node_values[i].append(key)
            for name in timers:
                if (i, name) not in self.timer_names:
                    self.timer_names.add((i, name))
                    for tell in self.new_timer:
                        tell(i, name)
        return v

    def env_id(self, env: tuple) -> int:
        e = self.env_ids.get(env)
        if e is None:
            e = self.env_ids[env] = len(self.envs)
            self.envs.append(env)
            for tell in self.discovered:
                tell(e)
        return e

    def queue_id(self, link: int, queue: tuple) -> int:
        q = self.queue_ids[link].get(queue)
        if q is None:
            q = self.queue_ids[link][queue] = len(self.queue_values[link])
            self.queue_values[link].append(queue)
        return q


class Layout:
    """Where each field of a packed state lives, for one choice of widths."""

    def __init__(self, model, tables: Tables, node_widths: tuple | None = None, count_width: int = 4,
                 queue_width: int = 8):
        self.model, self.tables = model, tables
        self.kind = network_kind(model.network)
        self.synchrony = type(model.network) is PartialSynchrony
        n = self.n = len(model.nodes)
        self.node_widths = node_widths or (INITIAL_NODE_WIDTH,) * n
        self.count_width, self.queue_width = count_width, queue_width
        self.node_at, at = [], 0
        for width in self.node_widths:
            self.node_at.append(at)
            at += width
        self.node_limits = [1 << w for w in self.node_widths]
        self.crashes = any(isinstance(f, CrashStop) for f in model.faults)
        self.down_at = at
        at += n if self.crashes else 0
        self.budget_at, self.budget_width = [], []
        for fault in model.faults:
            width = max(1, int(getattr(fault, "budget", 0)).bit_length())
            self.budget_at.append(at)
            self.budget_width.append(width)
            at += width
        self.gst_bit = 0
        if self.synchrony:
            self.gst_bit, at = 1 << at, at + 1
        self.net_at = at
        self.env_width = {"soup": 1, "counts": count_width, "fifo": 0}[self.kind]
        self.queue_limit = 1 << queue_width

    # -- where things are ------------------------------------------------------------------
    def node_shift(self, i: int) -> int:
        return self.node_at[i]

    def node_mask(self, i: int) -> int:
        return (self.node_limits[i] - 1) << self.node_at[i]

    def down_bit(self, i: int) -> int:
        return 1 << (self.down_at + i) if self.crashes else 0

    def budget_mask(self, k: int) -> int:
        return ((1 << self.budget_width[k]) - 1) << self.budget_at[k]

    def env_shift(self, e: int) -> int:
        return self.net_at + e * self.env_width

    def env_mask(self, e: int) -> int:
        return ((1 << self.env_width) - 1) << self.env_shift(e)

    def link_shift(self, link: int) -> int:
        return self.net_at + link * self.queue_width

    def link_mask(self, link: int) -> int:
        return (self.queue_limit - 1) << self.link_shift(link)

    def guard(self) -> int:
        """The guard bits of every count (a successor with one set has outgrown the counts)."""
        if self.kind != "counts":
            return 0
        top = 1 << (self.count_width - 1)
        return sum(top << self.env_shift(e) for e in range(len(self.tables.envs)))

    # -- reading fields ----------------------------------------------------------------------
    def node(self, s: int, i: int) -> int:
        return (s >> self.node_at[i]) & (self.node_limits[i] - 1)

    def budget(self, s: int, k: int) -> int:
        return (s >> self.budget_at[k]) & ((1 << self.budget_width[k]) - 1)

    def count(self, s: int, e: int) -> int:
        return (s >> self.env_shift(e)) & ((1 << self.env_width) - 1)

    def queue(self, s: int, link: int) -> int:
        return (s >> self.link_shift(link)) & (self.queue_limit - 1)

    # -- numbering with a width check ------------------------------------------------------------
    def node_value(self, i: int, local, timers: frozenset) -> int:
        v = self.tables.node_id(i, local, timers)
        if v >= self.node_limits[i]:
            raise Widen("node", i)
        return v

    def queue_value(self, link: int, queue: tuple) -> int:
        q = self.tables.queue_id(link, queue)
        if q >= self.queue_limit:
            raise Widen("queue")
        return q

    def wider(self, what: str, node: int | None = None) -> Layout:
        nodes, count, queue = list(self.node_widths), self.count_width, self.queue_width
        if what == "node":
            nodes[node] *= 2
        elif what == "count":
            count *= 2
        else:
            queue *= 2
        return Layout(self.model, self.tables, tuple(nodes), count, queue)

    # -- real states ------------------------------------------------------------------------
    def local(self, s: int, i: int):
        return self.tables.node_values[i][self.node(s, i)][0]

    def net(self, s: int):
        """The network value of packed state ``s``, as the network policy holds it."""
        envs, t = self.tables.envs, self.tables
        if self.kind == "soup":
            inner = frozenset(envs[e] for e in set_bits(s >> self.net_at))
        elif self.kind == "counts":
            width, limit = self.env_width, (1 << self.env_width) - 1
            inner = frozenset((envs[e], (s >> self.env_shift(e)) & limit)
                              for e in {b // width for b in set_bits(s >> self.net_at)})
        else:
            nodes, n = self.model.nodes, self.n
            inner = frozenset((nodes[link // n], nodes[link % n], t.queue_values[link][q])
                              for link in range(n * n) if (q := self.queue(s, link)))
        return (bool(s & self.gst_bit), inner) if self.synchrony else inner

    def decode(self, s: int) -> ActorState:
        values = self.tables.node_values
        pairs = [values[i][self.node(s, i)] for i in range(self.n)]
        nodes = self.model.nodes
        down = frozenset(nodes[i] for i in range(self.n) if s & self.down_bit(i))
        budgets = tuple(self.budget(s, k) for k in range(len(self.budget_at)))
        return ActorState(tuple(p[0] for p in pairs), tuple(p[1] for p in pairs), self.net(s), down, budgets)

    def encode(self, gs: ActorState) -> int:
        s = 0
        for i, (local, timers) in enumerate(zip(gs.locals, gs.timers)):
            s |= self.node_value(i, local, timers) << self.node_shift(i)
        index = self.model.index
        for node in gs.down:
            s |= self.down_bit(index[node])
        for k, b in enumerate(gs.budgets):
            s |= b << self.budget_at[k]
        net = gs.net
        if self.synchrony:
            s |= self.gst_bit if net[0] else 0
            net = net[1]
        if self.kind == "soup":
            for env in net:
                s |= 1 << self.env_shift(self.tables.env_id(env))
        elif self.kind == "counts":
            for env, c in net:
                if c >= 1 << (self.count_width - 1):
                    raise Widen("count")
                s |= c << self.env_shift(self.tables.env_id(env))
        else:
            n = self.n
            for src, dst, queue in net:
                link = index[src] * n + index[dst]
                s |= self.queue_value(link, queue) << self.link_shift(link)
        return s

    def converter(self, old: Layout):
        """A function re-packing states of ``old`` in this layout: four operations where one node's
        field widened (everything above it moves up), else field by field."""
        widened = [i for i in range(self.n) if self.node_widths[i] != old.node_widths[i]]
        if len(widened) == 1 and (self.count_width, self.queue_width) == (old.count_width, old.queue_width):
            i = widened[0]
            top = old.node_at[i] + old.node_widths[i]
            low, up = (1 << top) - 1, self.node_at[i] + self.node_widths[i] - top
            return lambda s: (s & low) | (s >> top << (top + up))
        return lambda s: self.convert(s, old)

    def convert(self, s: int, old: Layout) -> int:
        """``s``, packed by ``old``, packed by this layout (the same state)."""
        out = 0
        for i in range(self.n):
            out |= old.node(s, i) << self.node_shift(i)
        low = s >> old.down_at
        net = s >> old.net_at
        out |= (low & ((1 << (old.net_at - old.down_at)) - 1)) << self.down_at
        if self.kind == "soup":
            return out | net << self.net_at
        if self.kind == "counts":
            for e in range(len(self.tables.envs)):
                out |= old.count(s, e) << self.env_shift(e)
            return out
        for link in range(self.n * self.n):
            out |= old.queue(s, link) << self.link_shift(link)
        return out


def set_bits(x: int) -> list[int]:
    """The positions of the bits set in ``x`` (least first)."""
    out = []
    while x:
        low = x & -x
        out.append(low.bit_length() - 1)
        x ^= low
    return out
