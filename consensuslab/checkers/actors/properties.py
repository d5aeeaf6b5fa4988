"""Properties on packed states: evaluated on a ``World`` that reads fields lazily and records which,
then memoised on those fields.

A property sees a ``ReadingWorld``: the same answers as ``World`` (node states by
role, the crashed set, the messages in flight, timers), each decoded from the
packed state only when asked for, and each read recorded.  Its verdict depends
only on what it read, so it is stored under ``s & mask`` where ``mask`` covers
every field any evaluation read so far; a property reading only the learners'
states is then one dict probe per state whatever the network holds.  Reading
``raw`` (the whole ``ActorState``) reads everything.  A mask that grows keeps
its entries right: an entry stored under the narrower mask was computed on a
state agreeing with every state that now finds it on all the fields that
evaluation read.
"""

from __future__ import annotations

from consensuslab.models.world import World


class Reads:
    """What evaluations of one property read: node fields, the down bits, the network, or everything."""

    __slots__ = ("nodes", "down", "net", "everything")

    def __init__(self):
        self.nodes: set[int] = set()
        self.down = self.net = self.everything = False

    def size(self) -> tuple:
        return (len(self.nodes), self.down, self.net, self.everything)

    def mask(self, layout) -> int:
        if self.everything:
            return -1
        mask = 0
        for i in self.nodes:
            mask |= layout.node_mask(i)
        if self.down:
            for i in range(layout.n):
                mask |= layout.down_bit(i)
        if self.net:
            mask |= -(1 << layout.net_at)  # every bit from the network up, however far it grows
        return mask


class ReadingWorld(World):
    """``World`` over a packed state: decodes what is asked for and records it in ``reads``."""

    __slots__ = ("_s", "_layout", "_reads", "_roles")

    def __init__(self, model, layout, s: int, reads: Reads, roles: dict):
        self.model = model
        self._s, self._layout, self._reads, self._roles = s, layout, reads, roles

    @property
    def raw(self):
        self._reads.everything = True
        return self._layout.decode(self._s)

    def __getitem__(self, node: str):
        i = self.model.index[node]
        self._reads.nodes.add(i)
        return self._layout.local(self._s, i)

    def _role(self, role: str) -> tuple:
        idx = self._roles[role]
        self._reads.nodes.update(idx)
        return idx

    def states(self, role: str) -> list:
        local, s = self._layout.local, self._s
        return [local(s, i) for i in self._role(role)]

    def items(self, role: str) -> list:
        local, s, nodes = self._layout.local, self._s, self.model.nodes
        return [(nodes[i], local(s, i)) for i in self._role(role)]

    def correct(self, role: str) -> list:
        self._reads.down = True
        local, s, nodes, layout = self._layout.local, self._s, self.model.nodes, self._layout
        return [(nodes[i], local(s, i)) for i in self._role(role) if not s & layout.down_bit(i)]

    @property
    def crashed(self) -> frozenset:
        self._reads.down = True
        nodes, layout = self.model.nodes, self._layout
        return frozenset(nodes[i] for i in range(layout.n) if self._s & layout.down_bit(i))

    @property
    def in_flight(self) -> list:
        self._reads.net = True
        return self.model.network.in_flight(self._layout.net(self._s))

    def timers(self, node: str) -> frozenset:
        i = self.model.index[node]
        self._reads.nodes.add(i)
        layout = self._layout
        return layout.tables.node_values[i][layout.node(self._s, i)][1]


def roles_of(model) -> dict:
    """Role -> indices of its nodes that are not Byzantine (what ``World.states`` lists)."""
    byz = model.byzantine
    return {role: tuple(model.index[n] for n in nodes if n not in byz) for role, nodes in model.topology.items()}


class StateProperty:
    """An invariant or witness, memoised on the fields it reads."""

    def __init__(self, search, prop):
        self.search, self.prop, self.fn = search, prop, prop.fn
        self.reads = Reads()
        self.memo: dict = {}
        self.mask = 0

    def refresh(self) -> None:
        self.memo = {}
        self.mask = self.reads.mask(self.search.layout)

    def evaluate(self, s: int) -> bool:
        """Evaluate on ``s`` (a miss), widening the mask by what it read; exceptions propagate."""
        search = self.search
        before = self.reads.size()
        verdict = bool(self.fn(ReadingWorld(search.model, search.layout, s, self.reads, search.roles)))
        if self.reads.size() != before:
            self.mask = self.reads.mask(search.layout)
        self.memo[s & self.mask] = verdict
        return verdict

    def holds(self, s: int) -> bool:
        verdict = self.memo.get(s & self.mask)
        return self.evaluate(s) if verdict is None else verdict


class StepProperty:
    """A transition property, memoised on the fields it reads before and after, and the action."""

    def __init__(self, search, prop):
        self.search, self.prop, self.fn = search, prop, prop.fn
        self.before, self.after = Reads(), Reads()
        self.memo: dict = {}
        self.mask_before = self.mask_after = 0

    def refresh(self) -> None:
        self.memo = {}
        self.mask_before = self.before.mask(self.search.layout)
        self.mask_after = self.after.mask(self.search.layout)

    def evaluate(self, s: int, act, t: int) -> bool:
        search = self.search
        model, layout, roles = search.model, search.layout, search.roles
        sizes = (self.before.size(), self.after.size())
        verdict = bool(self.fn(ReadingWorld(model, layout, s, self.before, roles), act,
                               ReadingWorld(model, layout, t, self.after, roles)))
        if (self.before.size(), self.after.size()) != sizes:
            self.mask_before = self.before.mask(layout)
            self.mask_after = self.after.mask(layout)
        self.memo[(s & self.mask_before, t & self.mask_after, act)] = verdict
        return verdict

    def holds(self, s: int, act, t: int) -> bool:
        verdict = self.memo.get((s & self.mask_before, t & self.mask_after, act))
        return self.evaluate(s, act, t) if verdict is None else verdict
