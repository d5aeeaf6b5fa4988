"""Two-phase commit as actors: one transaction manager (TM), resource managers (RMs).

The same protocol as ``two-phase`` written as nodes with handlers.  On a
message soup its state graph is isomorphic to TwoPhase.tla's (the TM's local
state is (tmState, tmPrepared); a Commit or Abort broadcast is one soup
entry per RM, all added together), so the distinct-state counts must agree:
a cross-check of the spec layer against the actor layer.
"""

from __future__ import annotations

from consensuslab.models.effects import broadcast, just, send
from consensuslab.models.fairness import Fair
from consensuslab.models.faults import CrashStop
from consensuslab.models.network import MessageSoup
from consensuslab.models.params import Param
from consensuslab.models.properties import always, eventually, sometimes
from consensuslab.models.protocol import Protocol, handles, initial, local
from consensuslab.models.records import evolve, message, state
from consensuslab.models.scenario import Scenario

TM, RM = "tm", "rm"


# -- messages ---------------------------------------------------------------
@message
class Prepared:
    pass


@message
class Commit:
    pass


@message
class Abort:
    pass


# -- per-role state -------------------------------------------------------------
@state
class TmState:
    phase: str = "init"  # init | committed | aborted
    prepared: frozenset = frozenset()


@state
class RmState:
    phase: str = "working"  # working | prepared | committed | aborted


class TwoPhaseActors(Protocol):
    name = "two-phase-actors"
    summary = "Two-phase commit as TM and RM actors (cross-checks two-phase; coordinator crash)"
    params = {"rm": Param(3, "number of resource managers", min=1, max=10)}
    network = MessageSoup()
    scenarios = (
        Scenario("default", "3 RMs on a message soup: 288 states, as TwoPhase.tla", {"rm": 3}, states=288),
        Scenario("rm6", "6 RMs: 50,816 states, as TLC on TwoPhase.tla", {"rm": 6}, states=50816),
        Scenario("coordinator-crash", "the TM may crash: agreement holds, prepared RMs block "
                 "(check all_decide with --property all_decide: a dead end, exit 13)",
                 {"rm": 2}, faults=(CrashStop(1, roles=(TM,)),), expect="deadlock"),
        Scenario("fair", "3 RMs, the TM correct, fair delivery: every RM eventually decides",
                 {"rm": 3}, expect="ok", properties=("consistent", "some_commit", "all_decide"), states=288),
    )
    #: The TM must eventually take one of its decisions and each RM must eventually prepare or
    #: abort (a participant that never votes blocks everyone); delivery fairness is the default.
    fairness = (Fair("local", role=TM, per="node"), Fair("local", role=RM, per="node"))

    def topology(self):
        return {TM: ("tm",), RM: tuple(f"r{i + 1}" for i in range(self.rm))}

    # -- transaction manager -----------------------------------------------------------
    @initial(TM)
    def tm_init(self, ctx):
        return TmState()

    @handles(TM, Prepared)
    def tm_on_prepared(self, s, m, ctx):
        if s.phase == "init":
            return just(evolve(s, prepared=s.prepared | {ctx.src}))

    @local(TM)
    def tm_commit(self, s, ctx):
        if s.phase == "init" and len(s.prepared) == len(ctx.nodes(RM)):
            return evolve(s, phase="committed"), broadcast(ctx.nodes(RM), Commit())

    @local(TM)
    def tm_abort(self, s, ctx):
        if s.phase == "init":
            return evolve(s, phase="aborted"), broadcast(ctx.nodes(RM), Abort())

    # -- resource managers --------------------------------------------------------------
    @initial(RM)
    def rm_init(self, ctx):
        return RmState()

    @local(RM)
    def rm_prepare(self, s, ctx):
        if s.phase == "working":
            return evolve(s, phase="prepared"), send(ctx.only(TM), Prepared())

    @local(RM)
    def rm_choose_to_abort(self, s, ctx):
        if s.phase == "working":
            return just(evolve(s, phase="aborted"))

    @handles(RM, Commit)
    def rm_on_commit(self, s, m, ctx):
        return just(evolve(s, phase="committed"))

    @handles(RM, Abort)
    def rm_on_abort(self, s, m, ctx):
        return just(evolve(s, phase="aborted"))

    # -- properties --------------------------------------------------------------------
    @always
    def consistent(self, w):
        """No RM has committed while another has aborted."""
        phases = {s.phase for s in w.states(RM)}
        return not {"committed", "aborted"} <= phases

    @sometimes
    def some_commit(self, w):
        """Committing is reachable."""
        return any(s.phase == "committed" for s in w.states(RM))

    @eventually
    def all_decide(self, w):
        """Every RM eventually commits or aborts."""
        return all(s.phase in ("committed", "aborted") for s in w.states(RM))

    def explain(self, trace, violation=None) -> list[str]:
        """Who decided what and why; who is left waiting for a TM that crashed."""
        nodes = [n for group in self.topology().values() for n in group]
        lines = []
        for k, (act, _) in enumerate(trace.steps, start=1):
            why = {"tm_commit": "the TM decided commit (every RM prepared)", "tm_abort": "the TM decided abort",
                   "rm_choose_to_abort": f"{act.node} aborted on its own", "rm_on_commit": f"{act.node} committed "
                   "on the TM's Commit", "rm_on_abort": f"{act.node} aborted on the TM's Abort"}.get(act.name)
            if act.kind == "crash":
                why = f"{act.node} crashed"
            if why:
                lines.append(f"step {k}: {why}")
        last = trace.states[-1]
        waiting = [n for n, s in zip(nodes, last.locals) if isinstance(s, RmState) and s.phase == "prepared"]
        if "tm" in last.down and waiting:
            lines.append(f"{', '.join(waiting)} prepared and may decide only as the TM says: with the TM down "
                         f"they wait for ever (two-phase commit blocks)")
        return lines

    def diff_view(self, w):
        """What ``consensuslab diff`` compares: the set of decisions the RMs have reached."""
        return frozenset(s.phase for s in w.states(RM) if s.phase in ("committed", "aborted"))

    def done(self, w):
        """Every RM has decided: no further step is expected."""
        return all(s.phase in ("committed", "aborted") for s in w.states(RM))
