"""Chang and Roberts' ring election (CACM 1979), as an actor protocol written from the README.

Nodes sit on a one-way ring, each with a distinct id (``-p ids=3,1,4,2``: the
ids in ring order).  A node may start an election by sending its id to its
successor.  A node that receives an id larger than its own forwards it; a
smaller one it replaces by its own id if it has not taken part yet, and
swallows otherwise; its own id back means it is the largest: it is leader and
sends ``Elected`` round the ring.  Messages are consumed on delivery
(``Unordered``).

Variant ``forward-smaller``: a node forwards every id it receives, so every
id comes back to its sender, and a node that is not the largest leads.

    consensuslab check tests/protocols/newcomer/chang_roberts.py
    consensuslab check tests/protocols/newcomer/chang_roberts.py --variant forward-smaller
    consensuslab check tests/protocols/newcomer/chang_roberts.py --scenario fair    # a leader is elected
"""

from __future__ import annotations

from consensuslab import (
    Fair, Param, Protocol, Scenario, Unordered, UsageError, always, eventually, evolve, handles, initial, just, local, message,
    send, sometimes, state,
)

NODE = "node"


@message
class Candidate:
    id: int


@message
class Elected:
    id: int


@state
class Node:
    participant: bool = False
    leader: int | None = None


class ChangRoberts(Protocol):
    name = "chang-roberts"
    summary = "Chang-Roberts leader election on a one-way ring"
    params = {"ids": Param((3, 1, 4, 2), "the nodes' ids, in ring order", of=int, min=1, max=5)}
    variants = {"forward-smaller": "a node forwards smaller ids instead of swallowing them"}
    network = Unordered()
    # every node may start, and messages are delivered (the default), so a leader is elected
    fairness = (Fair("local", "node_start", per="node"),)
    scenarios = (
        Scenario("default", "4 nodes, ids 3,1,4,2", {}, states=223),
        Scenario("fair", "a leader is elected and every node learns it", {"ids": (2, 3, 1)},
                 properties=("one_leader", "the_largest_leads", "everyone_learns")),
        Scenario("forward-smaller", "a smaller id comes back round: its node leads", {"ids": (2, 1)},
                 variant="forward-smaller", expect="violation", expect_property="the_largest_leads"),
    )

    def setup(self):
        if len(set(self.ids)) != len(self.ids):
            raise UsageError(f"parameter ids={','.join(map(str, self.ids))}: ids must be distinct")
        self.ring = tuple(f"n{k + 1}" for k in range(len(self.ids)))
        self.id_of = dict(zip(self.ring, self.ids))
        self.next_of = {n: self.ring[(k + 1) % len(self.ring)] for k, n in enumerate(self.ring)}

    def topology(self):
        return {NODE: self.ring}

    @initial(NODE)
    def node_init(self, ctx):
        return Node()

    @local(NODE)
    def node_start(self, s, ctx):
        if not s.participant and s.leader is None:
            return evolve(s, participant=True), send(self.next_of[ctx.me], Candidate(self.id_of[ctx.me]))

    @handles(NODE, Candidate)
    def node_on_candidate(self, s, m, ctx):
        me, after = self.id_of[ctx.me], self.next_of[ctx.me]
        if m.id > me or (m.id < me and self.variant == "forward-smaller"):
            return evolve(s, participant=True), send(after, m)
        if m.id < me:
            if s.participant:
                return just(s)  # swallowed: a larger candidate is on its way
            return evolve(s, participant=True), send(after, Candidate(me))
        return evolve(s, leader=me), send(after, Elected(me))

    @handles(NODE, Elected)
    def node_on_elected(self, s, m, ctx):
        if m.id == self.id_of[ctx.me]:
            return just(s)  # back at the leader: everyone knows
        return evolve(s, leader=m.id, participant=False), send(self.next_of[ctx.me], m)

    @always
    def one_leader(self, w):
        """At most one node believes it is the leader."""
        return sum(1 for n, s in w.items(NODE) if s.leader == self.id_of[n]) <= 1

    @always
    def the_largest_leads(self, w):
        """Any leader a node knows has the largest id."""
        return all(s.leader in (None, max(self.ids)) for s in w.states(NODE))

    @sometimes
    def elected(self, w):
        return any(s.leader is not None for s in w.states(NODE))

    @eventually
    def everyone_learns(self, w):
        return all(s.leader is not None for s in w.states(NODE))

    def done(self, w):
        """Every node knows the leader: the election is over."""
        return all(s.leader is not None for s in w.states(NODE))
