"""Raft, transcribed from Diego Ongaro's ``raft.tla`` (the spec in his PhD dissertation).

Variables are the spec's: per server ``currentTerm``, ``state``, ``votedFor``, ``log``, ``commitIndex``,
``votesResponded``, ``votesGranted``, ``nextIndex``, ``matchIndex``; and ``messages``, a bag of RequestVote
and AppendEntries requests and responses that the network may duplicate or drop.  Actions are the spec's
(Timeout, RequestVote, BecomeLeader, ClientRequest, AdvanceCommitIndex, AppendEntries, Restart, and Receive:
``raft_receive.py``); ``raft_explain.py`` reads a counterexample in Raft's terms.

Abstractions, each there to make the state space finite or small, each a restriction of the
spec's behaviours (so a violation found is real, and "ok" means "ok within these bounds"):

* ``currentTerm <= max_term`` (Timeout is disabled at the bound) and
  ``Len(log) <= max_log`` (ClientRequest is disabled at the bound);
* at most ``max_messages`` messages in flight: a *new* request (RequestVote,
  AppendEntries, a duplicate) is not sent into a full bag; replies replace the
  request they answer, so handlers are never blocked;
* a request identical to one already in flight is not sent again (a resend is
  what DuplicateMessage models), and at most ``max_copies`` copies of a
  message exist (``max_copies=1`` disables duplication);
* a candidate votes for itself inside Timeout, as the spec's comment says most
  implementations do, instead of sending itself a RequestVote;
* a leader sends no AppendEntries that can tell the follower nothing: no entry
  to send, the follower known to match its whole log, nothing committed;
* ``candidates`` (0 = all) lets only servers s1..sN time out; the others only
  vote and replicate (Figure 8 needs two candidates and one swing voter);
* variables dead outside a role are reset on leaving it (votes outside
  Candidate, nextIndex/matchIndex outside Leader), which merges states that
  differ only in values nothing reads: no behaviour is lost, but counts differ
  from TLC's on raft.tla;
* at most ``max_restarts`` restarts in a behaviour;
* ``committed``, a ghost history of every (index, term, value) any server has
  applied (advanced its commitIndex over) and the term it did so in, exists
  only for ``leader_completeness`` and ``state_machine_safety``.

Figure 8 of the paper needs leaders in four successive terms (2, 3, 4, 5 here, as terms start at 1), so
its scenarios use ``max_term=5`` with two candidates; BFS finds the state_machine_safety violation in 48 steps.

``quorum`` (0 = majority) overrides the vote and commit quorum size so that a
quorum analysis can configure one too small; ``quorum_system()`` reports it.
"""

from __future__ import annotations

from typing import NamedTuple

from consensuslab.models.fairness import Fair
from consensuslab.models.params import Param
from consensuslab.models.properties import always, always_step, eventually, sometimes
from consensuslab.models.records import record, replace_at
from consensuslab.models.scenario import Scenario
from consensuslab.models.spec import Spec, action
from consensuslab.protocols import raft_symmetry
from consensuslab.protocols.raft_explain import Explaining
from consensuslab.protocols.raft_log import (
    PARTICIPANTS,
    AppendEntriesRequest,
    BagSpecModel,
    RequestVoteRequest,
    copies,
    last_term,
    size,
    with_message,
)
from consensuslab.protocols.raft_receive import CANDIDATE, FOLLOWER, LEADER, NIL, Receiving


@record
class RaftState(NamedTuple):
    currentTerm: tuple
    state: tuple
    votedFor: tuple  # a server name or NIL
    log: tuple  # log[i] is a tuple of (term, value) entries
    commitIndex: tuple
    votesResponded: tuple  # frozensets of server names
    votesGranted: tuple
    nextIndex: tuple  # nextIndex[i][j]
    matchIndex: tuple
    messages: frozenset  # the bag: (message, copies) pairs
    restarts: int  # restarts so far (bounded by max_restarts)
    committed: frozenset  # ghost: (index, term, value, term it was applied in)


SMALL = {"servers": 3, "max_term": 3, "max_log": 1, "max_messages": 1}
TINY = {"servers": 3, "max_term": 2, "max_log": 1, "max_messages": 1}
#: Figure 8 needs leaders in four terms (2, 3, 4, 5: terms start at 1) but only two candidates
FIG8 = {"servers": 3, "max_term": 5, "max_log": 1, "max_messages": 1, "drop": False, "candidates": 2}


class Raft(Receiving, Explaining, Spec):
    name = "raft"
    summary = "Raft leader election and log replication, Ongaro's raft.tla (message bag, restarts)"
    params = {
        "servers": Param(3, "number of servers", min=1, max=5),
        "max_term": Param(3, "largest term a server may time out into (terms start at 1)", min=1, max=9),
        "max_log": Param(1, "longest log a leader may grow by client requests", min=0, max=4),
        "values": Param(1, "number of distinct client values", min=1, max=3),
        "max_messages": Param(1, "messages in flight at most (new requests wait)", min=1, max=8),
        "max_copies": Param(1, "copies of one message at most (1: no duplication)", min=1, max=3),
        "max_restarts": Param(0, "server restarts at most", min=0, max=4),
        "candidates": Param(0, "only servers s1..sN may time out and stand for election (0: all)", min=0, max=5),
        "drop": Param(True, "the network may drop messages"),
        "quorum": Param(0, "vote and commit quorum size (0: a majority)", min=0, max=5),
        "timely": Param(False, "after GST: no server times out while an election is under way "
                               "(election timeouts exceed the time an election takes)"),
    }
    variants = {
        "figure8": "a leader commits an entry of an earlier term by counting replicas "
                   "(AdvanceCommitIndex without log[i][index].term = currentTerm[i]): Figure 8 of the paper",
    }
    scenarios = (
        Scenario("default", "the default bounds: 3 servers, terms up to 3, one entry, one message in flight",
                 states=47013),
        Scenario("tiny", "3 servers, one election term, one entry, one message in flight", TINY, states=3599),
        Scenario("restart", "2 servers, a restart, duplication, two messages in flight", {
            "servers": 2, "max_term": 3, "max_log": 1, "max_messages": 2, "max_copies": 2,
            "max_restarts": 1}, states=11972),
        Scenario("figure8", "Figure 8: committing an old-term entry by counting replicas is overwritten later",
                 FIG8, variant="figure8", expect="violation", expect_property="state_machine_safety",
                 properties=("state_machine_safety",)),
        Scenario("figure8-all", "Figure 8, every property: a later leader lacks the committed entry first",
                 FIG8, variant="figure8", expect="violation", expect_property="leader_completeness"),
        Scenario("figure8-immutable", "Figure 8: the server that committed the old-term entry loses it",
                 FIG8, variant="figure8", expect="violation", expect_property="committed_entries_immutable",
                 properties=("committed_entries_immutable",)),
        Scenario("figure8-bounds", "the correct protocol within the bounds of scenario figure8", FIG8, states=109433),
        Scenario("small-quorum", "quorums of one server: two leaders in one term", {
            "servers": 3, "max_term": 2, "max_log": 0, "max_messages": 1, "quorum": 1},
            expect="violation", expect_property="election_safety"),
        Scenario("after-gst", "after GST: no drops, timely timeouts; a leader is eventually elected",
                 {**SMALL, "drop": False, "timely": True}, states=15199,
                 properties=("election_safety", "log_matching", "leader_completeness", "state_machine_safety",
                             "leader_eventually")),
        Scenario("no-gst", "messages may be lost forever: an election may never complete", SMALL,
                 properties=("leader_eventually",), expect="liveness", expect_property="leader_eventually"),
    )

    #: the servers are interchangeable (TLC: SYMMETRY Permutations(Server)); used by --symmetry.
    #: With ``candidates`` only s1..sN time out, so ``setup`` narrows it to two classes.
    symmetry = ("Server",)
    participants = PARTICIPANTS

    def setup(self):
        n = self.servers
        self.Server = tuple(f"s{k + 1}" for k in range(n))
        if 0 < self.candidates < n:  # permutations that keep the would-be candidates among themselves
            self.Candidate, self.Voter = self.Server[:self.candidates], self.Server[self.candidates:]
            self.symmetry = ("Candidate", "Voter")
        self.index = {name: k for k, name in enumerate(self.Server)}
        self.server_classes = tuple(tuple(self.index[x] for x in getattr(self, c)) for c in self.symmetry)
        self.Value = tuple(range(1, self.values + 1))
        self.initial_next = (1,) * n
        self._messages = {}
        self.q = self.quorum or n // 2 + 1
        receive = ("UpdateTerm", "HandleRequestVoteRequest", "HandleRequestVoteResponse",
                   "HandleAppendEntriesRequest", "HandleAppendEntriesResponse", "DropStaleResponse")
        # Servers keep timing out and campaigning; delivery is fair only where nothing is dropped.
        self.fairness = (Fair("step", "Timeout", per="all"), Fair("step", "RequestVote"),
                         Fair("step", "BecomeLeader")) + (() if self.drop else tuple(Fair("step", n) for n in receive))
        self.message_actions = frozenset(receive + self.fault_actions)

    def quorum_system(self) -> dict:
        """The vote/commit quorums: any ``q`` of ``n`` servers (``kind`` majority unless overridden)."""
        return {"kind": "majority" if not self.quorum else "threshold", "n": self.servers, "q": self.q}

    #: the server actions each role can enable (the model tries only these)
    role_actions = {
        FOLLOWER: ("Restart", "Timeout"),
        CANDIDATE: ("Restart", "Timeout", "RequestVote", "BecomeLeader"),
        LEADER: ("Restart", "ClientRequest", "AdvanceCommitIndex", "AppendEntries"),
    }

    def role_of(self, s, server):
        return s.state[self.index[server]]

    fault_actions = ("DropMessage", "DuplicateMessage")  # the network's faults, from ``message_steps``

    def compile(self):
        return BagSpecModel(self)

    def done(self, s) -> bool:
        """A state where nothing is enabled is the edge of the bounds, not a deadlock."""
        return True

    def init(self):
        n = self.servers
        none = frozenset()
        yield RaftState((1,) * n, (FOLLOWER,) * n, (NIL,) * n, ((),) * n, (0,) * n, (none,) * n,
                        (none,) * n, ((1,) * n,) * n, ((0,) * n,) * n, frozenset(), 0, frozenset())

    # -- helpers -------------------------------------------------------------------
    def room(self, s) -> bool:
        """Whether the bag has room for one more new message."""
        return (len(s.messages) if self.max_copies == 1 else size(s.messages)) < self.max_messages

    def send(self, s, m):
        """The state with ``m`` sent, or None when ``m`` is already in flight (a resend is a duplicate)."""
        if copies(s.messages, m):
            return None
        return s._replace(messages=with_message(m, s.messages))

    def message(self, kind, *fields):
        """The message ``kind(*fields)``, built once: equal messages are then one object."""
        key = (kind, fields)
        m = self._messages.get(key)
        if m is None:
            m = self._messages[key] = kind(*fields)
        return m

    def applied(self, s, i, log, new_commit):
        """The ghost history after server ``i`` advances its commitIndex to ``new_commit``."""
        history = s.committed
        for index in range(s.commitIndex[i] + 1, min(new_commit, len(log)) + 1):
            term, value = log[index - 1]
            if not any(h[0] == index and h[1] == term and h[2] == value for h in history):
                history = history | {(index, term, value, s.currentTerm[i])}
        return history

    def retire(self, s, i):
        """Reset server ``i``'s candidate and leader variables to their initial values.

        They are dead outside their role: votes are read only by a candidate and
        reset by Timeout, nextIndex/matchIndex only by a leader and reset by
        BecomeLeader.  Resetting them when a server leaves the role merges states
        that differ only in dead values (a bisimulation, so no behaviour is lost).
        """
        if s.state[i] == FOLLOWER and not s.votesResponded[i] and s.nextIndex[i] == self.initial_next:
            return s
        n = self.servers
        return s._replace(votesResponded=replace_at(s.votesResponded, i, frozenset()),
                          votesGranted=replace_at(s.votesGranted, i, frozenset()),
                          nextIndex=replace_at(s.nextIndex, i, self.initial_next),
                          matchIndex=replace_at(s.matchIndex, i, (0,) * n))

    # -- server actions -----------------------------------------------------------
    @action(i="Server", by="i", fault=True)
    def Restart(self, s, i):
        """Server i restarts from stable storage: currentTerm, votedFor and log survive."""
        k = self.index[i]
        if s.restarts >= self.max_restarts:
            return None
        n = self.servers
        return s._replace(state=replace_at(s.state, k, FOLLOWER),
                          votesResponded=replace_at(s.votesResponded, k, frozenset()),
                          votesGranted=replace_at(s.votesGranted, k, frozenset()),
                          nextIndex=replace_at(s.nextIndex, k, (1,) * n),
                          matchIndex=replace_at(s.matchIndex, k, (0,) * n),
                          commitIndex=replace_at(s.commitIndex, k, 0), restarts=s.restarts + 1)

    @action(i="Server", by="i")
    def Timeout(self, s, i):
        """Server i times out and starts an election in the next term, voting for itself."""
        k = self.index[i]
        if s.state[k] == LEADER or s.currentTerm[k] >= self.max_term:
            return None
        if self.candidates and k >= self.candidates:
            return None
        if self.timely and CANDIDATE in s.state:
            return None
        me = frozenset({i})
        return s._replace(state=replace_at(s.state, k, CANDIDATE),
                          currentTerm=replace_at(s.currentTerm, k, s.currentTerm[k] + 1),
                          votedFor=replace_at(s.votedFor, k, i),
                          votesResponded=replace_at(s.votesResponded, k, me),
                          votesGranted=replace_at(s.votesGranted, k, me))

    @action(i="Server", j="Server", by="i")
    def RequestVote(self, s, i, j):
        """Candidate i asks j for its vote."""
        k = self.index[i]
        if s.state[k] != CANDIDATE or j in s.votesResponded[k] or not self.room(s):
            return None
        log = s.log[k]
        return self.send(s, self.message(RequestVoteRequest, s.currentTerm[k], last_term(log), len(log), i, j))

    @action(i="Server", by="i")
    def BecomeLeader(self, s, i):
        """Candidate i has votes from a quorum."""
        k = self.index[i]
        if s.state[k] != CANDIDATE or len(s.votesGranted[k]) < self.q:
            return None
        n = self.servers
        return s._replace(state=replace_at(s.state, k, LEADER),
                          votesResponded=replace_at(s.votesResponded, k, frozenset()),
                          votesGranted=replace_at(s.votesGranted, k, frozenset()),
                          nextIndex=replace_at(s.nextIndex, k, (len(s.log[k]) + 1,) * n),
                          matchIndex=replace_at(s.matchIndex, k, (0,) * n))

    @action(i="Server", v="Value", by="i")
    def ClientRequest(self, s, i, v):
        """Leader i appends a client's value to its log."""
        k = self.index[i]
        if s.state[k] != LEADER or len(s.log[k]) >= self.max_log:
            return None
        return s._replace(log=replace_at(s.log, k, s.log[k] + ((s.currentTerm[k], v),)))

    @action(i="Server", by="i")
    def AdvanceCommitIndex(self, s, i):
        """Leader i commits the longest prefix a quorum holds, if the entry ending it is of i's term."""
        k = self.index[i]
        if s.state[k] != LEADER:
            return None
        log, match = s.log[k], s.matchIndex[k]
        new = s.commitIndex[k]
        for index in range(len(log), 0, -1):
            if 1 + sum(1 for j in range(self.servers) if j != k and match[j] >= index) >= self.q:
                if self.variant == "figure8" or log[index - 1][0] == s.currentTerm[k]:
                    new = index
                break
        if new == s.commitIndex[k]:
            return None
        return s._replace(commitIndex=replace_at(s.commitIndex, k, new), committed=self.applied(s, k, log, new))

    @action(i="Server", j="Server", by="i")
    def AppendEntries(self, s, i, j):
        """Leader i sends j the entry at nextIndex[i][j] (or none) and its commit index."""
        k = self.index[i]
        if i == j or s.state[k] != LEADER or not self.room(s):
            return None
        log, nxt, jj = s.log[k], s.nextIndex[k][self.index[j]], self.index[j]
        if nxt > len(log) and s.matchIndex[k][jj] == len(log) and not s.commitIndex[k]:
            return None  # a heartbeat that can tell j nothing: j is known to match and nothing is committed
        prev = nxt - 1
        last = min(len(log), nxt)
        return self.send(s, self.message(AppendEntriesRequest, s.currentTerm[k], prev,
                                         log[prev - 1][0] if prev > 0 else 0, log[nxt - 1:last],
                                         min(s.commitIndex[k], last), i, j))

    # -- symmetry (for --symmetry; raft_symmetry.py says why the representative is exact) --
    def permute(self, s, mapping):
        """``s`` with every server ``x`` renamed ``mapping[x]``."""
        return raft_symmetry.permute(self, s, mapping)

    def canonical(self, s):
        """The orbit's representative: a signature sort, ties broken by the least image."""
        return raft_symmetry.canonical(self, s)

    # -- properties (Figure 3 of the Raft paper) --------------------------------------
    @always
    def election_safety(self, s):
        """At most one leader in each term."""
        terms = [t for t, st in zip(s.currentTerm, s.state) if st == LEADER]
        return len(terms) == len(set(terms))

    @always
    def log_matching(self, s):
        """Two logs with an entry of the same index and term are identical up to that index."""
        logs = s.log
        for a in range(len(logs)):
            for b in range(a + 1, len(logs)):
                x, y = logs[a], logs[b]
                for k in range(min(len(x), len(y)) - 1, -1, -1):
                    if x[k][0] == y[k][0]:
                        if x[:k + 1] != y[:k + 1]:
                            return False
                        break
        return True

    @always
    def leader_completeness(self, s):
        """An entry applied in some term is in the log of every leader of a later term."""
        for index, term, value, when in s.committed:
            for k, st in enumerate(s.state):
                if st == LEADER and s.currentTerm[k] > when:
                    log = s.log[k]
                    if len(log) < index or log[index - 1] != (term, value):
                        return False
        return True

    @always
    def state_machine_safety(self, s):
        """No two servers ever apply different entries at the same index."""
        seen = {}
        for index, term, value, _ in s.committed:
            if seen.setdefault(index, (term, value)) != (term, value):
                return False
        return True

    @always_step
    def committed_entries_immutable(self, before, act, after):
        """A server's log never changes at or below its commitIndex."""
        for k, c in enumerate(before.commitIndex):
            if c and after.log[k] is not before.log[k] and after.log[k][:c] != before.log[k][:c]:
                return False
        return True

    @eventually
    def leader_eventually(self, s):
        """Liveness: some server is eventually leader."""
        return LEADER in s.state

    @sometimes
    def leader_elected(self, s):
        """Some server becomes leader."""
        return LEADER in s.state

    @sometimes
    def entry_committed(self, s):
        """Some entry is committed."""
        return bool(s.committed)
