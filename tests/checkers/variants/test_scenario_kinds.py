"""A scenario says what it is for: exhaustive (with its count), bounded (a state or depth budget) or
simulated (seeded random walks); each kind is run and judged as it says, and bad declarations are refused."""

from typing import NamedTuple

import pytest

from consensuslab import Scenario, Spec, action, always
from consensuslab.checkers.variants.expect import FAIL, INCOMPLETE, PASS, judge, run_scenario
from consensuslab.models.scenario import EXHAUSTIVE, KINDS
from consensuslab.protocols import available, protocol_class
from consensuslab.traces.result import CheckResult


class S(NamedTuple):
    n: int


class Counter(Spec):
    """Counts up to ``top``; the invariant breaks at ``bad`` (never, by default)."""

    name = "counter"
    params = {}
    scenarios = (
        Scenario("bounded-ok", "the first 10 states only", kind="bounded", max_states=10),
        Scenario("bounded-finds", "the break at 5 lies within the bound", {}, variant="breaks",
                 kind="bounded", max_depth=8, expect="violation", expect_property="below_bad"),
        Scenario("bounded-misses", "the break at 5 lies beyond the bound of 3 steps", variant="breaks",
                 kind="bounded", max_depth=3, expect="violation", expect_property="below_bad"),
        Scenario("bounded-whole", "a bound larger than the state space", kind="bounded", max_states=10_000),
        Scenario("walks-ok", "random walks find nothing to find", kind="simulate", walks=30, steps=20, examples=5),
        Scenario("walks-find", "random walks reach the break", variant="breaks", kind="simulate", walks=30,
                 steps=20, examples=5, expect="violation", expect_property="below_bad"),
    )
    variants = {"breaks": "the invariant fails at 5"}

    def init(self):
        yield S(0)

    @action
    def Inc(self, s):
        if s.n < 200:
            return S(s.n + 1)

    @always
    def below_bad(self, s):
        return self.variant != "breaks" or s.n < 5

    def done(self, s):
        return True


def test_a_bounded_ok_means_nothing_within_the_bound_and_says_so():
    out = run_scenario(Counter, "bounded-ok")
    assert out.verdict == PASS, out.message
    assert out.result.status == "incomplete" and out.result.stopped_by == "max-states"
    assert "nothing found in" in out.message and "up to the bound (max-states)" in out.message


def test_a_bound_larger_than_the_space_covers_it_all():
    out = run_scenario(Counter, "bounded-whole")
    assert out.verdict == PASS and out.result.status == "ok" and out.states == 201
    assert "the whole state space" in out.message


def test_a_bounded_expected_violation_must_show_within_the_bound():
    found = run_scenario(Counter, "bounded-finds")
    assert found.verdict == PASS and "violation of below_bad found as expected" in found.message
    missed = run_scenario(Counter, "bounded-misses")
    assert missed.verdict == FAIL
    assert missed.message.startswith("expected violation of below_bad, got ok: nothing found in 4 states, depth 3")


def test_simulated_scenarios_run_seeded_walks():
    ok = run_scenario(Counter, "walks-ok")
    assert ok.verdict == PASS and ok.result.search == "simulate"
    assert "nothing found in 30 random walks" in ok.message and "seed 0" in ok.message
    found = run_scenario(Counter, "walks-find")
    assert found.verdict == PASS and found.result.violation.property == "below_bad"
    assert found.message.endswith("(5 steps, replays)")  # shrunk to the shortest, and replayed
    again = run_scenario(Counter, "walks-ok")
    assert again.states == ok.states  # same seed, same walks


def test_a_time_limit_stop_is_incomplete_even_for_a_bounded_kind():
    r = CheckResult(status="incomplete", model_meta={}, distinct_states=7, states_generated=7, depth=2,
                    seconds=1.0, stopped_by="time-limit")
    assert judge(r, "ok", None, None, "bounded")[0] == INCOMPLETE
    r.stopped_by = "max-states"
    assert judge(r, "ok", None, None, "bounded")[0] == PASS
    assert judge(r, "ok", None, None, EXHAUSTIVE)[0] == INCOMPLETE  # an exhaustive claim cannot stop at a bound


@pytest.mark.parametrize("kwargs,problem", [
    ({"kind": "fuzz"}, "kind must be one of exhaustive, bounded, simulate, not 'fuzz'"),
    ({"kind": "bounded"}, "kind='bounded' needs max_states=N or max_depth=N"),
    ({"walks": 10}, "walks is a bound of kind='simulate', not of kind='exhaustive'"),
    ({"kind": "simulate", "max_states": 5}, "max_states is a bound of kind='bounded', not of kind='simulate'"),
    ({"max_depth": 4}, "max_depth bounds the search: say kind='bounded'"),
    ({"kind": "bounded", "max_states": 9, "states": 9}, "states pins the count of an exhaustive search"),
    ({"kind": "simulate", "expect": "liveness"}, "expect='liveness' needs kind='exhaustive'"),
])
def test_bounds_that_do_not_fit_the_kind_are_refused(kwargs, problem):
    with pytest.raises(ValueError) as err:
        Scenario("mine", **kwargs)
    assert str(err.value).startswith("scenario mine: ") and problem in str(err.value)


def _bundled():
    for name in available():
        for s in protocol_class(name).scenarios:
            yield name, s


def test_every_bundled_scenario_says_what_it_is_for():
    """Exhaustive ``ok`` scenarios pin their count; the others are bounded or simulated, never open-ended."""
    seen_kinds = set()
    for name, s in _bundled():
        assert s.kind in KINDS
        seen_kinds.add(s.kind)
        if s.kind == EXHAUSTIVE and s.expect == "ok":
            assert s.states is not None, f"{name}:{s.name} is exhaustive and ok but pins no state count"
    assert "simulate" in seen_kinds  # byzantine-generals n7m2: 2^40 strategies, beyond exhaustive search
    n7m2 = protocol_class("byzantine-generals").scenario_named("n7m2")
    assert n7m2.kind == "simulate" and n7m2.walks
