"""Liveness under fairness: tiny graphs with known answers, partial synchrony, two-phase through the CLI."""

import json
from typing import NamedTuple

import pytest

from consensuslab.checkers.liveness.check import check_liveness, confirm_lasso
from consensuslab.errors import ReplayError, UsageError
from consensuslab.models.effects import just, send
from consensuslab.models.fairness import Fair
from consensuslab.models.network import PartialSynchrony, Unordered
from consensuslab.models.params import Param
from consensuslab.models.properties import always_eventually, eventually, leads_to
from consensuslab.models.protocol import Protocol, handles, initial
from consensuslab.models.records import message, record, state
from consensuslab.models.scenario import Scenario
from consensuslab.models.spec import Spec, action
from consensuslab.protocols.two_phase_actors import TwoPhaseActors

from clirun import cli, cli_json


@record
class N(NamedTuple):
    n: int


class Loop(Spec):
    """0 <-> 1 by Flip, 1 -> 2 by Finish (2 is final); fairness of each chosen by parameter."""

    name = "loop"
    params = {"flip": Param("none"), "finish": Param("none"), "exit": Param(True)}

    def setup(self):
        self.fairness = tuple(Fair("step", name, strength=how)
                              for name, how in (("Flip", self.flip), ("Finish", self.finish)) if how != "none")

    def init(self):
        yield N(0)

    @action
    def Flip(self, s):
        if s.n < 2:
            return N(1 - s.n)

    @action
    def Finish(self, s):
        if s.n == 1 and self.exit:
            return N(2)

    def done(self, s):
        return s.n == 2

    @eventually
    def finished(self, s):
        return s.n == 2

    @always_eventually
    def at_one(self, s):
        return s.n >= 1

    @leads_to("at_one")
    def back_to_zero(self, s):
        return s.n == 0


def run(**params):
    model = Loop(params).compile()
    return model, check_liveness(model)


def test_without_fairness_the_behaviour_may_stop_at_once():
    model, r = run()
    assert r.exit_code == 13 and r.violation.property == "finished"
    assert r.violation.trace.loop == 0 and len(r.violation.trace) == 0  # stutters in the initial state
    confirm_lasso(model, r.violation.trace, "finished")


def test_weak_fairness_on_the_cycle_gives_a_two_state_lasso():
    model, r = run(flip="weak")
    t = r.violation.trace
    assert [a.name for a in t.actions] == ["Flip", "Flip"] and t.loop == 0
    assert t.states[-1] == t.states[t.loop]
    confirm_lasso(model, t, "finished")
    assert r.properties["at_one"] == "holds"  # the fair cycle passes 1 forever


def test_weak_fairness_is_not_enough_for_an_intermittently_enabled_exit():
    _, r = run(flip="weak", finish="weak")  # Finish is disabled in state 0 on every round
    assert r.properties["finished"] == "violated"
    assert [a.name for a in r.violation.trace.actions] == ["Flip", "Flip"]


def test_strong_fairness_forces_the_exit():
    _, r = run(flip="weak", finish="strong")
    assert r.properties["finished"] == "holds" and r.properties["at_one"] == "holds"
    assert r.properties["back_to_zero"] == "violated"  # 1 ~> 0 fails: from 1 it may Finish


class Chain(Spec):
    """0 - 1 - 2 by Left/Right (weakly fair); Exit to 3 (strongly fair) from 2, or from 1 and 2."""

    name = "chain"
    params = {"exit_from": Param(2), "bail": Param(False)}
    fairness = (Fair("step", "Left"), Fair("step", "Right"), Fair("step", "Exit", strength="strong"),
                Fair("step", "Bail"))

    def init(self):
        yield N(0)

    @action
    def Right(self, s):
        if s.n < 2:
            return N(s.n + 1)

    @action
    def Left(self, s):
        if 0 < s.n < 3:
            return N(s.n - 1)

    @action
    def Exit(self, s):
        if self.exit_from <= s.n < 3:
            return N(3)

    @action
    def Bail(self, s):
        if self.bail and s.n < 2:
            return N(3)

    def done(self, s):
        return s.n == 3

    @eventually
    def out(self, s):
        return s.n == 3


def test_strong_fairness_refines_an_scc_into_a_fair_part():
    # {0,1,2} is unfair (Exit enabled at 2, never taken); removing 2 leaves {0,1}, which is fair
    model = Chain({}).compile()
    r = check_liveness(model)
    t = r.violation.trace
    assert [a.name for a in t.actions] == ["Right", "Left"] and {s.n for s in t.states} == {0, 1}
    confirm_lasso(model, t, "out")
    assert check_liveness(Chain({"exit_from": 1}).compile()).status == "ok"  # nothing fair is left


def test_the_cycle_is_fair_on_its_own_states():
    # Bail is enabled in 0 and 1 but not in 2: {0,1,2} is fair, yet the cycle 0-1-0 is not, so
    # the lasso must pass through 2
    model = Chain({"exit_from": 9, "bail": True}).compile()
    t = check_liveness(model).violation.trace
    assert 2 in {s.n for s in t.states[t.loop:]}
    confirm_lasso(model, t, "out")
    right, left = t.actions[0], next(a for a in t.actions if a.name == "Left")
    t.steps, t.loop = [(right, N(1)), (left, N(0))], 0  # 0 -> 1 -> 0: Bail always enabled, never taken
    with pytest.raises(ReplayError, match="weak fairness of 'Bail'"):
        confirm_lasso(model, t, "out")


def test_vacuous_goal_is_flagged():
    class Vacuous(Chain):
        @eventually
        def trivially(self, s):
            return s.n >= 0

    r = check_liveness(Vacuous({"exit_from": 1}).compile())
    assert any(w.startswith("trivially:") and "vacuous" in w for w in r.extra["warnings"])
    assert not any(w.startswith("out:") for w in r.extra["warnings"])


def test_a_dead_end_is_a_lasso_of_no_steps():
    model, r = run(flip="weak", finish="strong", exit=False)
    assert r.properties["finished"] == "violated"
    _, r2 = run(exit=False, flip="weak")
    assert r2.violation.trace.loop == 0
    # with Flip unfair and Finish impossible, stopping anywhere is fair; with Flip fair it is not:
    t = r2.violation.trace
    t.steps, t.loop = [], 0
    with pytest.raises(ReplayError, match="step 0: .*not a fair behaviour"):
        confirm_lasso(model, t, "finished")


def test_leads_to_reports_the_trigger_state_and_a_fair_cycle():
    model, r = run(flip="weak", finish="strong")
    assert r.violation.property == "back_to_zero"
    t = r.violation.trace
    assert t.loop == len(t) and t.states[-1] == N(2)  # 0 -> 1 (trigger) -> 2, which never returns to 0
    confirm_lasso(model, t, "back_to_zero")


# -- partial synchrony --------------------------------------------------------------
@message
class Ping:
    pass


@state
class Box:
    got: bool = False


class PingPong(Protocol):
    name = "ping"
    scenarios = (
        Scenario("gst", network=PartialSynchrony(Unordered(), drops=False)),
        Scenario("no-gst", network=PartialSynchrony(Unordered(), drops=False, eventual=False)),
        Scenario("lossy", network=PartialSynchrony(Unordered(), drops=True)),
    )

    def topology(self):
        return {"a": ("a",), "b": ("b",)}

    @initial("a")
    def a_init(self, ctx):
        return Box(), send("b", Ping())

    @initial("b")
    def b_init(self, ctx):
        return Box()

    @handles("b", Ping)
    def b_on_ping(self, s, m, ctx):
        return just(Box(True))

    @eventually
    def delivered(self, w):
        return w["b"].got

    def done(self, w):
        return w["b"].got


@pytest.mark.parametrize("scenario,expect,steps", [("gst", "ok", None), ("no-gst", "violation", 0),
                                                   ("lossy", "violation", 2)])
def test_partial_synchrony(scenario, expect, steps):
    model = PingPong.configure(scenario=scenario).compile()
    r = check_liveness(model)
    assert r.status == expect
    if steps is not None:
        t = r.violation.trace
        assert len(t) == steps and t.loop == steps
        if scenario == "lossy":  # lost before GST, then GST: nothing left to deliver
            assert sorted(a.kind for a in t.actions) == ["drop", "gst"]
        confirm_lasso(model, t, "delivered")


def test_symmetry_is_refused():
    with pytest.raises(UsageError, match="symmetry"):
        check_liveness(Loop({}).compile(), symmetry=True)


def test_limits_make_liveness_incomplete():
    model = PingPong.configure(scenario="gst").compile()
    r = check_liveness(model, max_states=2)
    assert r.status == "incomplete" and r.exit_code == 3 and r.properties["delivered"] == "unknown"


# -- every scenario that names a liveness property gives its declared outcome ------
def _liveness_scenarios():
    from consensuslab.models.properties import LIVENESS_KINDS, collect_properties
    from consensuslab.protocols import available, protocol_class

    for name in available():
        cls = protocol_class(name)
        for sc in cls.scenarios:
            if not sc.properties:
                continue
            kinds = {p.name: p.kind for p in collect_properties(cls.configure(scenario=sc.name))}
            if any(kinds.get(n) in LIVENESS_KINDS for n in sc.properties):
                yield pytest.param(cls, sc, id=f"{name}:{sc.name}")


@pytest.mark.parametrize("cls,scenario", list(_liveness_scenarios()))
def test_liveness_scenario_outcome(cls, scenario):
    model = cls.configure(scenario=scenario.name).compile()
    r = check_liveness(model, max_depth=scenario.max_depth, time_limit=120)
    assert r.status != "incomplete", r.stopped_by
    if scenario.expect == "liveness":
        assert r.violation.kind == "liveness"
        if scenario.expect_property:
            assert r.violation.property == scenario.expect_property
        confirm_lasso(model, r.violation.trace, r.violation.property)
    else:
        assert all(v == "holds" for v in r.properties.values()), r.properties
    if scenario.states is not None:
        assert r.distinct_states == scenario.states


# -- two-phase commit ------------------------------------------------------------
def test_two_phase_needs_the_declared_fairness():
    class Lazy(TwoPhaseActors):
        fairness = ()  # nothing obliges the TM or the RMs to act

    r = check_liveness(Lazy.configure(scenario="fair").compile())
    assert r.properties["all_decide"] == "violated" and len(r.violation.trace) == 0
    assert check_liveness(TwoPhaseActors.configure(scenario="fair").compile()).status == "ok"


def test_fair_scenario_exit_0():
    proc, out = cli_json("check", "two-phase-actors", "--scenario", "fair")
    assert proc.returncode == 0, proc.stderr
    assert out["properties"]["all_decide"] == "holds" and out["distinct_states"] == 288
    assert out["warnings"] == [] and out["incomplete"] is False


def test_coordinator_crash_blocks_exit_13_and_replays(tmp_path):
    trace = tmp_path / "blocked.itf.json"
    proc, out = cli_json("check", "two-phase-actors", "--scenario", "coordinator-crash",
                         "--property", "all_decide", "--trace-out", trace)
    assert proc.returncode == 13, proc.stdout + proc.stderr
    assert out["violation"]["kind"] == "liveness" and out["violation"]["property"] == "all_decide"
    doc = json.loads(trace.read_text())
    assert doc["loop"] == len(doc["states"]) - 1  # a dead end: the behaviour stops there
    last = doc["states"][-1]
    assert last["crashed"] == {"#set": ["tm"]}
    assert cli("replay", trace).returncode == 13
    # tampered: drop the crash, so the TM could still decide, and stop there
    doc["states"] = doc["states"][:-1]
    doc["loop"] = len(doc["states"]) - 1
    bad = tmp_path / "tampered.itf.json"
    bad.write_text(json.dumps(doc))
    replay = cli("replay", bad)
    assert replay.returncode == 1 and "not a fair behaviour" in replay.stdout, replay.stdout


def test_liveness_off_by_default_in_coordinator_crash_keeps_the_deadlock():
    assert cli("check", "two-phase-actors", "--scenario", "coordinator-crash").returncode == 11


def test_a_lasso_through_the_goal_or_not_closed_is_rejected():
    model = Loop({"flip": "weak"}).compile()
    t = check_liveness(model).violation.trace
    flip = t.actions[0]
    finish = next(a for a, _ in model.successors(N(1)) if a.name == "Finish")
    t.steps, t.loop = [(flip, N(1)), (finish, N(2))], 2
    with pytest.raises(ReplayError, match="step 2: the goal of finished holds"):
        confirm_lasso(model, t, "finished")
    t.steps, t.loop = [(flip, N(1))], 0  # claims a cycle 0 -> 1 that never returns to 0
    with pytest.raises(ReplayError, match="step 1: the last state is not the state at the loop start"):
        confirm_lasso(model, t, "finished")


def test_pbft_after_gst_commits_but_not_without_view_change_timers():
    from consensuslab.protocols.pbft import PBFT

    r = check_liveness(PBFT.configure(scenario="after-gst").compile())
    assert r.properties["request_eventually_committed"] == "holds" and r.distinct_states == 11808

    class NoTimers(PBFT):  # a Byzantine primary that stays silent is never replaced
        fairness = tuple(f for f in PBFT.fairness if f.name != "StartViewChange")

    model = NoTimers.configure(scenario="default").compile()
    r = check_liveness(model)
    assert r.properties["request_eventually_committed"] == "violated"
    confirm_lasso(model, r.violation.trace, "request_eventually_committed")
