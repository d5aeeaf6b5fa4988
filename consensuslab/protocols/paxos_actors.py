"""Single-decree Paxos as actors: proposers, acceptors and learners exchanging messages.

Following "Paxos Made Simple": a proposer picks a ballot it owns (proposer
``i`` of ``P`` owns ballots ``i, i+P, i+2P, ... <= max_ballot``) and sends
``Prepare``; an acceptor that has promised no higher ballot answers
``Promise`` with the vote it cast in its highest ballot; with promises from a
quorum the proposer sends ``Accept`` for the value of the highest-ballot vote
reported, or for its own input when none was; an acceptor that has promised
no higher ballot accepts and tells every learner ``Accepted``; a learner
decides ``v`` once a quorum has told it that it accepted ``v`` in one ballot.

What is abstracted: timeouts (a proposer may move to its next ballot at any
moment, which covers every timeout schedule), NACKs (a refused message is
simply consumed), and retransmission (a proposer's next ballot stands in for
it).  Loss, duplication, reordering and acceptor crashes come from the
scenario's network and faults, never from this file.

A learner deliberately does *not* ignore quorums after deciding: it adopts
the value of every quorum it completes, so ``decision_stable`` is a claim
about the protocol, not about the learner's code.
"""

from __future__ import annotations

from consensuslab.models.effects import broadcast, just, send
from consensuslab.models.fairness import Fair
from consensuslab.models.faults import CrashStop
from consensuslab.models.network import MessageSoup, Unordered
from consensuslab.models.params import Param
from consensuslab.models.properties import always, always_step, eventually, sometimes
from consensuslab.models.protocol import Protocol, handles, initial, local
from consensuslab.models.records import evolve, message, state
from consensuslab.models.scenario import Scenario
from consensuslab.protocols.paxos import describe_quorums, quorum_size

PROPOSER, ACCEPTOR, LEARNER = "proposer", "acceptor", "learner"


# -- messages ---------------------------------------------------------------
@message
class Prepare:  # phase 1a
    bal: int


@message
class Promise:  # phase 1b: the acceptor's highest-ballot vote, (-1, None) if none
    bal: int
    vbal: int
    vval: str | None


@message
class Accept:  # phase 2a
    bal: int
    val: str


@message
class Accepted:  # phase 2b, sent to the learners
    bal: int
    val: str


# -- per-role state -------------------------------------------------------------
@state
class ProposerState:
    bal: int = -1  # current ballot, -1 before the first
    phase: str = "idle"  # idle | prepare | accept
    promised_by: frozenset = frozenset()  # acceptors that promised the current ballot
    best: tuple = (-1, None)  # the highest-ballot vote (vbal, vval) they reported
    proposed: str | None = None  # the value sent in Accept for the current ballot


@state
class AcceptorState:
    promised: int = -1  # maxBal: no vote below this ballot
    vbal: int = -1  # the ballot of its highest-ballot vote
    vval: str | None = None  # the value of that vote


@state
class LearnerState:
    votes: frozenset = frozenset()  # (acceptor, ballot, value) from Accepted messages
    decision: str | None = None


class PaxosActors(Protocol):
    name = "paxos-actors"
    summary = "Single-decree Paxos with proposer, acceptor and learner nodes; loss, duplication, crashes"
    params = {
        "proposers": Param(2, "number of proposers", min=1, max=4),
        "acceptors": Param(3, "number of acceptors", min=1, max=7),
        "learners": Param(1, "number of learners", min=1, max=3),
        "values": Param(2, "number of values; ballot b's own value is v(b mod values + 1)", min=1, max=4),
        "max_ballot": Param(1, "ballots are 0..max_ballot; proposer i owns those = i mod proposers",
                            min=0, max=8),
        "quorum": Param(0, "quorum size; 0 = a majority", min=0, max=7),
    }
    variants = {
        "minority-quorum": "quorums have floor(n/2) acceptors, so two quorums need not intersect",
        "no-promise-check": "an acceptor accepts an Accept below the ballot it promised",
    }
    network = MessageSoup()
    _lossy = Unordered(duplicating=True, lossy=True)
    _crash = (CrashStop(1, roles=(ACCEPTOR,)),)
    _live = ("agreement", "validity", "decision_stable", "some_decision", "eventually_chosen")
    scenarios = (
        Scenario("default", "2 proposers (ballots 0 and 1), 3 acceptors, 2 values; message soup",
                 {}, deadlock=False, states=17289),
        Scenario("lossy", "1 proposer, 2 acceptors on a network that loses, duplicates and reorders",
                 {"proposers": 1, "acceptors": 2, "max_ballot": 0}, network=_lossy, deadlock=False,
                 states=36082),
        Scenario("crash", "1 proposer, 3 acceptors, one of which (a minority) may crash for good",
                 {"proposers": 1, "max_ballot": 0}, faults=_crash, deadlock=False, states=516,
                 properties=_live),
        Scenario("dueling-proposers", "2 proposers with 2 ballots each, pre-empting each other "
                 "(large: for the liveness checker)", {"max_ballot": 3}, deadlock=False),
        Scenario("stable-leader", "a single proposer with one ballot: nothing pre-empts it",
                 {"proposers": 1, "max_ballot": 0}, network=Unordered(), deadlock=False, states=210,
                 properties=_live),
        Scenario("minority-quorum", "singleton quorums: a learner's decision changes",
                 {}, variant="minority-quorum", deadlock=False, expect="violation",
                 expect_property="decision_stable"),
        Scenario("no-promise-check", "an acceptor votes below its promise: a decision changes",
                 {}, variant="no-promise-check", deadlock=False, expect="violation",
                 expect_property="decision_stable"),
    )

    #: a proposer eventually starts its next ballot while it has one (its timeout fires);
    #: delivery to and from correct nodes is weakly fair by default, crashed acceptors owe nothing
    fairness = (Fair("local", "proposer_prepare", role=PROPOSER, per="node"),)

    def setup(self):
        self.q = quorum_size(self.acceptors, self.quorum, self.variant)
        self.proposer_nodes = tuple(f"p{i + 1}" for i in range(self.proposers))
        self.value_names = tuple(f"v{i + 1}" for i in range(self.values))
        self.owned = {p: tuple(range(i, self.max_ballot + 1, self.proposers))
                      for i, p in enumerate(self.proposer_nodes)}

    def own_value(self, ballot: int) -> str:
        """The value a proposer proposes in ``ballot`` when free to: a client request for that ballot."""
        return self.value_names[ballot % self.values]

    def topology(self):
        return {PROPOSER: self.proposer_nodes,
                ACCEPTOR: tuple(f"a{i + 1}" for i in range(self.acceptors)),
                LEARNER: tuple(f"l{i + 1}" for i in range(self.learners))}

    def quorum_system(self) -> dict:
        """The quorum system the protocol relies on, for the quorum analysis."""
        return describe_quorums(self.acceptors, self.q)

    # -- proposers ------------------------------------------------------------------
    @initial(PROPOSER)
    def proposer_init(self, ctx):
        return ProposerState()

    @local(PROPOSER)
    def proposer_prepare(self, s, ctx):
        """Start the next ballot this proposer owns (a timeout, or the first attempt)."""
        nxt = next((b for b in self.owned[ctx.me] if b > s.bal), None)
        if nxt is None:
            return None
        return (evolve(s, bal=nxt, phase="prepare", promised_by=frozenset(), best=(-1, None), proposed=None),
                broadcast(ctx.nodes(ACCEPTOR), Prepare(nxt)))

    @handles(PROPOSER, Promise)
    def proposer_on_promise(self, s, m, ctx):
        if m.bal != s.bal or s.phase != "prepare":
            return just(s)  # stale: consumed, ignored
        promised_by = s.promised_by | {ctx.src}
        best = (m.vbal, m.vval) if m.vbal > s.best[0] else s.best
        if len(promised_by) < self.q:
            return just(evolve(s, promised_by=promised_by, best=best))
        value = best[1] if best[0] >= 0 else self.own_value(s.bal)
        return (evolve(s, phase="accept", promised_by=frozenset(), best=(-1, None), proposed=value),
                broadcast(ctx.nodes(ACCEPTOR), Accept(s.bal, value)))

    # -- acceptors ------------------------------------------------------------------
    @initial(ACCEPTOR)
    def acceptor_init(self, ctx):
        return AcceptorState()

    @handles(ACCEPTOR, Prepare)
    def acceptor_on_prepare(self, s, m, ctx):
        if m.bal <= s.promised:
            return just(s)
        return evolve(s, promised=m.bal), send(ctx.src, Promise(m.bal, s.vbal, s.vval))

    @handles(ACCEPTOR, Accept)
    def acceptor_on_accept(self, s, m, ctx):
        if m.bal < s.promised and self.variant != "no-promise-check":
            return just(s)
        if (m.bal, m.val) == (s.vbal, s.vval):
            return just(s)  # a duplicate of the Accept it already voted on: vote once
        return (evolve(s, promised=m.bal, vbal=m.bal, vval=m.val),
                broadcast(ctx.nodes(LEARNER), Accepted(m.bal, m.val)))

    # -- learners -------------------------------------------------------------------
    @initial(LEARNER)
    def learner_init(self, ctx):
        return LearnerState()

    @handles(LEARNER, Accepted)
    def learner_on_accepted(self, s, m, ctx):
        votes = s.votes | {(ctx.src, m.bal, m.val)}
        support = sum(1 for _, b, v in votes if b == m.bal and v == m.val)
        decision = m.val if support >= self.q else s.decision
        return just(evolve(s, votes=votes, decision=decision))

    # -- properties --------------------------------------------------------------------
    @always
    def agreement(self, w):
        """No two learners decide different values."""
        return len({s.decision for s in w.states(LEARNER)} - {None}) <= 1

    @always
    def validity(self, w):
        """A decided value is the own value of a ballot some proposer has started."""
        proposed = {self.own_value(b) for p, s in w.items(PROPOSER) for b in self.owned[p] if b <= s.bal}
        return all(s.decision is None or s.decision in proposed for s in w.states(LEARNER))

    @always_step
    def decision_stable(self, before, action, after):
        """Once a learner has decided, its decision never changes."""
        return all(b.decision is None or b.decision == a.decision
                   for b, a in zip(before.states(LEARNER), after.states(LEARNER)))

    @sometimes
    def some_decision(self, w):
        """A learner can decide (the model is not vacuous)."""
        return any(s.decision is not None for s in w.states(LEARNER))

    @eventually
    def eventually_chosen(self, w):
        """Some learner eventually decides (checked where a scenario names it)."""
        return any(s.decision is not None for s in w.states(LEARNER))

    def done(self, w):
        """Nothing in flight: every ballot has run its course (decided or not)."""
        return not w.in_flight
