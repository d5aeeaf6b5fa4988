"""The steps of a packed state, in units that each read a few fields and are memoised on them.

A unit stands for one block of the sorted successor list: the actions of one
kind, name and node (``Action.key`` sorts by kind, name, node, then
arguments), e.g. node ``a1`` receiving every ``Prepare`` in flight, or ``p1``'s
local step ``proposer_prepare``.  Its answer for state ``s`` depends only on
``s & mask`` (the node's field, its down bit, the envelopes its block may take,
a budget), so it is memoised under that key: ``((action, x, y), ...)``,
already in the order of the actions' keys.  Walking the units in their own
order then gives ``ActorModel.successors`` in its order without sorting.

Masks only grow, as envelopes are discovered; an entry stored under a narrower
mask stays right, because no state held the new envelope when it was stored.
"""

from __future__ import annotations

from consensuslab.checkers.actors.groups import Memo, unit_entry
from consensuslab.models.action import Action
from consensuslab.models.faults import Byzantine, CrashRecover, CrashStop, Omission


def block_order(kind: str, name: str | None, node: str | None) -> tuple:
    """The first three parts of the keys of a unit's actions (kind rank, name, node)."""
    return Action(kind, name or "", node, ()).key[:3]


class Unit:
    """One block of successors; subclasses say what it reads (``fields``) and what it yields (``compute``)."""

    def __init__(self, search, kind: str, name: str | None, i: int | None):
        self.search, self.i = search, i
        self.node = None if i is None else search.model.nodes[i]
        self.order = block_order(kind, name, self.node)
        self.envs: list[int] = []  # envelope numbers of the block (soup, counts)
        self.memo: dict = {}
        self.mask = 0
        self.rank = 0  # its place in the successor order
        self.group = None

    def fields(self, layout) -> int:
        raise NotImplementedError

    def refresh(self) -> None:
        self.memo = Memo(lambda k: unit_entry(self, k))
        layout = self.search.layout
        mask = self.fields(layout)
        for e in self.envs:
            mask |= layout.env_mask(e)
        self.mask = mask

    def add_env(self, e: int) -> None:
        self.envs.append(e)
        bits = self.search.layout.env_mask(e)
        self.mask |= bits
        if self.group is not None:
            self.group.mask |= bits

    def compute(self, k: int) -> tuple:
        raise NotImplementedError

    def in_links(self, layout) -> list[int]:
        n = layout.n
        return [j * n + self.i for j in range(n)]

    def out_links(self, layout) -> list[int]:
        n = layout.n
        return [self.i * n + d for d in range(n)]

    def links_mask(self, layout, links) -> int:
        mask = 0
        for link in links:
            mask |= layout.link_mask(link)
        return mask

    def node_fields(self, layout, outgoing: bool = True) -> int:
        """The node's field and down bit (and, on FIFO links, its outgoing queues, where its sends go)."""
        mask = layout.node_mask(self.i) | layout.down_bit(self.i)
        if outgoing and layout.kind == "fifo":
            mask |= self.links_mask(layout, self.out_links(layout))
        return mask

    def deliverable(self, k: int) -> list:
        """``(envelope, removed bit offset, popped link)`` of every envelope to this node deliverable in ``k``."""
        layout = self.search.layout
        out = []
        if layout.kind == "soup":
            envs = layout.tables.envs
            for e in self.envs:
                if k >> layout.env_shift(e) & 1:
                    out.append((envs[e], 0, None))
        elif layout.kind == "counts":
            envs = layout.tables.envs
            for e in self.envs:
                if layout.count(k, e):
                    out.append((envs[e], layout.env_shift(e), None))
        else:
            nodes, values = self.search.model.nodes, layout.tables.queue_values
            for link in self.in_links(layout):
                q = layout.queue(k, link)
                if q:
                    out.append(((nodes[link // layout.n], self.node, values[link][q][0]), 0, link))
        return out


def _sorted(out: list) -> tuple:
    out.sort(key=lambda step: step[0].key)
    return tuple(out)


class Deliver(Unit):
    """Node ``i`` receives each envelope in flight that handler ``name`` takes (``None``: no handler does)."""

    def __init__(self, search, i: int, name: str | None):
        super().__init__(search, "deliver", name, i)
        self.name = name

    def fields(self, layout) -> int:
        mask = self.node_fields(layout)
        if layout.kind == "fifo":
            mask |= self.links_mask(layout, self.in_links(layout))
        return mask

    def compute(self, k: int) -> tuple:
        search = self.search
        layout, effects, i = search.layout, search.effects, self.i
        if k & layout.down_bit(i):
            return ()
        local, timers = layout.tables.node_values[i][layout.node(k, i)]
        handler_of, action = search.handler_of, search.model.action
        out = []
        for env, removed, popped in self.deliverable(k):
            src, dst, msg = env
            if handler_of(i, msg) != self.name:
                continue  # a FIFO head for another unit of this node
            name, result = effects.delivery(i, local, src, msg)
            if result is not None:
                x, y = effects.step(i, k, result, timers, removed, popped)
                out.append((action("deliver", name, dst, (src, msg)), x, y))
        return _sorted(out)


class Timer(Unit):
    def __init__(self, search, i: int, timer: str, name: str | None):
        super().__init__(search, "timer", name, i)
        self.timer = timer

    def fields(self, layout) -> int:
        return self.node_fields(layout)

    def compute(self, k: int) -> tuple:
        layout, effects, i = self.search.layout, self.search.effects, self.i
        if k & layout.down_bit(i):
            return ()
        local, timers = layout.tables.node_values[i][layout.node(k, i)]
        if self.timer not in timers:
            return ()
        name, result = effects.timer(i, local, self.timer)
        if result is None:
            return ()
        x, y = effects.step(i, k, result, timers - {self.timer})
        return ((self.search.model.action("timer", name, self.node, (self.timer,)), x, y),)


class Local(Unit):
    def __init__(self, search, i: int, name: str):
        super().__init__(search, "local", name, i)
        self.name = name

    def fields(self, layout) -> int:
        return self.node_fields(layout)

    def compute(self, k: int) -> tuple:
        layout, effects, i = self.search.layout, self.search.effects, self.i
        if k & layout.down_bit(i):
            return ()
        local, timers = layout.tables.node_values[i][layout.node(k, i)]
        out = []
        for act, result in effects.local_steps(i, local):
            if act.name == self.name:
                x, y = effects.step(i, k, result, timers)
                out.append((act, x, y))
        return _sorted(out)


class Drop(Unit):
    """The network loses an envelope to node ``i``: a lossy network (before GST under partial
    synchrony), or an ``Omission`` fault spending fault ``budget``'s budget."""

    def __init__(self, search, i: int, budget: int | None):
        super().__init__(search, "drop", "drop", i)
        self.budget = budget

    def fields(self, layout) -> int:
        mask = layout.gst_bit
        if self.budget is not None:
            mask |= layout.budget_mask(self.budget)
        if layout.kind == "fifo":
            mask |= self.links_mask(layout, self.in_links(layout))
        return mask

    def compute(self, k: int) -> tuple:
        layout, effects = self.search.layout, self.search.effects
        spend = 0
        if self.budget is None:
            if k & layout.gst_bit:
                return ()
        elif not layout.budget(k, self.budget):
            return ()
        else:
            spend = effects.budget_spent(k, self.budget)
        action, out = self.search.model.action, []
        for env, removed, popped in self.deliverable(k):
            if popped is not None:
                x = effects.step_queue(k, popped)
            else:
                x = 0
            out.append((action("drop", "drop", self.node, (env[0], env[2])), x ^ spend, -(1 << removed) if removed else 0))
        return _sorted(out)


class Duplicate(Unit):
    def __init__(self, search, i: int):
        super().__init__(search, "duplicate", "duplicate", i)

    def fields(self, layout) -> int:
        return 0

    def compute(self, k: int) -> tuple:
        layout = self.search.layout
        limit = self.search.model.network.inner.max_copies if layout.synchrony else self.search.model.network.max_copies
        action, out, envs = self.search.model.action, [], layout.tables.envs
        for e in self.envs:
            if 0 < layout.count(k, e) < limit:
                env = envs[e]
                out.append((action("duplicate", "duplicate", self.node, (env[0], env[2])), 0, 1 << layout.env_shift(e)))
        return _sorted(out)


class Crash(Unit):
    def __init__(self, search, i: int, fault: int):
        super().__init__(search, "crash", "crash", i)
        self.fault = fault

    def fields(self, layout) -> int:
        return self.node_fields(layout, outgoing=False) | layout.budget_mask(self.fault)

    def compute(self, k: int) -> tuple:
        layout, effects, i = self.search.layout, self.search.effects, self.i
        if k & layout.down_bit(i) or not layout.budget(k, self.fault):
            return ()
        v = layout.node(k, i)
        local = layout.tables.node_values[i][v][0]
        x = effects.node_change(i, v, local, frozenset()) ^ layout.down_bit(i) ^ effects.budget_spent(k, self.fault)
        return ((self.search.model.action("crash", "crash", self.node, ()), x, 0),)


class Recover(Unit):
    def __init__(self, search, i: int):
        super().__init__(search, "recover", "recover", i)

    def fields(self, layout) -> int:
        return self.node_fields(layout)

    def compute(self, k: int) -> tuple:
        layout, effects, i = self.search.layout, self.search.effects, self.i
        if not k & layout.down_bit(i):
            return ()
        fresh, sends, timers = effects.restart(i, layout.local(k, i))
        x, y = effects.step(i, k, (fresh, sends, ()), timers)
        return ((self.search.model.action("recover", "recover", self.node, ()), x ^ layout.down_bit(i), y),)


class Forge(Unit):
    """Byzantine node ``i`` sends a message of its role's forgeable universe to another node."""

    def __init__(self, search, i: int, fault: int):
        super().__init__(search, "forge", "forge", i)
        self.fault = fault

    def fields(self, layout) -> int:
        mask = layout.budget_mask(self.fault)
        if layout.kind == "fifo":
            mask |= self.links_mask(layout, self.out_links(layout))
        return mask

    def compute(self, k: int) -> tuple:
        search = self.search
        layout, effects, model = search.layout, search.effects, search.model
        if not layout.budget(k, self.fault):
            return ()
        spend = effects.budget_spent(k, self.fault)
        out = []
        for msg in effects.forgeries(self.node):
            for dst in model.nodes:
                if dst != self.node:
                    x, y = effects.forge(k, (self.node, dst, msg))
                    out.append((model.action("forge", "forge", self.node, (dst, msg)), x ^ spend, y))
        return _sorted(out)


class Gst(Unit):
    def __init__(self, search):
        super().__init__(search, "gst", "gst", None)

    def fields(self, layout) -> int:
        return layout.gst_bit

    def compute(self, k: int) -> tuple:
        if k & self.search.layout.gst_bit:
            return ()
        return ((self.search.model.action("gst", "gst", None, ()), self.search.layout.gst_bit, 0),)


def static_units(search) -> list[Unit]:
    """Every unit known before the search: deliveries by handler, local steps, faults (timers come as seen)."""
    model = search.model
    units: list[Unit] = []
    byz = model.byzantine
    handled = {}
    for (role, _), (name, _) in model.handlers.items():
        handled.setdefault(role, []).append(name)
    lossy = model.network.lossy
    duplicating = model.network.duplicating
    for i, node in enumerate(model.nodes):
        role = model.role_of[node]
        if node not in byz:
            units += [Deliver(search, i, name) for name in sorted(set(handled.get(role, ())))]
            if search.layout.kind == "fifo":
                units.append(Deliver(search, i, None))
            units += [Local(search, i, name) for name, _, _ in model.locals_by_role.get(role, ())]
        if lossy:
            units.append(Drop(search, i, None))
        if duplicating:
            units.append(Duplicate(search, i))
    for k, fault in enumerate(model.faults):
        if isinstance(fault, Omission) and not lossy:
            units += [Drop(search, i, k) for i in range(len(model.nodes))]
        elif isinstance(fault, CrashStop):
            units += [Crash(search, i, k) for i, node in enumerate(model.nodes)
                      if node not in byz and (fault.roles is None or model.role_of[node] in fault.roles)]
            if isinstance(fault, CrashRecover):
                units += [Recover(search, i) for i, node in enumerate(model.nodes) if node not in byz]
        elif isinstance(fault, Byzantine):
            units += [Forge(search, model.index[node], k) for node in fault.nodes
                      if model.role_of[node] in model.forgers]
    if search.layout.synchrony:
        units.append(Gst(search))
    return units
