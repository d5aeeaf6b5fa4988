"""A replicated key-value store on Raft's log (Ongaro & Ousterhout 2014, sections 5 and 8).

What is kept from Raft is what makes a replicated log safe for its clients: terms, one
vote per term, the election restriction (a vote goes only to a candidate whose log is at
least as up to date), a new leader's no-op entry (section 8), log truncation on conflict,
and the commit rule (a leader commits by counting replicas only for entries of its own
term). Replicas apply committed entries in order; the leader answers clients.

Abstracted: each RPC is one atomic step (request and response together, as in Raft specs
with atomic RPCs), AppendEntries carries the leader's whole log, and r1 starts as the
leader of term 1. Elections happen only when ``terms`` > 1. A non-leader drops client
requests instead of redirecting them; the client's timeout and retry take their place.
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
    term: int
    role: str        # follower | candidate | leader
    voted: int       # -1: no vote in this term
    votes: frozenset  # candidate: who voted for it
    log: tuple       # of (term, (client, rid)) entries; (term, None) is a no-op
    commit: int
    applied: int
    match: tuple     # leader: per replica, the length of log known replicated there


@record
class SmrRaftState(NamedTuple):
    reps: tuple
    clients: tuple
    net: frozenset   # client requests in flight: (client, rid, replica)
    hist: tuple      # ghost: the clients' history, Jepsen events


def last_term(log: tuple) -> int:
    return log[-1][0] if log else 0


class SmrRaft(LeaderClients, SmrSpec):
    name = "smr-raft"
    summary = "Replicated key-value store on a Raft log, clients with retries, linearizability"
    params = {**SmrSpec.params, "terms": Param(1, "highest term (1: r1 leads throughout)", min=1, max=3)}
    scenarios = (
        Scenario("default", "2 clients (write, read), 3 replicas, one retry, stable leader",
                 deadlock=False, states=12843),
        Scenario("failover", "one client writes; a second term lets a new leader take over",
                 {"clients": 1, "terms": 2}, deadlock=False, states=2795),
        Scenario("two-ops", "one client writes then compare-and-sets, one reads then writes; no retries",
                 {"ops": 2, "retries": 0}, deadlock=False, states=10541, properties=NO_RETRY_WITNESS),
        Scenario("read-from-follower", "a follower answers a read before it learns of a committed write",
                 variant="read-from-follower", deadlock=False, expect="violation", expect_property="linearizable"),
        Scenario("no-dedup", "a retried write reaches the log twice and is executed twice",
                 {"clients": 1}, variant="no-dedup", deadlock=False, expect="violation",
                 expect_property="exactly_once"),
        Scenario("apply-uncommitted", "the leader applies a write it then loses to a new leader",
                 {"clients": 1, "terms": 2}, variant="apply-uncommitted", deadlock=False,
                 expect="violation", expect_property="applied_prefix_agreement"),
    )

    def init(self):
        rep = Replica(1, "follower", 0, frozenset(), (), 0, 0, ())
        lead = rep._replace(role="leader", match=(0,) * self.replicas)
        yield SmrRaftState((lead,) + (rep,) * (self.replicas - 1),
                           ((0, False, 0, 0),) * self.clients, frozenset(), ())

    def applied_of(self, r):
        return r.log[:r.applied]

    def _applied(self, r: Replica) -> Replica:
        """Apply what the replica may: committed entries (or, broken, all it holds)."""
        upto = len(r.log) if self.variant == "apply-uncommitted" else r.commit
        return r._replace(applied=upto)

    def _with(self, s, i: int, new: Replica, reps=None):
        """``s`` with replica i replaced; a leader answers what it newly applied."""
        old = s.reps[i]
        new = self._applied(new)
        reps = replace_at(reps or s.reps, i, new)
        clients, hist = s.clients, s.hist
        if new.role == "leader":
            clients, hist = self.reply_applied(clients, hist, old.log[:old.applied], new.log[:new.applied], i)
        return s._replace(reps=reps, clients=clients, hist=hist)

    # -- clients -------------------------------------------------------------------------
    @action(i="N", c=lambda self: range(self.clients), rid="rids", by="i")
    def Receive(self, s, i, c, rid):
        """Replica i gets a client request: a leader appends it to its log."""
        if (c, rid, i) not in s.net:
            return None
        s = s._replace(net=s.net - {(c, rid, i)})
        r = s.reps[i]
        if self.variant == "read-from-follower" and self.script[c][rid][0] == "read":
            clients, hist = self.complete(s.clients, s.hist, c, rid, self.local_read(r.log[:r.applied], c, rid))
            return s._replace(clients=clients, hist=hist)
        if r.role != "leader":
            return s  # dropped: the client will time out and try another replica
        log = r.log + ((r.term, (c, rid)),)
        return self._with(s, i, r._replace(log=log, match=replace_at(r.match, i, len(log))))

    # -- elections (section 5.2, 5.4.1) ----------------------------------------------------
    @action(i="N", by="i")
    def Timeout(self, s, i):
        r = s.reps[i]
        if r.role == "leader" or r.term >= self.terms:
            return None
        return s._replace(reps=replace_at(s.reps, i, r._replace(
            term=r.term + 1, role="candidate", voted=i, votes=frozenset({i}), match=())))

    @action(i="N", j="N", by="i")
    def RequestVote(self, s, i, j):
        ci, vj = s.reps[i], s.reps[j]
        if ci.role != "candidate" or i == j or j in ci.votes:
            return None
        if vj.term > ci.term:  # the candidate learns of a newer term and steps down
            return s._replace(reps=replace_at(s.reps, i, ci._replace(
                term=vj.term, role="follower", voted=-1, votes=frozenset())))
        if vj.term < ci.term:
            vj = vj._replace(term=ci.term, role="follower", voted=-1, votes=frozenset(), match=())
        up_to_date = (last_term(ci.log), len(ci.log)) >= (last_term(vj.log), len(vj.log))
        if vj.voted in (-1, i) and up_to_date:
            vj = vj._replace(voted=i)
            ci = ci._replace(votes=ci.votes | {j})
            if len(ci.votes) >= self.quorum:  # elected: append a no-op to commit in its own term
                log = ci.log + ((ci.term, None),)
                ci = ci._replace(role="leader", votes=frozenset(), log=log,
                                 match=tuple(len(log) if k == i else 0 for k in self.N))
        if vj == s.reps[j] and ci == s.reps[i]:
            return None
        return self._with(s, i, ci, replace_at(s.reps, j, vj))

    # -- replication (section 5.3) ----------------------------------------------------------
    @action(i="N", j="N", by="i")
    def AppendEntries(self, s, i, j):
        li, fj = s.reps[i], s.reps[j]
        if li.role != "leader" or i == j or (fj.log == li.log and fj.term == li.term and fj.commit >= li.commit
                                             and fj.role == "follower" and li.match[j] == len(li.log)):
            return None
        if fj.term > li.term:
            return s._replace(reps=replace_at(s.reps, i, li._replace(term=fj.term, role="follower", voted=-1,
                                                                      match=())))
        if fj.term < li.term:
            fj = fj._replace(term=li.term, voted=-1)
        log = fj.log if fj.log[:len(li.log)] == li.log else li.log  # truncate only on conflict
        fj = self._applied(fj._replace(role="follower", votes=frozenset(), match=(), log=log,
                                       commit=max(fj.commit, li.commit)))
        match = replace_at(li.match, j, len(li.log))
        commit = li.commit
        for n in range(len(li.log), li.commit, -1):  # only entries of the leader's own term
            if li.log[n - 1][0] == li.term and sum(m >= n for m in match) >= self.quorum:
                commit = n
                break
        if fj == s.reps[j] and match == li.match:
            return None
        return self._with(s, i, li._replace(match=match, commit=commit), replace_at(s.reps, j, fj))
