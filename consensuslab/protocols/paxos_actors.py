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

Unbounded ballots (``unbounded=1``): a proposer never runs out of ballots;
each new one is above every ballot in use (the ballot a proposer picks once
it has heard of the others, so it pre-empts them), and each proposer has one
input value, ``v(i mod values + 1)`` for proposer ``i``.  Ballots are only
compared and owned (``b mod proposers``), so states are identified up to an
order- and owner-preserving renaming of their ballots, and a learner forgets
its votes in a ballot that can get no further vote (``models.renaming``
explains why both are exact).  The graph is then finite only if messages
cannot pile up, which ``timely=1`` ensures: a proposer times out only when no
message of its current ballot is in flight (timeouts exceed message delays,
as after GST).  Scenario ``dueling-proposers`` is both: even with timely
timeouts and a reliable network, two proposers can pre-empt each other for
ever and no value is ever chosen.
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
from consensuslab.models.renaming import OrderedRenaming, with_locals
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
        "unbounded": Param(False, "ballots never run out: each new one is above every ballot in use "
                                  "(max_ballot is ignored; states are equal up to renaming ballots)"),
        "timely": Param(False, "a proposer times out only when no message of its current ballot is in flight "
                               "(on a message soup, where nothing leaves, it then never times out)"),
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
        Scenario("dueling-proposers", "2 proposers with unbounded ballots, 2 acceptors, timely timeouts and a "
                 "reliable network pre-empt each other for ever: no value is ever chosen (a lasso)",
                 {"acceptors": 2, "unbounded": True, "timely": True}, network=Unordered(), deadlock=False,
                 states=19809, properties=_live, expect="liveness", expect_property="eventually_chosen"),
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
    #: hooks of the actor model, set in ``setup`` where the parameters ask for them: the normal form
    #: of unbounded ballots (models.renaming) and the timely-timeout guard
    normal_form = None
    timing = None

    def setup(self):
        self.q = quorum_size(self.acceptors, self.quorum, self.variant)
        self.proposer_nodes = tuple(f"p{i + 1}" for i in range(self.proposers))
        self.value_names = tuple(f"v{i + 1}" for i in range(self.values))
        self.owned = {p: tuple(range(i, self.max_ballot + 1, self.proposers))
                      for i, p in enumerate(self.proposer_nodes)}
        self.owner_index = {p: i for i, p in enumerate(self.proposer_nodes)}
        if self.unbounded:
            self.normal_form = OrderedRenaming(self.proposers, ballots_in, rename_ballots, self.forget_dead_votes)
        if self.timely:
            self.timing = self.timely_timeout

    def own_value(self, ballot: int) -> str:
        """The value a proposer proposes in ``ballot`` when free to: a client request for that ballot
        (with unbounded ballots, its owner's input)."""
        if self.unbounded:
            return self.value_names[ballot % self.proposers % self.values]
        return self.value_names[ballot % self.values]

    def started_values(self, proposer: str, s: ProposerState) -> set:
        """The own values of the ballots ``proposer`` has started."""
        if self.unbounded:  # every ballot of a proposer has its input as own value
            return {self.own_value(s.bal)} if s.bal >= 0 else set()
        return {self.own_value(b) for b in self.owned[proposer] if b <= s.bal}

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
        if self.unbounded:
            nxt = self.normal_form.fresh(self.owner_index[ctx.me])
        else:
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
        proposed = set().union(*(self.started_values(p, s) for p, s in w.items(PROPOSER)))
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

    def explain(self, trace, violation=None) -> list[str]:
        """Ballots started, Accepts refused because a higher ballot was promised, and decisions."""
        nodes = [n for group in self.topology().values() for n in group]
        lines, started = [], {}
        for k, (act, after) in enumerate(trace.steps, start=1):
            before = trace.states[k - 1]
            if act.name == "proposer_prepare":
                started.setdefault(act.node, []).append(str(k))
            elif act.name == "acceptor_on_accept":
                promised = before.locals[nodes.index(act.node)].promised
                if promised > act.args[1].bal:
                    lines.append(f"step {k}: {act.node} refused Accept(bal={act.args[1].bal}) from {act.args[0]}: "
                                 f"it had promised ballot {promised}")
            elif act.name == "learner_on_accepted":
                old, new = (s.locals[nodes.index(act.node)].decision for s in (before, after))
                if new != old:
                    lines.append(f"step {k}: {act.node} decided {new}" + (f" (it had decided {old})" if old else ""))
        lines[:0] = [f"{p} started a new ballot at step(s) {', '.join(b)}" for p, b in started.items()]
        if trace.loop is not None:
            lines.append(f"from step {trace.loop + 1} the proposers pre-empt each other in a cycle: each new "
                         f"ballot's Prepare overtakes the other's Accept, so no value is ever chosen")
        return lines

    # -- unbounded ballots: timing and the normal form -----------------------------------
    def timely_timeout(self, w, action) -> bool:
        """A proposer starts a new ballot only once no message of its current one is in flight."""
        if action.name != "proposer_prepare":
            return True
        bal = w[action.node].bal
        return bal < 0 or all(m.bal != bal for _, _, m in w.in_flight)

    def forget_dead_votes(self, w):
        """The raw state without the learners' votes in ballots that can get no further vote there.

        A ballot's owner sends ``Accept`` once, leaving phase ``prepare``; so
        when its owner is past that phase (or past the ballot), no ``Accept``
        of it is in flight and no ``Accepted`` of it is on its way to a
        learner, no acceptor can vote in it again and that learner can get
        no further vote in it: its count is final.  A decision it made is
        kept in ``decision``; the votes themselves can no longer change
        anything, and nothing can make the ballot live again.
        """
        if not any(s.votes for s in w.states(LEARNER)):
            return w.raw
        in_flight = w.in_flight
        live = {m.bal for _, _, m in in_flight if type(m) is Accept}
        live.update(s.bal for s in w.states(PROPOSER) if s.phase == "prepare")
        changes = {}
        for node, s in w.items(LEARNER):
            if not s.votes:
                continue
            mine = live | {m.bal for _, dst, m in in_flight if dst == node and type(m) is Accepted}
            votes = frozenset(v for v in s.votes if v[1] in mine)
            if votes != s.votes:
                changes[node] = evolve(s, votes=votes)
        return with_locals(w.model, w.raw, changes)


def ballots_in(x) -> tuple:
    """The ballots a local state or message holds (-1, "none", is not a ballot)."""
    t = type(x)
    if t is ProposerState:
        found = (x.bal, x.best[0])
    elif t is AcceptorState:
        found = (x.promised, x.vbal)
    elif t is LearnerState:
        found = tuple(b for _, b, _ in x.votes)
    elif t is Promise:
        found = (x.bal, x.vbal)
    elif t in (Prepare, Accept, Accepted):
        found = (x.bal,)
    else:
        return ()
    return tuple(b for b in found if b >= 0)


def rename_ballots(x, f):
    """``x`` with each ballot ``b`` replaced by ``f[b]`` (-1 stays)."""
    def r(b):
        return b if b < 0 else f[b]

    t = type(x)
    if t is ProposerState:
        return evolve(x, bal=r(x.bal), best=(r(x.best[0]), x.best[1]))
    if t is AcceptorState:
        return evolve(x, promised=r(x.promised), vbal=r(x.vbal))
    if t is LearnerState:
        return evolve(x, votes=frozenset((a, r(b), v) for a, b, v in x.votes))
    if t is Promise:
        return Promise(r(x.bal), r(x.vbal), x.vval)
    if t in (Prepare, Accept, Accepted):
        return evolve(x, bal=r(x.bal))
    return x
