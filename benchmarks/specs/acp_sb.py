"""Atomic commitment with a simple broadcast (ACP-SB), transcribed from the TLA+ Examples.

Source: ``specifications/acp/ACP_SB.tla`` (Christophe Poulain; after Babaoglu
and Toueg, "Non-Blocking Atomic Commitment", in Mullender (ed.), Distributed
Systems, 1993), with the model ``ACP_SB_TLC.tla`` / ``ACP_SB_TLC.cfg`` in the
TLA+ Examples repository (github tlaplus/Examples).

A coordinator sends a vote request to every participant, collects their
yes/no votes, decides commit (every vote yes) or abort (some vote no, or a
participant died before voting) and sends its decision to the participants
one by one ("simple broadcast": a series of messages that a crash of the
coordinator may cut short).  A participant votes once asked, aborts on its
own if it voted no or if the coordinator died before asking it, and otherwise
decides what the coordinator sent it.  Anyone may die at any time (failures
are detected "magically", without timeouts).

Variables as in the module: ``participant`` (a function on ``participants``
of records ``[vote, alive, decision, faulty, voteSent]``, here a tuple of
``Participant`` records indexed like ``self.Participant``) and ``coordinator``
(a record ``[request, vote, broadcast, decision, alive, faulty]`` whose
function fields are tuples indexed the same way).  The constants ``yes``,
``no``, ``undecided``, ``commit``, ``abort``, ``waiting``, ``notsent`` are the
cfg's model values, here strings.  ``Init`` lets each participant's vote be
``yes`` or ``no``: ``2^N`` initial states.

Actions follow ``progN == parProgN \\/ coordProgN``, one Python action per
disjunct the module names in its Next, with its bound ``i`` as the argument
``i`` over ``Participant``:

- ``parDie(i)`` and ``coordDie`` (faults);
- ``parProg(i) == sendVote(i) \\/ abortOnVote(i) \\/ abortOnTimeoutRequest(i)
  \\/ decide(i)``: one generator action that yields the next state of each
  enabled disjunct (several may be enabled at once: a participant that voted
  no may send its vote again, a no-op, or abort);
- ``coordProgA(i) == request(i) \\/ getVote(i) \\/ detectFault(i) \\/
  coordBroadcast(i)``: a generator action likewise;
- ``makeDecision``: its two disjuncts (commit if every vote is yes, abort if
  some vote is no) yielded as two next states.

The branches are not declared (no ``branches=``): each ``yield`` is a step.
The module's helpers (``sendVote(i)`` ...) are methods returning the next
state or ``None``.

Constants (``ACP_SB_TLC.cfg``): ``participants = {p0, p1, p2}``, parameter
``n``; ``SYMMETRY Perms`` is commented out in the cfg, so no symmetry.  Every
line of the cfg's ``PROPERTIES`` is commented out, so TLC checks only
deadlock, and ``CHECK_DEADLOCK FALSE`` turns that off: TLC checks nothing but
counts states.  Distinct states: TLC 54,944 (manifest, ACP_SB_TLC.cfg); ours
54,944.  Scenario ``small`` (``n=2``): ours 1,832, not from TLC (no TLC run
here); a separate hand-written enumeration of the same definitions gives
1,832 too (and 54,944 for three participants).

Added, from the cfg's commented-out ``PROPERTIES`` (the safety ones, which the
cfg's comment says were checked for 4 participants, and the intermediate
ones, for 3): ``TypeInv``, ``AC1``, ``AC2``, ``AC3_1``, ``StrongerAC2``,
``StrongerAC3_1``, ``NoRecovery`` as invariants (``[]P`` of a state
predicate); ``AC4_alt`` (``[][...]_<<participant>>``), ``FaultyStable`` and
``VoteStable`` as transition properties (each ``[](P => []P)`` here holds iff
no step falsifies ``P``).  Not checked: the liveness ``AC3_2`` (under the
module's weak fairness) and the invalid properties the cfg keeps for showing
that TLC finds them (``DecisionReachedNoFault``, ``AbortImpliesNoVote``,
``AC5``).

Variant ``eager-commit``: ``makeDecision``'s commit disjunct does not wait for
every vote; it commits as soon as every request is sent and no recorded vote
is ``no``.  With two participants, one voting no: the coordinator requests
both votes, commits before any vote is in, sends the decision to the other
participant, which commits: ``AC2`` fails after 5 steps (and ``AC1`` once the
no-voter aborts).
"""

from __future__ import annotations

from itertools import product
from typing import NamedTuple

from consensuslab import Param, Scenario, Spec, action, always, always_step, record, replace_at, sometimes

# the cfg's model values
YES, NO = "yes", "no"
UNDECIDED, COMMIT, ABORT = "undecided", "commit", "abort"
WAITING = "waiting"
NOTSENT = "notsent"


@record
class Participant(NamedTuple):
    vote: str  # yes | no
    alive: bool
    decision: str  # undecided | commit | abort
    faulty: bool
    voteSent: bool


@record
class Coordinator(NamedTuple):
    request: tuple  # request[k]: the vote request to participant k is sent
    vote: tuple  # vote[k]: waiting | yes | no
    broadcast: tuple  # broadcast[k]: notsent | commit | abort
    decision: str  # undecided | commit | abort
    alive: bool
    faulty: bool


@record
class ACPState(NamedTuple):
    participant: tuple  # participant[k]: a Participant
    coordinator: Coordinator


class ACP_SB(Spec):
    name = "acp-sb"
    summary = "Atomic commitment with a simple broadcast, ACP_SB.tla (TLA+ Examples)"
    params = {"n": Param(3, "number of participants", min=1, max=5)}
    variants = {"eager-commit": "the coordinator commits without waiting for every vote"}
    scenarios = (
        Scenario("small", "2 participants (ours: 1,832; no TLC run)", {"n": 2}, states=1832, deadlock=False),
        Scenario("cfg", "ACP_SB_TLC.cfg: participants = {p0, p1, p2} (TLC: 54,944)", {"n": 3},
                 states=54944, deadlock=False),
        Scenario("eager-commit", "a commit before every vote is in", {"n": 2}, variant="eager-commit",
                 deadlock=False, expect="violation", expect_property="AC2"),
    )
    check_deadlock = False  # CHECK_DEADLOCK FALSE

    def setup(self):
        self.Participant = tuple(f"p{k}" for k in range(self.n))  # participants
        self.index = {p: k for k, p in enumerate(self.Participant)}

    def init(self):
        coordinator = Coordinator(request=(False,) * self.n, vote=(WAITING,) * self.n,
                                  broadcast=(NOTSENT,) * self.n, decision=UNDECIDED,
                                  alive=True, faulty=False)
        for votes in product((YES, NO), repeat=self.n):
            participant = tuple(Participant(vote=v, alive=True, decision=UNDECIDED, faulty=False,
                                            voteSent=False) for v in votes)
            yield ACPState(participant, coordinator)

    # -- helpers ------------------------------------------------------------------------------
    def set_participant(self, s, k, **fields):
        """participant' = [participant EXCEPT ![i] = [@ EXCEPT !.f = ...]]."""
        return s._replace(participant=replace_at(s.participant, k, s.participant[k]._replace(**fields)))

    def set_coordinator(self, s, **fields):
        return s._replace(coordinator=s.coordinator._replace(**fields))

    # -- coordinator statements ---------------------------------------------------------------
    def request(self, s, k):
        c = s.coordinator
        if c.alive and not c.request[k]:
            return self.set_coordinator(s, request=replace_at(c.request, k, True))

    def getVote(self, s, k):
        c, p = s.coordinator, s.participant[k]
        if (c.alive and c.decision == UNDECIDED and all(c.request)
                and c.vote[k] == WAITING and p.voteSent):
            return self.set_coordinator(s, vote=replace_at(c.vote, k, p.vote))

    def detectFault(self, s, k):
        c, p = s.coordinator, s.participant[k]
        if (c.alive and c.decision == UNDECIDED and all(c.request)
                and c.vote[k] == WAITING and not p.alive and not p.voteSent):
            return self.set_coordinator(s, decision=ABORT)

    def coordBroadcast(self, s, k):
        c = s.coordinator
        if c.alive and c.decision != UNDECIDED and c.broadcast[k] == NOTSENT:
            return self.set_coordinator(s, broadcast=replace_at(c.broadcast, k, c.decision))

    @action(unchanged=("participant",))
    def makeDecision(self, s):
        c = s.coordinator
        if not (c.alive and c.decision == UNDECIDED):
            return
        all_in = all(v in (YES, NO) for v in c.vote)
        if self.variant == "eager-commit":
            # the bug: every request is out, but no wait for the votes still out
            if all(c.request) and all(v != NO for v in c.vote):
                yield self.set_coordinator(s, decision=COMMIT)
        elif all_in and all(v == YES for v in c.vote):
            yield self.set_coordinator(s, decision=COMMIT)
        if all_in and any(v == NO for v in c.vote):
            yield self.set_coordinator(s, decision=ABORT)

    @action(i="Participant", unchanged=("participant",))
    def coordProgA(self, s, i):
        k = self.index[i]
        for step in (self.request, self.getVote, self.detectFault, self.coordBroadcast):
            t = step(s, k)
            if t is not None:
                yield t

    @action(fault=True, unchanged=("participant",))
    def coordDie(self, s):
        if s.coordinator.alive:
            return self.set_coordinator(s, alive=False, faulty=True)

    # -- participant statements ---------------------------------------------------------------
    def sendVote(self, s, k):
        if s.participant[k].alive and s.coordinator.request[k]:
            return self.set_participant(s, k, voteSent=True)

    def abortOnVote(self, s, k):
        p = s.participant[k]
        if p.alive and p.decision == UNDECIDED and p.voteSent and p.vote == NO:
            return self.set_participant(s, k, decision=ABORT)

    def abortOnTimeoutRequest(self, s, k):
        p, c = s.participant[k], s.coordinator
        if p.alive and p.decision == UNDECIDED and not c.alive and not c.request[k]:
            return self.set_participant(s, k, decision=ABORT)

    def decide(self, s, k):
        p, c = s.participant[k], s.coordinator
        if p.alive and p.decision == UNDECIDED and c.broadcast[k] != NOTSENT:
            return self.set_participant(s, k, decision=c.broadcast[k])

    @action(i="Participant", by="i", unchanged=("coordinator",))
    def parProg(self, s, i):
        k = self.index[i]
        for step in (self.sendVote, self.abortOnVote, self.abortOnTimeoutRequest, self.decide):
            t = step(s, k)
            if t is not None:
                yield t

    @action(i="Participant", by="i", fault=True, unchanged=("coordinator",))
    def parDie(self, s, i):
        k = self.index[i]
        if s.participant[k].alive:
            return self.set_participant(s, k, alive=False, faulty=True)

    # -- properties ---------------------------------------------------------------------------
    @always
    def TypeInv(self, s):
        c = s.coordinator
        return (len(s.participant) == self.n
                and all(p.vote in (YES, NO) and p.alive in (True, False)
                        and p.decision in (UNDECIDED, COMMIT, ABORT) and p.faulty in (True, False)
                        and p.voteSent in (True, False) for p in s.participant)
                and len(c.request) == self.n and all(r in (True, False) for r in c.request)
                and len(c.vote) == self.n and all(v in (WAITING, YES, NO) for v in c.vote)
                and len(c.broadcast) == self.n and all(b in (COMMIT, ABORT, NOTSENT) for b in c.broadcast)
                and c.decision in (COMMIT, ABORT, UNDECIDED)
                and c.alive in (True, False) and c.faulty in (True, False))

    @always
    def AC1(self, s):
        """All participants that decide reach the same decision."""
        decisions = {p.decision for p in s.participant}
        return not (COMMIT in decisions and ABORT in decisions)

    @always
    def AC2(self, s):
        """If any participant decides commit, every participant voted yes."""
        return (not any(p.decision == COMMIT for p in s.participant)
                or all(p.vote == YES for p in s.participant))

    @always
    def AC3_1(self, s):
        """If any participant decides abort, some vote is no or someone is faulty."""
        return (not any(p.decision == ABORT for p in s.participant)
                or any(p.vote == NO for p in s.participant)
                or any(p.faulty for p in s.participant)
                or s.coordinator.faulty)

    @always
    def StrongerAC2(self, s):
        return (not any(p.decision == COMMIT for p in s.participant)
                or (all(p.vote == YES for p in s.participant) and s.coordinator.decision == COMMIT))

    @always
    def StrongerAC3_1(self, s):
        c = s.coordinator
        return (not any(p.decision == ABORT for p in s.participant)
                or any(p.vote == NO for p in s.participant)
                or (any(p.faulty for p in s.participant) and c.decision == ABORT)
                or (c.faulty and c.decision == UNDECIDED))

    @always
    def NoRecovery(self, s):
        return (all(p.alive == (not p.faulty) for p in s.participant)
                and s.coordinator.alive == (not s.coordinator.faulty))

    @always_step
    def AC4_alt(self, s, act, t):
        """Each participant decides at most once: a decision, once made, stays."""
        return all(p.decision not in (COMMIT, ABORT) or q.decision == p.decision
                   for p, q in zip(s.participant, t.participant))

    @always_step
    def FaultyStable(self, s, act, t):
        return (all(not p.faulty or q.faulty for p, q in zip(s.participant, t.participant))
                and (not s.coordinator.faulty or t.coordinator.faulty))

    @always_step
    def VoteStable(self, s, act, t):
        return all(p.vote == q.vote for p, q in zip(s.participant, t.participant))

    @sometimes
    def all_committed(self, s):
        return all(p.decision == COMMIT for p in s.participant)

    @sometimes
    def all_aborted(self, s):
        return all(p.decision == ABORT for p in s.participant)
