"""The Hypothesis bridge: finds the known bugs, shrinks, is deterministic, and agrees with BFS."""

from __future__ import annotations

import random
import unittest
from collections import deque
from typing import NamedTuple

import pytest
from hypothesis import settings

from consensuslab import check
from consensuslab.checkers.simulation.machine import Coverage, PropertyViolation, as_state_machine
from consensuslab.checkers.simulation.simulate import simulate
from consensuslab.checkers.simulation.successors import Successors
from consensuslab.checkers.simulation.walks import WALK_STALL, random_walks
from consensuslab.commands.replay import replay_file
from consensuslab.models.properties import always, always_step
from consensuslab.models.records import record
from consensuslab.models.spec import Spec, action
from consensuslab.protocols import configure
from consensuslab.testing import stateful_test
from consensuslab.traces.itf import write_trace
from consensuslab.traces.result import Trace, Violation
from consensuslab.traces.shrink import shrunk_violation


def model_of(name, params=None, variant=None, scenario=None):
    return configure(name, params or {}, variant, scenario).compile()


def assert_cut_at_violation(model, violation):
    """The trace ends at the first state (or step) where the property fails, as replay expects."""
    trace = violation.trace
    prop = model.property_named(violation.property)
    if violation.kind == "invariant":
        assert not model.holds(prop, trace.states[-1])
        assert all(model.holds(prop, s) for s in trace.states[:-1])


@pytest.mark.parametrize("name, variant, prop", [
    ("two-phase", "no-wait", "TCConsistent"),
    ("hash-chain", "unlinked", "tamper_detected"),
])
def test_broken_variant_found_with_default_settings_and_replays(tmp_path, name, variant, prop):
    model = model_of(name, variant=variant)
    result = simulate(model)
    assert result.status == "violation" and result.exit_code == 12
    v = result.violation
    assert v.property == prop and v.kind == "invariant"
    assert_cut_at_violation(model, v)
    shortest = len(check(model, progress=False).violation.trace)
    assert shortest <= len(v.trace) <= shortest + 2  # shrinking reaches (near) the BFS minimum
    assert len(v.trace) <= result.extra["unshrunk_length"]
    path = tmp_path / "t.itf.json"
    write_trace(str(path), model, v.trace, v, result.status)
    assert replay_file(str(path)).violation.property == prop


def _stable(result):
    out = result.to_json()
    for key in ("seconds", "states_per_second", "seconds_to_failure"):
        out.pop(key)
    return out, [str(a) for a in result.violation.trace.actions] if result.violation else None


def test_same_seed_same_result_and_other_seed_differs():
    model = model_of("two-phase", scenario="no-wait")
    a, b = simulate(model, 15, 20, seed=5), simulate(model, 15, 20, seed=5)
    assert _stable(a) == _stable(b)
    other = [_stable(simulate(model, 15, 20, seed=s)) for s in (6, 7)]
    assert any(o != _stable(a) for o in other)  # the seed really drives the search


def test_deadlock_reported_like_the_exhaustive_checker(tmp_path):
    model = model_of("two-phase-actors", scenario="coordinator-crash")
    result = simulate(model)
    assert result.status == "deadlock" and result.exit_code == 11
    last = result.violation.trace.states[-1]
    assert model.successors(last) == [] and not model.is_done(last)
    path = tmp_path / "d.itf.json"
    write_trace(str(path), model, result.violation.trace, result.violation, result.status)
    assert replay_file(str(path)).violation.kind == "deadlock"
    model.check_deadlock = False
    assert simulate(model, examples=20, steps=20).status == "ok"  # a terminal state just ends the run


def test_coverage_counts_and_names_what_never_fired():
    model = model_of("hash-chain", {"tampers": 0})
    result = simulate(model, examples=20, steps=10)
    assert result.status == "ok"
    cov = result.extra["coverage"]
    assert result.extra["never_fired"] == ["Tamper"]
    assert cov["kinds"] == {"step": result.extra["steps"]}
    assert sum(cov["actions"].values()) == result.extra["steps"] and set(cov["actions"]) == {"Append", "Verify"}
    assert result.extra["examples"] >= 20


def test_machine_has_one_rule_per_kind_and_one_invariant_per_always_property():
    from hypothesis.stateful import RuleBasedStateMachine

    actors = model_of("two-phase-actors", {"rm": 2})
    machine = as_state_machine(actors)
    assert issubclass(machine, RuleBasedStateMachine)
    state = machine.setup_state()
    names = {r.function.__name__ for r in state.rules}
    assert {"deliver", "local", "crash", "forge", "stutter"} <= names
    assert len(state.invariants) == len(actors.invariants) == 1
    spec_rules = {r.function.__name__ for r in as_state_machine(model_of("two-phase")).setup_state().rules}
    assert spec_rules == {"step", "stutter"}


class Counter(NamedTuple):
    n: int


class Ratchet(Spec):
    """A counter whose step property (never decreases) a Reset action breaks after a few Ups."""

    name = "ratchet"

    def init(self):
        yield Counter(0)

    @action
    def Up(self, s):
        if s.n < 6:
            return Counter(s.n + 1)

    @action
    def Reset(self, s):
        if s.n >= 3:
            return Counter(0)

    @always_step
    def monotone(self, before, act, after):
        return after.n >= before.n


def test_transition_property_trace_ends_at_the_breaking_step():
    model = Ratchet().compile()
    result = simulate(model, examples=200, steps=20)
    v = result.violation
    assert (v.property, v.kind) == ("monotone", "transition")
    assert [a.name for a in v.trace.actions] == ["Up", "Up", "Up", "Reset"]  # the shortest possible


def test_stateful_test_is_a_testcase_that_fails_with_the_rendered_trace():
    broken = stateful_test("hash-chain", variant="unlinked", max_examples=50, steps=10)
    assert issubclass(broken, unittest.TestCase) and broken.__name__.startswith("Test")
    broken.settings = settings(broken.settings, database=None)
    outcome = unittest.TestResult()
    broken("runTest").run(outcome)
    assert len(outcome.failures) + len(outcome.errors) == 1
    text = (outcome.failures + outcome.errors)[0][1]
    assert PropertyViolation.__name__ in text and "=> tamper_detected" in text and "Tamper(" in text
    fine = stateful_test("two-phase", params={"rm": 2}, max_examples=10, steps=10)
    fine.settings = settings(fine.settings, database=None)
    outcome = unittest.TestResult()
    fine("runTest").run(outcome)
    assert outcome.wasSuccessful()


# -- differential self-check against exhaustive search -------------------------------------
def explore(model):
    """Every reachable state, and every property some state or step violates (plus deadlock)."""
    seen = set(model.initial_states())
    queue, broken = deque(seen), set()
    while queue:
        state = queue.popleft()
        broken.update(p.name for p in model.invariants if not model.holds(p, state))
        out = model.successors(state)
        if not out and model.check_deadlock and not model.is_done(state):
            broken.add("deadlock")
        for act, nxt in out:
            broken.update(p.name for p in model.step_properties if not model.step_holds(p, state, act, nxt))
            if nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    return seen, broken


@pytest.mark.parametrize("name, params, variant, scenario", [
    ("two-phase", {"rm": 2}, None, None),
    ("two-phase", {"rm": 3}, None, None),
    ("two-phase", {}, None, "no-wait"),
    ("two-phase-actors", {"rm": 2}, None, None),
    ("two-phase-actors", {}, None, "coordinator-crash"),
    ("hash-chain", {}, None, None),
    ("hash-chain", {}, "unlinked", None),
])
def test_simulate_agrees_with_exhaustive_search(name, params, variant, scenario):
    model = model_of(name, params, variant, scenario)
    reachable, broken = explore(model)
    exhaustive = check(model, progress=False)
    if exhaustive.violation is None:
        assert exhaustive.distinct_states == len(reachable) and not broken
    else:
        assert exhaustive.violation.property in broken
    reached = []
    result = simulate(model, examples=300, steps=25, walks=2000, on_state=reached.append)
    assert reached and set(reached) <= reachable
    assert (result.violation is None) == (exhaustive.violation is None)
    if result.violation is not None:
        assert result.violation.property in broken
        assert set(result.violation.trace.states) <= reachable


# -- random walks before Hypothesis; the shrinker ------------------------------------------
class Deep(Spec):
    """A counter that must be raised 60 times in a row: any Reset on the way starts it over.

    Uniform choices (Up or Reset) get there with probability 2**-60; a walk that mutes
    Reset (swarm testing) always does, given more than 60 steps.
    """

    name = "deep"

    def init(self):
        yield Counter(0)

    @action
    def Up(self, s):
        return Counter(s.n + 1)

    @action
    def Reset(self, s):
        if s.n:
            return Counter(0)

    @always
    def shallow(self, s):
        return s.n < 60


def test_walks_with_muted_actions_find_a_bug_deeper_than_the_old_step_bound(tmp_path):
    model = Deep().compile()
    result = simulate(model, seed=3)
    x = result.extra
    assert result.status == "violation" and x["found_by"] == "walk"
    assert x["examples_to_failure"] <= 100 and x["walks"] == x["examples_to_failure"]
    assert x["hypothesis_examples"] == 0 and x["examples"] == x["walks"]
    assert [a.name for a in result.violation.trace.actions] == ["Up"] * 60  # shrunk to the shortest
    assert result.to_json()["violation"]["trace_length"] == 60


def test_a_walk_stops_once_it_only_goes_round_in_circles():
    from tiny_models import Ring

    model = Ring.configure({"size": 3}, None, None).compile()
    cov = Coverage()
    found = random_walks(model, 40, 100, random.Random(0), cov, Successors(model))
    assert found is None and cov.walks == cov.examples == 40 and len(cov.seen) == 3
    # each walk: two steps to states new to it, then WALK_STALL steps back to visited ones
    assert cov.steps == 40 * (2 + WALK_STALL) and cov.depth <= 2 + 2 + WALK_STALL


def test_walks_stop_at_the_distinct_state_bound_then_hypothesis_runs():
    model = model_of("two-phase", {"rm": 3})  # 288 states
    result = simulate(model, walks=10_000, walk_states=50, examples=3, steps=20, seed=1)
    x = result.extra
    assert result.status == "ok" and 0 < x["walks"] < 100 and x["max_walks"] == 10_000
    assert x["hypothesis_examples"] >= 3 and x["examples"] == x["walks"] + x["hypothesis_examples"]
    assert sum(x["coverage"]["actions"].values()) == x["steps"]


def test_same_seed_same_walks_and_trace():
    model = model_of("paxos", variant="no-promise-check")
    a, b = simulate(model, seed=9), simulate(model, seed=9)
    assert a.extra["found_by"] == "walk" and _stable(a) == _stable(b)
    assert a.distinct_states == b.distinct_states and a.extra["unshrunk_length"] == b.extra["unshrunk_length"]


@record
class Link(NamedTuple):
    n: int
    msg: str  # "", "req" or "resp": one message in flight at most
    done: bool


class Detour(Spec):
    """Finish needs one Up and an empty network; a request/response on the way is a detour."""

    name = "detour"

    def init(self):
        yield Link(0, "", False)

    @action
    def Up(self, s):
        if not s.n:
            return s._replace(n=1)

    @action
    def Send(self, s):
        if not s.msg:
            return s._replace(msg="req")

    @action
    def Reply(self, s):
        if s.msg == "req":
            return s._replace(msg="resp")

    @action
    def Ack(self, s):
        if s.msg == "resp":
            return s._replace(msg="")

    @action
    def Finish(self, s):
        if s.n and not s.msg:
            return s._replace(done=True)

    @always
    def unfinished(self, s):
        return not s.done


@pytest.mark.parametrize("names", [
    ["Send", "Reply", "Up", "Ack", "Finish"],  # no run of it can go: only Send with its consequences
    ["Send", "Reply", "Ack", "Send", "Reply", "Ack", "Up", "Send", "Reply", "Ack", "Finish"],  # loops
])
def test_shrink_cuts_detours_and_loops_that_deleting_runs_cannot(names):
    model = Detour().compile()
    initial = model.initial_states()[0]
    trace, state = Trace(initial), initial
    for name in names:
        act = next(a for a, _ in model.successors(state) if a.name == name)
        state = model.apply(state, act)
        trace.steps.append((act, state))
    shrunk = shrunk_violation(model, Violation("unfinished", "invariant", trace))
    assert [a.name for a in shrunk.trace.actions] == ["Up", "Finish"]
    assert (shrunk.property, shrunk.kind) == ("unfinished", "invariant")


def test_figure8_found_and_confirmed_by_replay(tmp_path):
    """Raft's Figure 8 (48 steps at the least) with default settings; seed 3 finds it in well under a second."""
    model = model_of("raft", scenario="figure8")
    result = simulate(model, seed=3)
    v = result.violation
    assert result.status == "violation" and v.property == "state_machine_safety"
    assert 48 <= len(v.trace) <= result.extra["unshrunk_length"] <= result.extra["max_steps"]
    path = tmp_path / "f8.itf.json"
    write_trace(str(path), model, v.trace, v, result.status)
    assert replay_file(str(path)).violation.property == "state_machine_safety"
