"""MultiPaxos in state machine replication style (Guanzhou Hu), transcribed from the TLA+ Examples.

Source: ``specifications/MultiPaxos-SMR/MultiPaxos.tla`` (the TLA+ translation
of its PlusCal algorithm) with ``MultiPaxos_MC.tla`` (``TypeOK``,
``Linearizability``, ``SymmetricPerms``, ``ConstMaxBallot``) and the model
``MultiPaxos_MC_small.cfg`` in the TLA+ Examples repository (github
tlaplus/Examples).

Replicas replicate a log of client commands on one key: writes (each write's
value is its own name) and reads.  A replica becomes leader with a fresh
ballot (``Prepare``), gathers a majority of ``PrepareReply`` votes and adopts,
per slot, the command voted with the highest ballot, then proposes the pending
commands in the next empty slots (``Accept``), commits a slot on a majority of
``AcceptReply`` and acknowledges the client, and tells the followers
(``CommitNotice``).  Every message ever sent stays in ``msgs``; ``pending`` is
the sequence of requests not yet answered and ``observed`` the client's
sequence of request and acknowledgement events.

Variables as in the translation: ``msgs`` (a frozenset of ``Prepare``,
``PrepareReply``, ``Accept``, ``AcceptReply`` and ``CommitNotice`` records, the
TLA+ records' ``type`` field being the record's class), ``node`` (a tuple
indexed like ``Replicas`` of ``NodeState`` records; ``insts`` a tuple indexed by
slot - 1 of ``Inst`` records, ``voted`` a ``Voted`` record), ``pending`` (a tuple
of commands), ``observed`` (a tuple of ``ReqEvent`` / ``AckEvent`` records),
``pc`` (a tuple indexed like ``Replicas``: ``"rloop"`` or ``"Done"``).

The translation has one action per process, ``rloop(self) == pc[self] =
"rloop" /\\ IF ~terminated THEN <seven disjuncts, one per macro of the
either> ELSE pc' = [pc EXCEPT ![self] = "Done"]``, and ``Terminating``.  Here
each disjunct is an action named after its PlusCal macro, the replica ``r``
(``self``) an argument and every one guarded by ``pc[r] = "rloop" /\\
~terminated``; the ``\\E`` of each disjunct is an argument:

- ``BecomeLeader(r, b)``: ``\\E b \\in Ballots``;
- ``HandlePrepare(r, m)``, ``HandleAccept(r, m)``, ``HandleCommitNotice(r, m)``:
  ``\\E m \\in msgs`` with the spec's ``m.type = ...`` as the domain's filter
  (``m=lambda self, s: [m for m in s.msgs if type(m) is Prepare]``);
- ``HandlePrepareReplies(r)``, ``TakeNewRequest(r)``, ``HandleAcceptReplies(r)``:
  their ``with x = e`` are ``LET``s, no choice;
- ``ExitLoop(r)``: the ``ELSE`` branch (``pc[r] := "Done"`` once terminated);
- ``Terminating``: the translation's stuttering step once every replica is
  ``Done`` (it keeps TLC, and us, from reporting a deadlock).

``PeakVotedCmd(prs, s)`` is the command of a vote with the highest ballot; the
spec takes it with ``CHOOSE``, and votes that tie on a ballot carry the same
command (one leader per ballot, one Accept per slot and ballot), so the
choice does not matter.  ``InitPending`` (a ``CHOOSE`` of the writes then the
reads) is the writes then the reads in their declared order.  ``ReqPosOfCmd``,
``AckPosOfCmd`` (``CHOOSE i \\in 1..Len(observed)``) are the first position, as
TLC's ``CHOOSE`` over an interval picks the least.

Constants (``MultiPaxos_MC_small.cfg``): ``Replicas = {s1, s2, s3}``, ``Writes
= {w1}``, ``Reads = {r1}``, ``MaxBallot <- ConstMaxBallot`` (2); parameters
``replicas``, ``writes``, ``reads``, ``max_ballot``.  Invariants ``TypeOK`` and
``Linearizability``; ``CHECK_DEADLOCK TRUE`` (there is none); ``SYMMETRY
SymmetricPerms``, which for this cfg is ``Permutations(Replicas)`` alone (the
permutations of a one-element set are left out by ``ConditionalPerm``):
``symmetry = ("Replicas",)`` and ``permute`` below, for ``--symmetry``.
(``MultiPaxos_MC.cfg``, two writes, also permutes the writes; TLC applies the
union of the two permutation sets, not the group they generate, and the
manifest records no count for it: not a scenario here.)

Distinct states: TLC 343,796 under the cfg's symmetry (manifest,
MultiPaxos_MC_small.cfg); ours with ``--symmetry`` 343,796 (``consensuslab
check benchmarks/specs/multipaxos.py --scenario small --symmetry``).  Without
the symmetry (no TLC figure): ours 2,062,561 (depth 27; TLC's ``stateDepth``
28 counts the initial state as 1).  Scenario ``tiny`` (one write, no read):
ours 15,709, and 2,628 with ``--symmetry`` (no TLC run to compare with; the
first is pinned as ours).

Added, not in the cfg: ``all_done`` (``@sometimes``: every replica reaches
``Done``, so ``Linearizability`` is not vacuous).

Variant ``own-votes-only``: a new leader ends phase 1 with the commands of its
own votes only, ignoring what the other replicas of the quorum reported (a
leader that trusts its own log).  After ``w1`` is committed by another leader,
a replica that never saw it takes the slot for ``r1``, which reads the initial
value ``nil`` although ``w1`` was acknowledged before ``r1`` was requested:
``Linearizability`` fails.  Variant ``half-quorum``: ``MajorityNum`` computed
as ``Cardinality(Replicas) \\div 2`` (an off-by-one); with two replicas one
reply is a quorum, and a second leader that never heard of the committed
``w1`` commits ``r1`` alone, reading ``nil``.
"""

from __future__ import annotations

from itertools import product
from typing import NamedTuple

from consensuslab import Param, Scenario, Spec, action, always, message, record, replace_at, sometimes

NIL, NONE = "nil", "none"
EMPTY, PREPARING, ACCEPTING, COMMITTED = "Empty", "Preparing", "Accepting", "Committed"
STATUSES = (PREPARING, ACCEPTING, COMMITTED)


# -- server-side records ---------------------------------------------------------------------------
@record
class Voted(NamedTuple):
    bal: int  # 0: no vote
    cmd: str  # a command, or NIL


@record
class Inst(NamedTuple):
    status: str  # EMPTY or one of STATUSES
    cmd: str  # a command, or NIL
    voted: Voted


@record
class NodeState(NamedTuple):
    leader: str  # a replica, or NONE
    kvalue: str  # a write, or NIL
    commitUpTo: int
    balPrepared: int
    balMaxKnown: int
    insts: tuple  # insts[s - 1]: the Inst of slot s


# -- client-observable events ------------------------------------------------------------------------
@record
class ReqEvent(NamedTuple):
    cmd: str


@record
class AckEvent(NamedTuple):
    cmd: str
    val: str  # the old value for a write command


# -- service-internal messages -------------------------------------------------------------------------
@message
class Prepare:
    src: str
    bal: int


@message
class PrepareReply:
    src: str
    bal: int
    votes: tuple  # votes[s - 1]: the Voted of slot s


@message
class Accept:
    src: str
    bal: int
    slot: int
    cmd: str


@message
class AcceptReply:
    src: str
    bal: int
    slot: int


@message
class CommitNotice:
    upto: int


@record
class MultiPaxosState(NamedTuple):
    msgs: frozenset  # messages in the network
    node: tuple  # node[k]: NodeState of Replicas[k]
    pending: tuple  # sequence of pending requests
    observed: tuple  # client observed events
    pc: tuple  # pc[k]: "rloop" or "Done", of Replicas[k]


class MultiPaxos(Spec):
    name = "multipaxos"
    summary = "MultiPaxos in SMR style with write/read commands, MultiPaxos-SMR/MultiPaxos.tla (TLA+ Examples)"
    params = {
        "replicas": Param(3, "number of replicas", min=1, max=5),
        "writes": Param(1, "number of write commands", min=1, max=3),
        "reads": Param(1, "number of read commands", min=0, max=3),
        "max_ballot": Param(2, "MaxBallot: ballots are 1..max_ballot", min=2, max=4),
    }
    variants = {"own-votes-only": "a new leader adopts only the commands of its own votes, not the quorum's",
                "half-quorum": "MajorityNum is Cardinality(Replicas) \\div 2, without the + 1"}
    scenarios = (
        Scenario("small", "MultiPaxos_MC_small.cfg: 3 replicas, 1 write, 1 read, MaxBallot 2 "
                          "(with --symmetry: TLC's 343,796)", {}),
        Scenario("tiny", "3 replicas, 1 write, no read, MaxBallot 2 (ours: 15,709; no TLC run)",
                 {"reads": 0}, states=15709),
        Scenario("own-votes-only", "a read misses a committed write", {}, variant="own-votes-only",
                 expect="violation", expect_property="Linearizability"),
        Scenario("half-quorum", "two replicas, quorums of one", {"replicas": 2}, variant="half-quorum",
                 expect="violation", expect_property="Linearizability"),
    )

    #: TLC's SYMMETRY SymmetricPerms: Permutations(Replicas) (Writes and Reads have one element each)
    symmetry = ("Replicas",)

    def setup(self):
        self.Replicas = tuple(f"s{k + 1}" for k in range(self.replicas))
        self.Writes = tuple(f"w{k + 1}" for k in range(self.writes))
        self.Reads = tuple(f"r{k + 1}" for k in range(self.reads))
        self.Commands = self.Writes + self.Reads
        self.NumCommands = len(self.Commands)
        self.MajorityNum = self.replicas // 2 + (0 if self.variant == "half-quorum" else 1)
        self.Ballots = tuple(range(1, self.max_ballot + 1))
        self.Slots = tuple(range(1, self.NumCommands + 1))
        self.index = {r: k for k, r in enumerate(self.Replicas)}
        self.NullInst = Inst(EMPTY, NIL, Voted(0, NIL))
        self.NullNode = NodeState(NONE, NIL, 0, 0, 0, (self.NullInst,) * self.NumCommands)
        self.InitPending = self.Writes + self.Reads

    def init(self):
        n = self.replicas
        yield MultiPaxosState(msgs=frozenset(), node=(self.NullNode,) * n, pending=self.InitPending,
                              observed=(), pc=("rloop",) * n)

    # -- operators of the module and its define block ------------------------------------------------
    @staticmethod
    def VotesByNode(n):
        return tuple(inst.voted for inst in n.insts)

    def PeakVotedCmd(self, prs, s):
        votes = [pr.votes[s - 1] for pr in prs]
        if all(v.bal == 0 for v in votes):
            return NIL
        top = max(v.bal for v in votes)
        return min(v.cmd for v in votes if v.bal == top)  # CHOOSE: the votes of one ballot agree

    @staticmethod
    def FirstEmptySlot(insts):
        for k, inst in enumerate(insts):
            if inst.status == EMPTY:
                return k + 1

    def UnseenPending(self, s, insts):
        seen = {inst.cmd for inst in insts}
        return tuple(c for c in s.pending if c not in seen)

    @staticmethod
    def RemovePending(s, cmd):
        return tuple(c for c in s.pending if c != cmd)

    @staticmethod
    def reqsMade(s):
        return {e.cmd for e in s.observed if type(e) is ReqEvent}

    @staticmethod
    def acksRecv(s):
        return {e.cmd for e in s.observed if type(e) is AckEvent}

    def terminated(self, s):
        return (len(s.pending) == 0 and len(self.reqsMade(s)) == self.NumCommands
                and len(self.acksRecv(s)) == self.NumCommands)

    @staticmethod
    def Observe(s, e):
        return s.observed if e in s.observed else s.observed + (e,)

    @staticmethod
    def reset_accepting(insts):
        """[s \\in Slots |-> [insts[s] EXCEPT !.status = IF @ = "Accepting" THEN "Preparing" ELSE @]]"""
        return tuple(inst._replace(status=PREPARING) if inst.status == ACCEPTING else inst for inst in insts)

    def looping(self, s, r):
        """pc[self] = "rloop" /\\ ~terminated: the guard of every disjunct of rloop(self)."""
        return s.pc[self.index[r]] == "rloop" and not self.terminated(s)

    def set_node(self, s, r, n):
        return replace_at(s.node, self.index[r], n)

    # -- process Replica \in Replicas: rloop(self), one action per macro of its either -----------------
    @action(r="Replicas", b="Ballots", by="r", unchanged=("pending", "observed", "pc"))
    def BecomeLeader(self, s, r, b):
        n = s.node[self.index[r]]
        if not self.looping(s, r) or n.leader == r:
            return None
        if not b > n.balMaxKnown or any(type(m) is Prepare and m.bal == b for m in s.msgs):
            return None
        n2 = n._replace(leader=r, balPrepared=0, balMaxKnown=b, insts=self.reset_accepting(n.insts))
        return s._replace(node=self.set_node(s, r, n2),
                          msgs=s.msgs | {Prepare(r, b), PrepareReply(r, b, self.VotesByNode(n2))})

    @action(r="Replicas", m=lambda self, s: [m for m in s.msgs if type(m) is Prepare], by="r",
            unchanged=("pending", "observed", "pc"))
    def HandlePrepare(self, s, r, m):
        n = s.node[self.index[r]]
        if self.looping(s, r) and m.bal > n.balMaxKnown:
            n2 = n._replace(leader=m.src, balMaxKnown=m.bal, insts=self.reset_accepting(n.insts))
            return s._replace(node=self.set_node(s, r, n2),
                              msgs=s.msgs | {PrepareReply(r, m.bal, self.VotesByNode(n2))})

    @action(r="Replicas", by="r", unchanged=("pending", "observed", "pc"))
    def HandlePrepareReplies(self, s, r):
        n = s.node[self.index[r]]
        if not self.looping(s, r) or n.leader != r or n.balPrepared != 0:
            return None
        prs = [m for m in s.msgs if type(m) is PrepareReply and m.bal == n.balMaxKnown]
        if len(prs) < self.MajorityNum:
            return None
        if self.variant == "own-votes-only":  # the bug: the others' votes are not looked at
            prs = [m for m in prs if m.src == r]
        insts = []
        for slot, inst in zip(self.Slots, n.insts):
            peak = self.PeakVotedCmd(prs, slot)
            if inst.status == PREPARING or (inst.status == EMPTY and peak != NIL):
                status = ACCEPTING
            else:
                status = inst.status
            insts.append(inst._replace(status=status, cmd=peak))
        n2 = n._replace(balPrepared=n.balMaxKnown, insts=tuple(insts))
        accepts = {Accept(r, n2.balPrepared, slot, inst.cmd)
                   for slot, inst in zip(self.Slots, n2.insts) if inst.status == ACCEPTING}
        return s._replace(node=self.set_node(s, r, n2), msgs=s.msgs | accepts)

    @action(r="Replicas", by="r", unchanged=("pending", "pc"))
    def TakeNewRequest(self, s, r):
        n = s.node[self.index[r]]
        if not self.looping(s, r) or n.leader != r or n.balPrepared != n.balMaxKnown:
            return None
        if not any(inst.status == EMPTY for inst in n.insts):
            return None
        unseen = self.UnseenPending(s, n.insts)
        if len(unseen) == 0:
            return None
        slot, c = self.FirstEmptySlot(n.insts), unseen[0]
        inst = Inst(ACCEPTING, c, Voted(n.balPrepared, c))
        n2 = n._replace(insts=replace_at(n.insts, slot - 1, inst))
        return s._replace(node=self.set_node(s, r, n2),
                          msgs=s.msgs | {Accept(r, n2.balPrepared, slot, c), AcceptReply(r, n2.balPrepared, slot)},
                          observed=self.Observe(s, ReqEvent(c)))

    @action(r="Replicas", m=lambda self, s: [m for m in s.msgs if type(m) is Accept], by="r",
            unchanged=("pending", "observed", "pc"))
    def HandleAccept(self, s, r, m):
        n = s.node[self.index[r]]
        if self.looping(s, r) and m.bal >= n.balMaxKnown and m.bal > n.insts[m.slot - 1].voted.bal:
            inst = Inst(ACCEPTING, m.cmd, Voted(m.bal, m.cmd))
            n2 = n._replace(leader=m.src, balMaxKnown=m.bal, insts=replace_at(n.insts, m.slot - 1, inst))
            return s._replace(node=self.set_node(s, r, n2), msgs=s.msgs | {AcceptReply(r, m.bal, m.slot)})

    @action(r="Replicas", by="r", unchanged=("pc",))
    def HandleAcceptReplies(self, s, r):
        n = s.node[self.index[r]]
        if not self.looping(s, r) or n.leader != r or n.balPrepared != n.balMaxKnown:
            return None
        if not (n.commitUpTo < self.NumCommands and n.insts[n.commitUpTo].status == ACCEPTING):
            return None
        slot = n.commitUpTo + 1
        c = n.insts[slot - 1].cmd
        v = n.kvalue
        ars = [m for m in s.msgs if type(m) is AcceptReply and m.slot == slot and m.bal == n.balPrepared]
        if len(ars) < self.MajorityNum:
            return None
        n2 = n._replace(insts=replace_at(n.insts, slot - 1, n.insts[slot - 1]._replace(status=COMMITTED)),
                        commitUpTo=slot, kvalue=c if c in self.Writes else n.kvalue)
        return s._replace(node=self.set_node(s, r, n2), observed=self.Observe(s, AckEvent(c, v)),
                          pending=self.RemovePending(s, c), msgs=s.msgs | {CommitNotice(slot)})

    @action(r="Replicas", m=lambda self, s: [m for m in s.msgs if type(m) is CommitNotice], by="r",
            unchanged=("msgs", "pending", "observed", "pc"))
    def HandleCommitNotice(self, s, r, m):
        n = s.node[self.index[r]]
        if not self.looping(s, r) or n.leader == r:
            return None
        if not (n.commitUpTo < self.NumCommands and n.insts[n.commitUpTo].status == ACCEPTING):
            return None
        slot = n.commitUpTo + 1
        c = n.insts[slot - 1].cmd
        if m.upto == slot:
            n2 = n._replace(insts=replace_at(n.insts, slot - 1, n.insts[slot - 1]._replace(status=COMMITTED)),
                            commitUpTo=slot, kvalue=c if c in self.Writes else n.kvalue)
            return s._replace(node=self.set_node(s, r, n2))

    @action(r="Replicas", by="r", unchanged=("msgs", "node", "pending", "observed"))
    def ExitLoop(self, s, r):
        """The ELSE of rloop(self): once terminated, pc[self] := "Done"."""
        k = self.index[r]
        if s.pc[k] == "rloop" and self.terminated(s):
            return s._replace(pc=replace_at(s.pc, k, "Done"))

    @action
    def Terminating(self, s):
        """Allow infinite stuttering to prevent deadlock on termination."""
        if all(label == "Done" for label in s.pc):
            return s

    # -- TypeOK (MultiPaxos_MC.tla) ------------------------------------------------------------------
    def is_voted(self, v):
        return (type(v) is Voted and (v.bal == 0 or v.bal in self.Ballots)
                and (v.cmd == NIL or v.cmd in self.Commands))

    def is_message(self, m):
        """m \\in Messages."""
        kind = type(m)
        if kind is CommitNotice:
            return m.upto in self.Slots
        if m.src not in self.Replicas or m.bal not in self.Ballots:
            return False
        if kind is Prepare:
            return True
        if kind is PrepareReply:
            return len(m.votes) == self.NumCommands and all(self.is_voted(v) for v in m.votes)
        if kind is Accept:
            return m.slot in self.Slots and m.cmd in self.Commands
        return kind is AcceptReply and m.slot in self.Slots

    def is_node(self, n):
        """n \\in NodeStates."""
        return (type(n) is NodeState and (n.leader == NONE or n.leader in self.Replicas)
                and (n.kvalue == NIL or n.kvalue in self.Writes)
                and (n.commitUpTo == 0 or n.commitUpTo in self.Slots)
                and (n.balPrepared == 0 or n.balPrepared in self.Ballots)
                and (n.balMaxKnown == 0 or n.balMaxKnown in self.Ballots)
                and len(n.insts) == self.NumCommands
                and all(type(i) is Inst and (i.status == EMPTY or i.status in STATUSES)
                        and (i.cmd == NIL or i.cmd in self.Commands) and self.is_voted(i.voted) for i in n.insts))

    def is_client_event(self, e):
        """e \\in ClientEvents."""
        if type(e) is ReqEvent:
            return e.cmd in self.Commands
        return type(e) is AckEvent and e.cmd in self.Commands and (e.val == NIL or e.val in self.Writes)

    @always
    def TypeOK(self, s):
        return (all(self.is_message(m) for m in s.msgs)
                and all(self.is_node(n) for n in s.node)
                and len(s.pending) <= self.NumCommands
                and len(set(s.pending)) == len(s.pending)
                and all(c in self.Commands for c in s.pending)
                and len(s.observed) <= 2 * self.NumCommands
                and len(set(s.observed)) == len(s.observed)
                and len(self.reqsMade(s)) >= len(self.acksRecv(s))
                and all(self.is_client_event(e) for e in s.observed))

    # -- Linearizability (MultiPaxos_MC.tla) ---------------------------------------------------------
    @staticmethod
    def ReqPosOfCmd(s, c):
        return next(i for i, e in enumerate(s.observed, 1) if type(e) is ReqEvent and e.cmd == c)

    @staticmethod
    def AckPosOfCmd(s, c):
        return next(i for i, e in enumerate(s.observed, 1) if type(e) is AckEvent and e.cmd == c)

    def ResultOfCmd(self, s, c):
        return s.observed[self.AckPosOfCmd(s, c) - 1].val

    @staticmethod
    def OrderIdxOfCmd(order, c):
        return order.index(c) + 1

    def LastWriteBefore(self, order, j):
        for k in range(j - 1, 0, -1):
            if order[k - 1] in self.Writes:
                return order[k - 1]
        return NIL

    def IsLinearOrder(self, s, order):
        return (set(order) == set(self.Commands)
                and all(self.ResultOfCmd(s, order[j - 1]) == self.LastWriteBefore(order, j)
                        for j in range(1, len(order) + 1)))

    def ObeysRealTime(self, s, order):
        return all(not self.AckPosOfCmd(s, c1) < self.ReqPosOfCmd(s, c2)
                   or self.OrderIdxOfCmd(order, c1) < self.OrderIdxOfCmd(order, c2)
                   for c1 in self.Commands for c2 in self.Commands)

    @always
    def Linearizability(self, s):
        """terminated => some order of the commands explains every result and respects real time."""
        if not self.terminated(s):
            return True
        return any(self.IsLinearOrder(s, order) and self.ObeysRealTime(s, order)
                   for order in product(self.Commands, repeat=self.NumCommands))

    @sometimes
    def all_done(self, s):
        return all(label == "Done" for label in s.pc)

    # -- symmetry ------------------------------------------------------------------------------------
    def permute(self, s, mapping):
        """``s`` with the replicas renamed by ``mapping`` (per-replica entries move with their replica)."""
        node, pc = [None] * self.replicas, [None] * self.replicas
        for r, n, label in zip(self.Replicas, s.node, s.pc):
            k = self.index[mapping[r]]
            node[k] = n._replace(leader=mapping.get(n.leader, n.leader))
            pc[k] = label

        def renamed(m):
            kind = type(m)
            if kind is Prepare:
                return Prepare(mapping[m.src], m.bal)
            if kind is PrepareReply:
                return PrepareReply(mapping[m.src], m.bal, m.votes)
            if kind is Accept:
                return Accept(mapping[m.src], m.bal, m.slot, m.cmd)
            if kind is AcceptReply:
                return AcceptReply(mapping[m.src], m.bal, m.slot)
            return m

        return MultiPaxosState(frozenset(renamed(m) for m in s.msgs), tuple(node), s.pending, s.observed,
                               tuple(pc))
