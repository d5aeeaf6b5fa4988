"""Paxos Commit (Gray and Lamport), transcribed from the TLA+ Examples.

Source: ``specifications/transaction_commit/PaxosCommit.tla`` and its model
``PaxosCommit.cfg`` in the TLA+ Examples repository (github tlaplus/Examples).

Each resource manager (RM) runs one instance of Paxos to decide "prepared" or
"aborted"; the acceptors keep, per instance, ``mbal`` (highest ballot joined),
``bal`` and ``val`` (latest vote).  Ballot 0 is started by the RM itself (its
phase-2a message), higher ballots by a leader.  Every message ever sent stays
in ``msgs``.  Variables, actions and their parameters are those of the spec:

- ``RMPrepare(rm)``, ``RMChooseToAbort(rm)``, ``RMRcvCommitMsg(rm)``,
  ``RMRcvAbortMsg(rm)``;
- ``Phase1a(bal, rm)`` and ``Phase2a(bal, rm)`` for ``bal`` in ``Ballot \\ {0}``;
  the spec's ``\\E MS \\in Majority`` inside ``Phase2a`` is the argument ``MS``
  (different majorities may give different values);
- ``Decide``: the spec's one action with two disjuncts (send Commit, send
  Abort), an action that yields a next state per disjunct, labelled
  ``Decide(Commit)`` and ``Decide(Abort)`` (``branches=`` declares the labels,
  so both are rows of the action table and the compiled engine runs them);
- ``Phase1b(acc)`` and ``Phase2b(acc)``: the spec's ``\\E m \\in msgs`` is the
  argument ``m``, ranging over every phase-1a (resp. phase-2a) message of the
  message universe, with the guard ``m in msgs``.

``Phase2a`` takes ``(CHOOSE m \\in mset : m.bal = maxbal).val``.  All phase-1b
messages of one instance with the same ``bal`` carry the same value (at most
one phase-2a message per instance and ballot), so any choice gives TLC's.

Constants (``PaxosCommit.cfg``): ``RM = {r1, r2}``, ``Acceptor = {a1, a2, a3}``,
``Majority`` = the three 2-subsets, ``Ballot = {0, 1}``: parameters ``rm=2``,
``acceptors=3``, ``ballots=2`` (majorities are all subsets of size
``acceptors // 2 + 1``).  The cfg checks the invariant ``PCTypeOK``; TLC also
checks deadlock (there is none: ``Phase1a`` is always enabled).

Distinct states: TLC 1,321,761 (manifest, PaxosCommit.cfg); ours 1,321,761.
Small configuration ``rm=1`` (one RM, same acceptors and ballots): TLC 1,461
(TLC 2.15 run on PaxosCommit.tla with RM = {r1}); ours 1,461.

Not in the cfg but added: ``TCConsistent`` (TCommit.tla's invariant; the spec
states ``THEOREM PCSpec => TC!TCSpec``).  It reads only ``rmState`` and cannot
change the count.  Variant ``commit-on-one``: ``Decide`` sends Commit once
*some* RM's instance has decided "prepared" instead of every RM's; the checker
finds an RM committing while another aborts.
"""

from __future__ import annotations

from itertools import combinations
from typing import NamedTuple

from consensuslab import Param, Scenario, Spec, action, always, message, record, replace_at, sometimes


@message
class Phase1aMsg:
    ins: str
    bal: int


@message
class Phase1bMsg:
    ins: str
    mbal: int
    bal: int
    val: str
    acc: str


@message
class Phase2aMsg:
    ins: str
    bal: int
    val: str


@message
class Phase2bMsg:
    acc: str
    ins: str
    bal: int
    val: str


@message
class Commit:
    pass


@message
class Abort:
    pass


@record
class AccState(NamedTuple):
    mbal: int
    bal: int
    val: str


@record
class PCState(NamedTuple):
    rmState: tuple  # rmState[i]: state of RM i
    aState: tuple  # aState[i][j]: AccState of acceptor j in the instance of RM i
    msgs: frozenset


RM_STATES = ("working", "prepared", "committed", "aborted")


class PaxosCommit(Spec):
    name = "paxos-commit"
    summary = "Paxos Commit, PaxosCommit.tla (TLA+ Examples)"
    params = {
        "rm": Param(2, "number of resource managers", min=1, max=4),
        "acceptors": Param(3, "number of acceptors", min=1, max=5),
        "ballots": Param(2, "ballots are 0..ballots-1", min=1, max=4),
    }
    variants = {"commit-on-one": "Decide commits once some RM (not every RM) has decided prepared"}
    scenarios = (
        Scenario("small", "one RM, 3 acceptors, ballots 0..1 (TLC: 1,461)", {"rm": 1}, states=1461),
        Scenario("cfg", "PaxosCommit.cfg: 2 RMs, 3 acceptors, ballots 0..1 (TLC: 1,321,761)",
                 {"rm": 2}, states=1321761),
        Scenario("commit-on-one", "Decide commits too early", {"rm": 2, "acceptors": 1, "ballots": 1},
                 variant="commit-on-one", expect="violation", expect_property="TCConsistent"),
    )

    def setup(self):
        self.RM = tuple(f"r{i + 1}" for i in range(self.rm))
        self.Acceptor = tuple(f"a{i + 1}" for i in range(self.acceptors))
        self.Ballot = tuple(range(self.ballots))
        self.HigherBallot = tuple(b for b in self.Ballot if b != 0)
        size = self.acceptors // 2 + 1
        self.Majority = tuple(frozenset(c) for c in combinations(self.Acceptor, size))
        self.rm_index = {r: i for i, r in enumerate(self.RM)}
        self.acc_index = {a: j for j, a in enumerate(self.Acceptor)}
        # the universes the spec's \E m \in msgs range over
        self.phase1a_msgs = tuple(Phase1aMsg(r, b) for r in self.RM for b in self.HigherBallot)
        self.phase2a_msgs = tuple(Phase2aMsg(r, b, v) for r in self.RM for b in self.Ballot
                                  for v in ("prepared", "aborted"))

    def init(self):
        fresh = AccState(0, -1, "none")
        yield PCState(("working",) * self.rm, ((fresh,) * self.acceptors,) * self.rm, frozenset())

    # -- the resource managers -------------------------------------------------------
    @action(rm="RM")
    def RMPrepare(self, s, rm):
        i = self.rm_index[rm]
        if s.rmState[i] == "working":
            return s._replace(rmState=replace_at(s.rmState, i, "prepared"),
                              msgs=s.msgs | {Phase2aMsg(rm, 0, "prepared")})

    @action(rm="RM")
    def RMChooseToAbort(self, s, rm):
        i = self.rm_index[rm]
        if s.rmState[i] == "working":
            return s._replace(rmState=replace_at(s.rmState, i, "aborted"),
                              msgs=s.msgs | {Phase2aMsg(rm, 0, "aborted")})

    @action(rm="RM")
    def RMRcvCommitMsg(self, s, rm):
        if Commit() in s.msgs:
            return s._replace(rmState=replace_at(s.rmState, self.rm_index[rm], "committed"))

    @action(rm="RM")
    def RMRcvAbortMsg(self, s, rm):
        if Abort() in s.msgs:
            return s._replace(rmState=replace_at(s.rmState, self.rm_index[rm], "aborted"))

    # -- the leaders ---------------------------------------------------------------------
    @action(bal="HigherBallot", rm="RM")
    def Phase1a(self, s, bal, rm):
        return s._replace(msgs=s.msgs | {Phase1aMsg(rm, bal)})

    @action(bal="HigherBallot", rm="RM", MS="Majority")
    def Phase2a(self, s, bal, rm, MS):
        for m in s.msgs:
            if isinstance(m, Phase2aMsg) and m.bal == bal and m.ins == rm:
                return None
        mset = [m for m in s.msgs
                if isinstance(m, Phase1bMsg) and m.ins == rm and m.mbal == bal and m.acc in MS]
        if {m.acc for m in mset} != MS:
            return None
        maxbal = max(m.bal for m in mset)
        if maxbal == -1:
            val = "aborted"
        else:
            val = min(m.val for m in mset if m.bal == maxbal)
        return s._replace(msgs=s.msgs | {Phase2aMsg(rm, bal, val)})

    def decided(self, s, rm, v):
        for b in self.Ballot:
            for MS in self.Majority:
                if all(Phase2bMsg(ac, rm, b, v) in s.msgs for ac in MS):
                    return True
        return False

    @action(branches=("Commit", "Abort"))
    def Decide(self, s):
        if self.variant == "commit-on-one":
            ready = any(self.decided(s, rm, "prepared") for rm in self.RM)
        else:
            ready = all(self.decided(s, rm, "prepared") for rm in self.RM)
        if ready:  # \/ /\ \A rm \in RM : Decided(rm, "prepared") /\ Send([type |-> "Commit"])
            yield "Commit", s._replace(msgs=s.msgs | {Commit()})
        if any(self.decided(s, rm, "aborted") for rm in self.RM):  # \/ /\ \E rm : Decided(rm, "aborted") ...
            yield "Abort", s._replace(msgs=s.msgs | {Abort()})

    # -- the acceptors -------------------------------------------------------------------
    @action(acc="Acceptor", m="phase1a_msgs")
    def Phase1b(self, s, acc, m):
        if m not in s.msgs:
            return None
        i, j = self.rm_index[m.ins], self.acc_index[acc]
        mine = s.aState[i][j]
        if mine.mbal < m.bal:
            row = replace_at(s.aState[i], j, mine._replace(mbal=m.bal))
            reply = Phase1bMsg(m.ins, m.bal, mine.bal, mine.val, acc)
            return s._replace(aState=replace_at(s.aState, i, row), msgs=s.msgs | {reply})

    @action(acc="Acceptor", m="phase2a_msgs")
    def Phase2b(self, s, acc, m):
        if m not in s.msgs:
            return None
        i, j = self.rm_index[m.ins], self.acc_index[acc]
        if s.aState[i][j].mbal <= m.bal:
            row = replace_at(s.aState[i], j, AccState(m.bal, m.bal, m.val))
            vote = Phase2bMsg(acc, m.ins, m.bal, m.val)
            return s._replace(aState=replace_at(s.aState, i, row), msgs=s.msgs | {vote})

    # -- properties ----------------------------------------------------------------------
    def is_message(self, m):
        acc, rms, ballots = self.Acceptor, self.RM, self.Ballot
        if isinstance(m, Phase1aMsg):
            return m.ins in rms and m.bal in self.HigherBallot
        if isinstance(m, Phase1bMsg):
            return (m.ins in rms and m.mbal in ballots and (m.bal in ballots or m.bal == -1)
                    and m.val in ("prepared", "aborted", "none") and m.acc in acc)
        if isinstance(m, Phase2aMsg):
            return m.ins in rms and m.bal in ballots and m.val in ("prepared", "aborted")
        if isinstance(m, Phase2bMsg):
            return m.acc in acc and m.ins in rms and m.bal in ballots and m.val in ("prepared", "aborted")
        return isinstance(m, (Commit, Abort))

    @always
    def PCTypeOK(self, s):
        if len(s.rmState) != self.rm or any(x not in RM_STATES for x in s.rmState):
            return False
        if len(s.aState) != self.rm:
            return False
        for row in s.aState:
            if len(row) != self.acceptors:
                return False
            for a in row:
                if not (a.mbal in self.Ballot and (a.bal in self.Ballot or a.bal == -1)
                        and a.val in ("prepared", "aborted", "none")):
                    return False
        return all(self.is_message(m) for m in s.msgs)

    @always
    def TCConsistent(self, s):
        """TCommit.tla: no RM has committed while another has aborted."""
        return not ("committed" in s.rmState and "aborted" in s.rmState)

    @sometimes
    def some_commit(self, s):
        return "committed" in s.rmState
