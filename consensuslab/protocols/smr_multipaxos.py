"""A replicated key-value store on Multi-Paxos (Lamport, "Paxos Made Simple", 2001, section 3).

The log is a sequence of single-decree Paxos instances, one per slot. A leader runs phase 1
once for all slots ("prepare ballot b for every instance"); acceptors promise and report
what they accepted in any slot; the leader re-proposes, per slot, the value of the highest
ballot reported, and from then on assigns new client commands to fresh slots with phase 2
only -- the stable leader skips phase 1. A value is chosen in a slot once a majority of
acceptors accepted it in one ballot; learners hear chosen values from the leader, and
replicas apply the chosen prefix in slot order.

Every replica is proposer, acceptor and learner. Abstracted: each message exchange is one
atomic step (Prepare/Promise, Accept/Accepted), a leader's Accept carries all its proposals
and the chosen prefix learned so far (so accepted values are contiguous and no gap needs a no-op), ballot b belongs to
replica (b - 1) mod n, and ``ballots`` bounds the leader changes. An acceptor that promised
a higher ballot answers with a rejection, and the proposer gives up its ballot.
"""

from __future__ import annotations

from typing import NamedTuple

from consensuslab.models.params import Param
from consensuslab.models.records import record, replace_at
from consensuslab.models.scenario import Scenario
from consensuslab.models.spec import action
from consensuslab.protocols.smr_common import NO_RETRY_WITNESS, LeaderClients, SmrSpec


@record
class Replica(NamedTuple):
    promised: int      # acceptor: the highest ballot promised
    accepted: tuple    # acceptor: per slot, (ballot, command) accepted last
    ballot: int        # proposer: the ballot it is preparing or leading (0: none)
    phase: int         # proposer: 0 idle, 1 collecting promises, 2 leading
    promises: frozenset
    seen: tuple        # phase 1: per slot, the highest-ballot (ballot, command) reported
    proposals: tuple   # phase 2: the command proposed in each slot
    acked: tuple       # phase 2: per acceptor, how many slots it accepted in this ballot
    chosen: tuple      # learner: the chosen prefix, (slot, command) pairs


@record
class SmrMultiPaxosState(NamedTuple):
    reps: tuple
    clients: tuple
    net: frozenset
    hist: tuple


def merge(seen: tuple, accepted: tuple) -> tuple:
    """Per slot, the accepted value with the higher ballot (phase 1's rule)."""
    return tuple(max(seen[k:k + 1] + accepted[k:k + 1], key=lambda bv: bv[0])
                 for k in range(max(len(seen), len(accepted))))


def accept_all(accepted: tuple, ballot: int, proposals: tuple) -> tuple:
    return tuple((ballot, v) for v in proposals) + accepted[len(proposals):]


class SmrMultiPaxos(LeaderClients, SmrSpec):
    name = "smr-multipaxos"
    summary = "Replicated key-value store on Multi-Paxos with a stable leader, clients with retries"
    params = {**SmrSpec.params, "ballots": Param(1, "highest ballot (1: r1 leads throughout)", min=1, max=3)}
    scenarios = (
        Scenario("default", "2 clients (write, read), 3 replicas, one retry, one leader",
                 deadlock=False, states=20926),
        Scenario("failover", "one client writes; a second ballot lets r2 take over",
                 {"clients": 1, "ballots": 2}, deadlock=False, states=1608),
        Scenario("two-ops", "one client writes then compare-and-sets, one reads then writes; no retries",
                 {"ops": 2, "retries": 0}, deadlock=False, states=12974, properties=NO_RETRY_WITNESS),
        Scenario("read-from-follower", "a follower answers a read before it learns of a chosen write",
                 variant="read-from-follower", deadlock=False, expect="violation", expect_property="linearizable"),
        Scenario("no-dedup", "a retried write is chosen in two slots and executed twice",
                 {"clients": 1}, variant="no-dedup", deadlock=False, expect="violation",
                 expect_property="exactly_once"),
        Scenario("apply-uncommitted", "the leader applies a write only it accepted; the next leader reuses the slot",
                 {"ballots": 2}, variant="apply-uncommitted", deadlock=False,
                 expect="violation", expect_property="applied_prefix_agreement"),
    )

    def init(self):
        rep = Replica(0, (), 0, 0, frozenset(), (), (), (), ())
        yield SmrMultiPaxosState((rep,) * self.replicas, ((0, False, 0, 0),) * self.clients, frozenset(), ())

    def applied_of(self, r: Replica) -> tuple:
        if self.variant == "apply-uncommitted":  # broken: an accepted value is applied at once
            return tuple((k, cmd) for k, (_, cmd) in enumerate(r.accepted))
        return r.chosen

    def _with(self, s, i: int, new: Replica, reps=None):
        """``s`` with replica i replaced; a leader answers the commands it newly applied."""
        reps = replace_at(reps or s.reps, i, new)
        clients, hist = s.clients, s.hist
        if new.phase == 2:
            clients, hist = self.reply_applied(clients, hist, self.applied_of(s.reps[i]), self.applied_of(new), i)
        return s._replace(reps=reps, clients=clients, hist=hist)

    # -- clients ------------------------------------------------------------------------------
    @action(i="N", c=lambda self: range(self.clients), rid="rids", by="i")
    def Receive(self, s, i, c, rid):
        """A leader puts the command in the next free slot and accepts it itself: no phase 1."""
        if (c, rid, i) not in s.net:
            return None
        s = s._replace(net=s.net - {(c, rid, i)})
        r = s.reps[i]
        if self.variant == "read-from-follower" and self.script[c][rid][0] == "read":
            clients, hist = self.complete(s.clients, s.hist, c, rid, self.local_read(self.applied_of(r), c, rid))
            return s._replace(clients=clients, hist=hist)
        if r.phase != 2:
            return s  # dropped: the client will time out and try another replica
        proposals = r.proposals + ((c, rid),)
        r = r._replace(proposals=proposals)
        if r.promised == r.ballot:
            r = r._replace(accepted=accept_all(r.accepted, r.ballot, proposals),
                           acked=replace_at(r.acked, i, len(proposals)))
        return self._with(s, i, self._learn(r))

    # -- phase 1, once per leader ----------------------------------------------------------------
    @action(i="N", by="i")
    def Prepare(self, s, i):
        r = s.reps[i]
        b = next((b for b in range(max(r.promised, r.ballot) + 1, self.ballots + 1)
                  if (b - 1) % self.replicas == i), None)
        if b is None:
            return None
        r = r._replace(promised=b, ballot=b, phase=1, promises=frozenset({i}), seen=r.accepted,
                       proposals=(), acked=())
        return s._replace(reps=replace_at(s.reps, i, r))

    @action(i="N", j="N", by="i")
    def Promise(self, s, i, j):
        p, a = s.reps[i], s.reps[j]
        if p.phase != 1 or j in p.promises:
            return None
        if a.promised > p.ballot:  # rejected: a higher ballot is under way
            return s._replace(reps=replace_at(s.reps, i, p._replace(phase=0, promises=frozenset(), seen=())))
        a = a._replace(promised=p.ballot)
        p = p._replace(promises=p.promises | {j}, seen=merge(p.seen, a.accepted))
        if len(p.promises) >= self.quorum:  # phase 2 for every slot a promise reported
            proposals = tuple(cmd for _, cmd in p.seen)
            p = p._replace(phase=2, promises=frozenset(), seen=(), proposals=proposals,
                           acked=tuple(len(proposals) if k == i and p.promised == p.ballot else 0 for k in self.N))
            if p.promised == p.ballot:
                p = p._replace(accepted=accept_all(p.accepted, p.ballot, proposals))
            p = self._learn(p)
        return self._with(s, i, p, replace_at(s.reps, j, a))

    # -- phase 2 and learning -----------------------------------------------------------------------
    def _learn(self, p: Replica) -> Replica:
        """A slot is chosen once a majority accepted the leader's proposal in its ballot."""
        n = max((k for k in range(len(p.proposals) + 1) if sum(x >= k for x in p.acked) >= self.quorum), default=0)
        if n <= len(p.chosen):
            return p
        return p._replace(chosen=tuple(enumerate(p.proposals[:n])))

    @action(i="N", j="N", by="i")
    def Accept(self, s, i, j):
        """The leader sends j its proposals and, piggybacked, the chosen prefix (the learners' news)."""
        p, a = s.reps[i], s.reps[j]
        if p.phase != 2 or i == j or (p.acked[j] == len(p.proposals) and a.chosen == p.chosen):
            return None
        if a.promised > p.ballot:  # rejected: the leader has been superseded
            return s._replace(reps=replace_at(s.reps, i, p._replace(phase=0, proposals=(), acked=())))
        chosen = p.chosen if len(p.chosen) > len(a.chosen) else a.chosen
        a = a._replace(promised=p.ballot, accepted=accept_all(a.accepted, p.ballot, p.proposals), chosen=chosen)
        p = self._learn(p._replace(acked=replace_at(p.acked, j, len(p.proposals))))
        return self._with(s, i, p, replace_at(s.reps, j, a))
