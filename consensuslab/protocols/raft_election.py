"""Raft's leader election (Ongaro & Ousterhout 2014, section 5.2) as actors: the model an implementation's
election code is driven from (``consensuslab conform``).

Servers time out (timer ``election``) and stand in the next term, voting for
themselves and asking the others (RequestVote); a server grants one vote per
term, first come (Vote); a candidate with votes from a quorum leads and tells
the others (Heartbeat: an AppendEntries without entries).  A server that sees
a higher term adopts it and follows; a candidate that hears from a leader of
its term follows.  Logs are left out, so every candidate's log is as up to date
as any voter's: the election restriction never refuses a vote here.

``currentTerm`` and ``votedFor`` are durable: they survive a crash-recover,
as Raft requires them to be on stable storage before a server answers.
Variant ``forget-vote`` keeps only the term, so a restarted server may vote a
second time in a term, and two leaders of one term follow.

Bounds: ``max_term`` (no election timeout beyond it; 2, one election term, by
default).  Messages go into a soup (TLA+'s ``msgs``): any message may be received
any number of times, in any order, or never, which covers loss, reordering and
duplication in a finite state space.
"""

from __future__ import annotations

from consensuslab.models.effects import broadcast, cancel_timer, just, send, set_timer
from consensuslab.models.faults import CrashRecover, durable
from consensuslab.models.network import MessageSoup
from consensuslab.models.params import Param
from consensuslab.models.properties import always, sometimes
from consensuslab.models.protocol import Protocol, handles, initial, on_timer
from consensuslab.models.records import evolve, message, state
from consensuslab.models.scenario import Scenario

SERVER = "server"
FOLLOWER, CANDIDATE, LEADER = "follower", "candidate", "leader"


# -- messages ---------------------------------------------------------------------------
@message
class RequestVote:
    term: int


@message
class Vote:
    term: int
    granted: bool


@message
class Heartbeat:
    term: int


# -- a server's state -------------------------------------------------------------------------
@state
class Server:
    term: int = durable(1)
    voted_for: str | None = durable(None)
    role: str = FOLLOWER
    votes: frozenset = frozenset()


@state
class ForgetfulServer:
    """A server whose vote is not on stable storage (variant ``forget-vote``)."""

    term: int = durable(1)
    voted_for: str | None = None
    role: str = FOLLOWER
    votes: frozenset = frozenset()


class RaftElection(Protocol):
    name = "raft-election"
    summary = "Raft's leader election as actors (RequestVote, Vote, Heartbeat; durable term and vote)"
    params = {
        "servers": Param(3, "number of servers", min=1, max=5),
        "max_term": Param(2, "largest term a server may stand in (terms start at 1)", min=1, max=6),
        "quorum": Param(0, "votes a candidate needs, its own included (0: a majority)", min=0, max=5),
    }
    variants = {"forget-vote": "votedFor is not persisted: a restarted server may vote twice in one term"}
    network = MessageSoup()
    _restart = (CrashRecover(1),)
    scenarios = (
        Scenario("default", "3 servers, one election term; messages lost, reordered or received many times",
                 states=248),
        Scenario("restart", "3 servers, one election term, one crash-recover", faults=_restart, states=1675),
        Scenario("two-terms", "2 servers, terms up to 3: a leader of term 2 deposed by a candidate of term 3",
                 {"servers": 2, "max_term": 3}, states=179),
        Scenario("forget-vote", "a restarted server forgets its vote and elects a second leader in one term",
                 variant="forget-vote", faults=_restart, expect="violation", expect_property="election_safety"),
        Scenario("small-quorum", "quorums of one: every candidate leads", {"quorum": 1},
                 expect="violation", expect_property="election_safety"),
    )

    def setup(self):
        self.q = self.quorum or self.servers // 2 + 1

    def topology(self):
        return {SERVER: tuple(f"s{k + 1}" for k in range(self.servers))}

    @initial(SERVER)
    def server_init(self, ctx):
        return (ForgetfulServer() if self.variant == "forget-vote" else Server()), set_timer("election")

    @on_timer(SERVER, "election")
    def server_timeout(self, s, ctx):
        """Stand for election in the next term."""
        if s.role == LEADER or s.term >= self.max_term:
            return None
        s = evolve(s, term=s.term + 1, role=CANDIDATE, voted_for=ctx.me, votes=frozenset({ctx.me}))
        if len(s.votes) >= self.q:
            return self._won(s, ctx)
        return s, (broadcast(ctx.others(), RequestVote(s.term)), set_timer("election"))

    @handles(SERVER, RequestVote)
    def server_on_request_vote(self, s, m, ctx):
        s = self._newer(s, m.term)
        grant = m.term == s.term and s.voted_for in (None, ctx.src)
        if grant:
            s = evolve(s, voted_for=ctx.src)
        return s, (send(ctx.src, Vote(s.term, grant)), self._timer(s))

    @handles(SERVER, Vote)
    def server_on_vote(self, s, m, ctx):
        if m.term > s.term:
            s = self._newer(s, m.term)
            return s, self._timer(s)
        if m.term < s.term or s.role != CANDIDATE or not m.granted:
            return just(s)
        s = evolve(s, votes=s.votes | {ctx.src})
        return self._won(s, ctx) if len(s.votes) >= self.q else just(s)

    @handles(SERVER, Heartbeat)
    def server_on_heartbeat(self, s, m, ctx):
        if m.term < s.term:
            return just(s)
        s = evolve(self._newer(s, m.term), role=FOLLOWER, votes=frozenset())
        return s, self._timer(s)

    def _newer(self, s, term: int):
        """A higher term: adopt it, follow, and forget the old term's vote."""
        if term <= s.term:
            return s
        return evolve(s, term=term, role=FOLLOWER, voted_for=None, votes=frozenset())

    def _timer(self, s):
        """Every server but a leader has its election timer set (one that steps down sets it again)."""
        return () if s.role == LEADER else set_timer("election")

    def _won(self, s, ctx):
        """Lead: tell the others, and stop the election timer (a leader does not time out)."""
        return evolve(s, role=LEADER, votes=frozenset()), (broadcast(ctx.others(), Heartbeat(s.term)),
                                                           cancel_timer("election"))

    # -- properties ---------------------------------------------------------------------------
    @always
    def election_safety(self, w):
        """At most one leader in each term."""
        terms = [s.term for s in w.states(SERVER) if s.role == LEADER]
        return len(terms) == len(set(terms))

    @sometimes
    def leader_elected(self, w):
        """Some server becomes leader."""
        return any(s.role == LEADER for s in w.states(SERVER))

    def done(self, w) -> bool:
        """A state where nothing is enabled is the edge of the bounds (every term used), not a deadlock."""
        return True
