"""Two-phase commit, transcribed from Lamport's TwoPhase.tla (TLA+ Examples).

Resource managers (RMs) spontaneously prepare; the transaction manager (TM)
collects ``Prepared`` messages and commits only when every RM has prepared, or
aborts spontaneously.  Messages live in a grow-only set ``msgs`` (the TLA+
idiom: receipt is enabled by existence, so loss and duplication need no
modelling).  ``TCConsistent`` is the safety property of the Transaction Commit
spec it implements: no RM commits while another aborts.

With rm=3 TLC reports 288 distinct states; rm=6, 50,816; rm=7, 296,448.
"""

from __future__ import annotations

from typing import NamedTuple

from consensuslab.models.messages import Channel, Participants
from consensuslab.models.params import Param
from consensuslab.models.properties import always, sometimes
from consensuslab.models.records import message, record, replace_at
from consensuslab.models.scenario import Scenario
from consensuslab.models.spec import Spec, action


# -- messages ---------------------------------------------------------------
@message
class Prepared:
    rm: str


@message
class Commit:
    pass


@message
class Abort:
    pass


COMMIT, ABORT = Commit(), Abort()


# -- state --------------------------------------------------------------------
@record
class TPState(NamedTuple):
    rmState: tuple  # rmState[i] is the state of RM i
    tmState: str
    tmPrepared: frozenset  # RMs from which the TM has received Prepared
    msgs: frozenset


RM_STATES = frozenset({"working", "prepared", "committed", "aborted"})
#: why an RM reached its decision, by the action that took it there
DECIDED = {"RMChooseToAbort": "aborted on its own (an RM may abort until it prepares)",
           "RMRcvAbortMsg": "aborted on the TM's Abort", "RMRcvCommitMsg": "committed on the TM's Commit"}
TM_STATES = frozenset({"init", "committed", "aborted"})


class TwoPhase(Spec):
    name = "two-phase"
    summary = "Two-phase commit, Lamport's TwoPhase.tla (TM + RMs, message set)"
    params = {"rm": Param(3, "number of resource managers", min=1, max=12)}
    variants = {
        "no-wait": "the TM commits after any single Prepared message, not all of them",
    }
    scenarios = (
        Scenario("default", "3 RMs, as in the TLA+ Examples' model", {"rm": 3}, states=288),
        Scenario("rm6", "6 RMs: TLC reports 50,816 states", {"rm": 6}, states=50816),
        Scenario("no-wait", "the TM commits too early", {"rm": 2}, variant="no-wait",
                 expect="violation", expect_property="TCConsistent"),
    )

    #: the RMs are interchangeable (TLC: SYMMETRY Permutations(RM)); used by --symmetry
    symmetry = ("RM",)
    #: the TM and the RMs; Prepared goes from its RM to the TM, Commit and Abort from the TM to every RM
    participants = Participants("TM", "RM", per_node={"rmState": "RM"}, channels=(
        Channel("msgs", routes={Prepared: ("rm", "TM"), Commit: ("TM", "RM"), Abort: ("TM", "RM")}),))

    def setup(self):
        self.RM = tuple(f"r{i + 1}" for i in range(self.rm))
        self.index = {r: i for i, r in enumerate(self.RM)}
        self.prepared_msg = {r: Prepared(r) for r in self.RM}
        self.all_rms = frozenset(self.RM)
        self.message_universe = frozenset(self.prepared_msg.values()) | {COMMIT, ABORT}

    def init(self):
        yield TPState(("working",) * self.rm, "init", frozenset(), frozenset())

    # -- the TM's actions ---------------------------------------------------------
    @action(rm="RM", by="TM")
    def TMRcvPrepared(self, s, rm):
        if s.tmState == "init" and self.prepared_msg[rm] in s.msgs:
            return s._replace(tmPrepared=s.tmPrepared | {rm})

    @action(by="TM")
    def TMCommit(self, s):
        ready = s.tmPrepared == self.all_rms if self.variant != "no-wait" else bool(s.tmPrepared)
        if s.tmState == "init" and ready:
            return s._replace(tmState="committed", msgs=s.msgs | {COMMIT})

    @action(by="TM")
    def TMAbort(self, s):
        if s.tmState == "init":
            return s._replace(tmState="aborted", msgs=s.msgs | {ABORT})

    # -- the RMs' actions --------------------------------------------------------
    @action(rm="RM", by="rm")
    def RMPrepare(self, s, rm):
        i = self.index[rm]
        if s.rmState[i] == "working":
            return s._replace(rmState=replace_at(s.rmState, i, "prepared"), msgs=s.msgs | {self.prepared_msg[rm]})

    @action(rm="RM", by="rm")
    def RMChooseToAbort(self, s, rm):
        i = self.index[rm]
        if s.rmState[i] == "working":
            return s._replace(rmState=replace_at(s.rmState, i, "aborted"))

    @action(rm="RM", by="rm")
    def RMRcvCommitMsg(self, s, rm):
        if COMMIT in s.msgs:
            return s._replace(rmState=replace_at(s.rmState, self.index[rm], "committed"))

    @action(rm="RM", by="rm")
    def RMRcvAbortMsg(self, s, rm):
        if ABORT in s.msgs:
            return s._replace(rmState=replace_at(s.rmState, self.index[rm], "aborted"))

    # -- symmetry (for --symmetry) ---------------------------------------------------
    def canonical(self, s):
        """The orbit's representative: RMs sorted by (state, in tmPrepared, sent Prepared), renamed r1..rn.

        Exact: those three facts are everything a state says about an RM, so RMs
        with equal signatures are interchangeable and any two states of one
        orbit sort to the same tuple.
        """
        sig = sorted((s.rmState[i], r in s.tmPrepared, self.prepared_msg[r] in s.msgs)
                     for i, r in enumerate(self.RM))
        RM = self.RM
        return TPState(tuple(x[0] for x in sig), s.tmState,
                       frozenset(RM[j] for j, x in enumerate(sig) if x[1]),
                       frozenset(self.prepared_msg[RM[j]] for j, x in enumerate(sig) if x[2])
                       | (s.msgs & {COMMIT, ABORT}))

    def permute(self, s, mapping):
        """``s`` with every RM ``r`` renamed ``mapping[r]`` (positions of rmState move with it)."""
        rm_state = [None] * self.rm
        for i, r in enumerate(self.RM):
            rm_state[self.index[mapping[r]]] = s.rmState[i]
        msgs = frozenset(self.prepared_msg[mapping[m.rm]] if type(m) is Prepared else m for m in s.msgs)
        return TPState(tuple(rm_state), s.tmState, frozenset(mapping[r] for r in s.tmPrepared), msgs)

    # -- properties -------------------------------------------------------------
    @always
    def TPTypeOK(self, s):
        """Every variable stays in its type."""
        return (len(s.rmState) == self.rm and RM_STATES.issuperset(s.rmState)
                and s.tmState in TM_STATES and s.tmPrepared <= self.all_rms
                and s.msgs <= self.message_universe)

    @always
    def TCConsistent(self, s):
        """No RM has committed while another has aborted."""
        return not ("committed" in s.rmState and "aborted" in s.rmState)

    @sometimes
    def some_commit(self, s):
        """A transaction can commit (the model is not vacuous)."""
        return "committed" in s.rmState

    def explain(self, trace, violation=None) -> list[str]:
        """Who decided what and why, in two-phase commit's terms (every rendering shows these lines)."""
        lines = []
        for k, (act, _) in enumerate(trace.steps, start=1):
            before = trace.states[k - 1]
            if act.name == "TMCommit":
                heard = ", ".join(r for r in self.RM if r in before.tmPrepared)
                missing = [r for r in self.RM if r not in before.tmPrepared]
                lines.append(f"step {k}: the TM decided commit having Prepared from {heard}"
                             + (f", not from {', '.join(missing)}" if missing else " (every RM)"))
            elif act.name == "TMAbort":
                lines.append(f"step {k}: the TM decided abort")
            elif act.name in DECIDED:
                lines.append(f"step {k}: {act.args[0]} {DECIDED[act.name]}")
        return lines

    def diff_view(self, s):
        """What ``consensuslab diff`` compares: the set of decisions the RMs have reached."""
        return frozenset(p for p in s.rmState if p in ("committed", "aborted"))
