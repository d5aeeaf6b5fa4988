"""The Hypothesis bridge: finds the known bugs, shrinks, is deterministic, and agrees with BFS."""

from __future__ import annotations

import unittest
from collections import deque
from typing import NamedTuple

import pytest
from hypothesis import settings

from consensuslab.checkers.explicit import check
from consensuslab.checkers.replay import replay_file
from consensuslab.checkers.stateful import PropertyViolation, as_state_machine, simulate
from consensuslab.models.itf import write_trace
from consensuslab.models.properties import always_step
from consensuslab.models.spec import Spec, action
from consensuslab.protocols import configure
from consensuslab.testing import stateful_test


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
    result = simulate(model, examples=300, steps=25, on_state=reached.append)
    assert reached and set(reached) <= reachable
    assert (result.violation is None) == (exhaustive.violation is None)
    if result.violation is not None:
        assert result.violation.property in broken
        assert set(result.violation.trace.states) <= reachable
