"""Practical Byzantine Fault Tolerance (Castro and Liskov, OSDI 1999): normal case and view change.

n replicas, f of them Byzantine; the primary of view v is replica v mod n.
Normal case: the primary pre-prepares a client request at sequence number n;
backups prepare; a replica that is *prepared* (the pre-prepare and q-1
matching prepares from distinct backups, q = 2f+1) multicasts commit, and
executes (replies) once *committed-local* (q matching commits).  The view
change (VIEW-CHANGE with prepared certificates, NEW-VIEW) is in
``pbft_view_change``.

Abstractions, all sound for safety:
- A global grow-only message set (TLA+'s ``msgs``): any message may be
  received at any time, any number of times, or never.  Signatures cannot be
  forged: a message names its sender and only that replica's actions add it.
- The client is implicit: requests ``req1..reqR`` exist from the start and
  their digests are their ids; a reply is the execution (``log``).  Correct
  replicas accept only client-signed requests in normal-case pre-prepares.
- Byzantine replicas have, from the start, "sent" every message of their
  universe (any view, number and digest, including a forged request):
  every guard is monotone in ``msgs``, so this covers every timing and every
  equivocation.  Their view-changes and new-views are built on demand from
  certificates that are valid in ``msgs``.  Nothing of theirs is stored.
- A replica's "prepared" event is its commit message; no checkpoints
  (garbage collection), so min-s = 0; ties in O (impossible with sound
  quorums) go to the smallest digest.
"""

from __future__ import annotations

import itertools
from typing import NamedTuple

from consensuslab.errors import UsageError
from consensuslab.models.fairness import Fair
from consensuslab.models.messages import Channel, Participants
from consensuslab.models.params import Param
from consensuslab.models.properties import always, always_step, eventually, sometimes
from consensuslab.models.records import message, record, replace_at
from consensuslab.models.scenario import Scenario
from consensuslab.models.spec import Spec, action
from consensuslab.protocols.pbft_view_change import NORMAL, NULL, NewView, ViewChange, ViewChangeMixin

FORGED = "forged"  # a request no client signed: only Byzantine replicas may use it


# -- messages (the sender is the signer) ----------------------------------------
@message
class PrePrepare:
    v: int
    n: int
    d: str  # sent by primary(v)


@message
class Prepare:
    v: int
    n: int
    d: str
    i: int


@message
class Commit:
    v: int
    n: int
    d: str
    i: int


# -- state --------------------------------------------------------------------
@record
class PBFTState(NamedTuple):
    view: tuple  # per replica
    status: tuple  # per replica: normal | view-change
    log: tuple  # per replica: executed request per sequence number ("" if none)
    msgs: frozenset  # every message a correct replica has sent


class PBFT(ViewChangeMixin, Spec):
    name = "pbft"
    summary = "PBFT (Castro-Liskov 1999): normal case and view change, Byzantine replicas"
    params = {
        "f": Param(1, "Byzantine replicas tolerated", min=1, max=2),
        "n": Param(0, "replicas (0: 3f+1, or 3f in the three-f variant)", min=0, max=7),
        "byzantine": Param(frozenset({0}), "the Byzantine replicas, e.g. -p byzantine=0,2 (empty: none)", of=int),
        "max_view": Param(1, "views are 0..max_view", min=0, max=3),
        "max_seq": Param(1, "sequence numbers are 1..max_seq", min=1, max=3),
        "requests": Param(2, "distinct client requests", min=1, max=3),
        "quorum": Param(0, "quorum size (0: 2f+1, or the variant's)", min=0, max=7),
    }
    variants = {
        "three-f": "n = 3f replicas with quorums of 2f: two quorums may share only a Byzantine replica",
        "weak-quorum": "a replica commits on f+1 matching commit messages instead of 2f+1",
    }
    check_deadlock = False  # bounded views and sequence numbers end every behaviour
    #: replicas r0..r(n-1); every message is multicast to all replicas, signed by its sender
    participants = Participants("R", per_node=("view", "status", "log"), label="r{}", channels=(
        Channel("msgs", receiver="R", routes={
            PrePrepare: (lambda self, m: self.primary(m.v), "R"), NewView: (lambda self, m: self.primary(m.v), "R"),
            Prepare: ("i", "R"), Commit: ("i", "R"), ViewChange: ("i", "R")}),),
        reads={"SendPrepare": lambda self, s, i, n, d: [self.PP[s.view[i], n, d]],
               "SendCommit": lambda self, s, i, n: self.votes_read(s, i, n, self.PREP),
               "Execute": lambda self, s, i, n: self.votes_read(s, i, n, self.COM),
               "SendNewView": lambda self, s, i, O: [m for m in s.msgs if type(m) is ViewChange and m.v == s.view[i]]})
    #: After GST every step of a correct replica that stays enabled is taken (each with its
    #: arguments): messages in ``msgs`` are acted on and view-change timers fire.  Nothing is owed
    #: by Byzantine replicas, nor is accepting a Byzantine new view (the adversary's choice).
    fairness = tuple(Fair("step", name) for name in (
        "SendPrePrepare", "SendPrepare", "SendCommit", "Execute", "StartViewChange", "SendNewView",
        "AcceptNewView"))

    def setup(self):
        self.N = self.n or (3 * self.f if self.variant == "three-f" else 3 * self.f + 1)
        self.q = self.quorum or (2 * self.f if self.variant == "three-f" else 2 * self.f + 1)
        self.commit_q = self.f + 1 if self.variant == "weak-quorum" else self.q
        self.R = tuple(range(self.N))
        self.byz = self.byzantine
        if not self.byz <= set(self.R) or len(self.byz) > self.f:
            shown = ",".join(map(str, sorted(self.byz)))
            raise UsageError(f"parameter byzantine={shown}: at most f={self.f} of replicas 0..{self.N - 1}")
        self.correct = tuple(i for i in self.R if i not in self.byz)
        self.VIEWS, self.SEQS = range(self.max_view + 1), range(1, self.max_seq + 1)
        self.REQUESTS = tuple(f"req{k + 1}" for k in range(self.requests))
        self.DIGESTS = self.REQUESTS + (NULL, FORGED)
        self.O_DOMAIN = [o for k in range(self.max_seq + 1) for o in itertools.product(self.DIGESTS, repeat=k)]
        self._nv_memo: dict = {}
        self._intern_messages()

    def _intern_messages(self):
        """Build every normal-case message once: guards then test membership without constructing."""
        keys = list(itertools.product(self.VIEWS, self.SEQS, self.DIGESTS))
        self.PRIMARY = tuple(self.primary(v) for v in self.VIEWS)
        self.PP = {(v, n, d): PrePrepare(v, n, d) for v, n, d in keys}
        self.PREP = {(v, n, d, i): Prepare(v, n, d, i) for v, n, d in keys for i in self.R}
        self.COM = {(v, n, d, i): Commit(v, n, d, i) for v, n, d in keys for i in self.R}
        # per (v, n, d): the correct backups' prepares and the correct replicas' commits, and
        # how many matching ones the Byzantine replicas always supply
        self.prep_of = {(v, n, d): tuple(self.PREP[v, n, d, j] for j in self.correct if j != self.PRIMARY[v])
                        for v, n, d in keys}
        self.byz_preps = {v: sum(1 for j in self.byz if j != self.PRIMARY[v]) for v in self.VIEWS}
        self.com_of = {(v, n, d): tuple(self.COM[v, n, d, j] for j in self.correct) for v, n, d in keys}
        self.my_preps = {(v, n, i): tuple(self.PREP[v, n, d, i] for d in self.DIGESTS)
                         for v in self.VIEWS for n in self.SEQS for i in self.R}
        self.pps_of_view = {v: tuple((n, self.PP[v, n, d]) for n in self.SEQS for d in self.DIGESTS)
                            for v in self.VIEWS}
        self.pps_of_seq = {(v, n): tuple(self.PP[v, n, d] for d in self.DIGESTS) for v in self.VIEWS for n in self.SEQS}
        self.my_coms = {(v, n, i): tuple(self.COM[v, n, d, i] for d in self.DIGESTS)
                        for v in self.VIEWS for n in self.SEQS for i in self.R}
        self.new_views = {v: tuple(NewView(v, O) for O in self.O_DOMAIN) for v in self.VIEWS}
        self.primaries = tuple(i for i in self.correct if i in self.PRIMARY)
        self.correct_new_views = tuple(v for v in self.VIEWS if v > 0 and self.PRIMARY[v] not in self.byz)
        self.byzantine_new_views = tuple(v for v in self.VIEWS if v > 0 and self.PRIMARY[v] in self.byz)

    def quorum_system(self) -> dict:
        return {"kind": "byzantine", "n": self.N, "f": self.f, "q": self.commit_q}

    def primary(self, v: int) -> int:
        return v % self.N

    def init(self):
        empty = ("",) * self.max_seq
        yield PBFTState((0,) * self.N, (NORMAL,) * self.N, (empty,) * self.N, frozenset())

    # -- what a replica can find in its log (Byzantine messages are always there) --------
    def pre_prepared(self, s, v, n, d) -> bool:
        return self.PRIMARY[v] in self.byz or self.PP[v, n, d] in s.msgs

    def prepares(self, s, v, n, d) -> int:
        msgs = s.msgs
        return self.byz_preps[v] + sum(1 for m in self.prep_of[v, n, d] if m in msgs)

    def commits(self, s, v, n, d) -> int:
        msgs = s.msgs
        return len(self.byz) + sum(1 for m in self.com_of[v, n, d] if m in msgs)

    def certified(self, s, v, n, d) -> bool:
        """A valid prepared certificate: the pre-prepare and q-1 matching prepares from backups."""
        return self.pre_prepared(s, v, n, d) and self.prepares(s, v, n, d) >= self.q - 1

    def votes_read(self, s, i, n, table) -> list:
        """The matching prepares (or commits) replica i counts for number n in its view (for charts)."""
        v, mine = s.view[i], self.pps_of_seq[s.view[i], n] + self.my_preps[s.view[i], n, i]
        d = next((m.d for m in mine if m in s.msgs), None)
        return [table[v, n, d, j] for j in self.R if d is not None and table[v, n, d, j] in s.msgs]

    # -- normal case --------------------------------------------------------------
    @action(i="primaries", d="REQUESTS", by="i")
    def SendPrePrepare(self, s, i, d):
        """The primary assigns the next sequence number of its view to a client request."""
        v = s.view[i]
        if self.PRIMARY[v] != i or s.status[i] != NORMAL:
            return None
        n = 1 + max((k for k, m in self.pps_of_view[v] if m in s.msgs), default=0)
        if n <= self.max_seq:
            return s._replace(msgs=s.msgs | {self.PP[v, n, d]})

    @action(i="correct", n="SEQS", d="REQUESTS", by="i")
    def SendPrepare(self, s, i, n, d):
        """A backup accepts the first pre-prepare for (v, n) of a client request and prepares it."""
        v = s.view[i]
        if (s.status[i] == NORMAL and self.PRIMARY[v] != i and self.pre_prepared(s, v, n, d)
                and not any(m in s.msgs for m in self.my_preps[v, n, i])):
            return s._replace(msgs=s.msgs | {self.PREP[v, n, d, i]})

    @action(i="correct", n="SEQS", by="i")
    def SendCommit(self, s, i, n):
        """prepared(m, v, n, i) holds for the request i pre-prepared or prepared: multicast commit."""
        v = s.view[i]
        if s.status[i] != NORMAL:
            return None
        mine = self.pps_of_seq[v, n] if self.PRIMARY[v] == i else self.my_preps[v, n, i]
        for m in mine:
            if m in s.msgs:
                commit = self.COM[v, n, m.d, i]
                if commit not in s.msgs and self.prepares(s, v, n, m.d) >= self.q - 1:
                    return s._replace(msgs=s.msgs | {commit})
                return None

    @action(i="correct", n="SEQS", by="i")
    def Execute(self, s, i, n):
        """committed-local(m, v, n, i) holds for the request i committed: execute it and reply."""
        v = s.view[i]
        if s.status[i] != NORMAL:
            return None
        for m in self.my_coms[v, n, i]:
            if m in s.msgs:
                if s.log[i][n - 1] != m.d and self.commits(s, v, n, m.d) >= self.commit_q:
                    return s._replace(log=replace_at(s.log, i, replace_at(s.log[i], n - 1, m.d)))
                return None

    # -- properties ------------------------------------------------------------------
    @always
    def agreement(self, s):
        """No two correct replicas execute different requests at the same sequence number."""
        return all(len({s.log[i][k] for i in self.correct} - {""}) <= 1 for k in range(self.max_seq))

    @always
    def validity(self, s):
        """Correct replicas execute only client requests (or the new view's null request)."""
        return all(d in ("", NULL) or d in self.REQUESTS for i in self.correct for d in s.log[i])

    @always_step
    def committed_stable(self, before, action, after):
        """A correct replica's executed entry never changes."""
        return all(a == "" or a == b for i in self.correct for a, b in zip(before.log[i], after.log[i]))

    @sometimes
    def request_committed(self, s):
        """A correct replica executes a client request."""
        return any(d in self.REQUESTS for i in self.correct for d in s.log[i])

    @sometimes
    def new_view_prepared(self, s):
        """After a view change a correct replica becomes prepared in the new view."""
        return any(type(m) is Commit and m.v > 0 for m in s.msgs)

    @eventually
    def request_eventually_committed(self, s):
        """After GST every correct replica executes a client request (after a view change if needed)."""
        return all(any(d in self.REQUESTS for d in s.log[i]) for i in self.correct)

    scenarios = (
        Scenario("default", "f=1, n=4, Byzantine primary of view 0, one view change",
                 {"f": 1, "byzantine": "0"}, deadlock=False, states=25768),
        Scenario("byzantine-new-primary", "the Byzantine replica is the primary of view 1",
                 {"f": 1, "byzantine": "1"}, deadlock=False, states=21816),
        Scenario("after-gst", "a Byzantine backup; after GST a client request is committed",
                 {"f": 1, "byzantine": "3"}, deadlock=False, states=11808,
                 properties=("agreement", "validity", "committed_stable", "request_committed",
                             "new_view_prepared", "request_eventually_committed")),
        Scenario("three-f", "n=3f: a Byzantine primary equivocates to two disjoint-but-one quorums",
                 {"f": 1, "byzantine": "0"}, variant="three-f", deadlock=False,
                 expect="violation", expect_property="agreement"),
        Scenario("weak-quorum", "commit on f+1 commits: the view change loses a committed request",
                 {"f": 1, "byzantine": "1"}, variant="weak-quorum", deadlock=False,
                 properties=("agreement", "validity", "request_committed", "new_view_prepared"),
                 expect="violation", expect_property="agreement"),
    )


__all__ = ["PBFT", "PrePrepare", "Prepare", "Commit", "ViewChange", "NewView", "PBFTState"]
