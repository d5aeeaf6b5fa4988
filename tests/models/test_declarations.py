"""Declarations checked: @initially, @refines, UNCHANGED (the lint), the old lanes hook, scenario defaults."""

from typing import NamedTuple

import pytest

from consensuslab import (
    ModelError, Param, Protocol, Scenario, Spec, action, always, check, initial, initially, local, record, refines,
    state,
)
from consensuslab.checkers.replay import replay_document
from consensuslab.checkers.search.lint import lint
from consensuslab.traces.itf import trace_document


@record
class Count(NamedTuple):
    x: int


class Abstract(Spec):
    """``x`` counts up from 0: Init == x = 0, Next == x' = x + 1 (never explored, only asked)."""

    name = "abstract"
    params = {"start": Param(0)}

    def init(self):
        yield Count(self.start)

    @action
    def Inc(self, s):
        return s._replace(x=s.x + 1)


@record
class Two(NamedTuple):
    a: int
    b: int


class Concrete(Spec):
    """Two counters whose sum is the abstract counter."""

    name = "concrete"
    params = {"limit": Param(2)}
    variants = {"decrement": "a step maps to x - 1, no step of Abstract",
                "late-start": "starts at a = 1: no initial state of Abstract"}

    def init(self):
        yield Two(1 if self.variant == "late-start" else 0, 0)

    @action(unchanged=("b",))
    def IncA(self, s):
        if s.a < self.limit:
            return s._replace(a=s.a + 1)

    @action(unchanged=("a",))
    def IncB(self, s):
        if s.b < self.limit:
            return s._replace(b=s.b + 1)

    @action
    def DecA(self, s):
        if self.variant == "decrement" and s.a > 0:
            return s._replace(a=s.a - 1)

    @refines(Abstract, params=lambda self: {"start": 0})
    def Counter(self, s):
        return Count(s.a + s.b)

    @initially
    def starts_empty(self, s):
        return s.a == 0

    def done(self, s):
        return s.a == s.b == self.limit


def test_a_refinement_holds():
    model = Concrete().compile()
    r = check(model, progress=False)
    assert (r.status, r.distinct_states) == ("ok", 9)
    assert r.properties == {"Counter_init": "holds", "starts_empty": "holds", "Counter_step": "holds"}
    assert r.extra["engine"] == "interpreted"  # the step half is a transition property


class CountedConcrete(Concrete):
    """``Concrete`` whose mapping counts its calls."""

    name = "counted-concrete"

    def setup(self):
        self.mapped = 0

    @refines(Abstract, params=lambda self: {"start": 0})
    def Counter(self, s):
        self.mapped += 1
        return Count(s.a + s.b)


def test_a_state_is_mapped_once_for_all_the_steps_that_leave_it():
    """12 steps leave 8 of the 9 states: each step maps its target, and each state left is mapped once, not once
    a step (that would be 24 calls for the steps)."""
    spec = CountedConcrete()
    r = check(spec.compile(), progress=False, engine="interpreted")
    assert (r.status, r.distinct_states, r.properties["Counter_step"]) == ("ok", 9, "holds")
    assert spec.mapped <= 1 + 12 + 8  # the initial state's check, the steps' targets, the states left


def test_a_step_that_is_no_abstract_step_is_found_and_replays():
    model = Concrete(variant="decrement").compile()
    r = check(model, progress=False)
    assert r.status == "violation" and r.violation.property == "Counter_step" and r.violation.kind == "transition"
    assert [str(a) for a, _ in r.violation.trace.steps] == ["IncA", "DecA"]
    replayed = replay_document(trace_document(model, r.violation.trace, r.violation), Concrete(variant="decrement").compile())
    assert replayed.violation.property == "Counter_step"


def test_initial_state_predicates_fail_on_the_initial_state():
    r = check(Concrete(variant="late-start").compile(), progress=False)
    assert r.status == "violation" and r.violation.property == "Counter_init" and len(r.violation.trace) == 0
    assert r.properties["Counter_init"] == "violated" and r.properties["starts_empty"] == "unknown"
    lone = Concrete(variant="late-start").compile()
    lone.select_properties(["starts_empty"])
    r = check(lone, progress=False)
    assert r.violation.property == "starts_empty" and r.violation.trace.states == [Two(1, 0)]


class Toggle(Spec):
    name = "toggle"

    def init(self):
        yield Count(0)

    @action
    def Flip(self, s):
        return s._replace(x=1 - s.x)

    @initially
    def starts_at_zero(self, s):
        return s.x == 0

    @initially
    def starts_at_one(self, s):
        return s.x == 1


def test_initially_is_only_about_initial_states_and_keeps_the_compiled_engine():
    model = Toggle().compile()
    model.select_properties(["starts_at_zero"])
    r = check(model, progress=False, engine="compiled")  # auto answers a model this small in its interpreted probe
    assert (r.status, r.distinct_states, r.extra["engine"]) == ("ok", 2, "compiled")  # x = 1 is reached, fine
    model = Toggle().compile()
    model.select_properties(["starts_at_one"])
    r = check(model, progress=False)
    assert r.status == "violation" and r.violation.property == "starts_at_one" and len(r.violation.trace) == 0


# -- UNCHANGED ------------------------------------------------------------------------------------
def test_unchanged_is_checked_on_every_step_the_lint_explores():
    assert lint(Concrete().compile()) == []

    class Wrong(Concrete):
        name = "wrong"

        @action(unchanged=("b",))
        def IncA(self, s):
            if s.a < self.limit:
                return s._replace(a=s.a + 1, b=s.b)  # fine: b' = b

        @action(unchanged=("a",))
        def IncB(self, s):
            if s.b < self.limit:
                return Two(s.b + 1, s.b + 1)  # a typo: a' = b + 1

    with pytest.raises(ModelError, match=r"^wrong: action IncB changes a, which it declares unchanged \(UNCHANGED\); "
                                         r"remove it from unchanged=, or do not assign it$"):
        lint(Wrong().compile())


def test_a_variable_never_assigned_is_warned_about():
    class Forgot(Concrete):
        name = "forgot"

        @action(unchanged=())
        def IncB(self, s):  # meant to assign b; returns the state unchanged
            if s.b < self.limit:
                return s._replace(b=s.b)

    warnings = lint(Forgot().compile())
    assert any(w.startswith("forgot: action IncB changed nothing in its") for w in warnings), warnings

    class Half(Concrete):
        name = "half"

        @action(unchanged=())
        def IncA(self, s):  # meant to assign a and b (it does not declare b unchanged); b is forgotten
            if s.a < self.limit:
                return s._replace(a=s.a + 1)

    warnings = lint(Half().compile())
    assert len(warnings) == 1 and warnings[0].startswith("half: action IncA never changed b in its")
    assert "does not declare it unchanged: an assignment forgotten? (or add to unchanged=)" in warnings[0]


def test_a_declared_stutter_is_not_warned_about():
    """TLA+'s ``Terminate == Done /\\ UNCHANGED vars`` keeps every variable on purpose; the same step with a
    variable left out of ``unchanged=`` is the forgotten assignment the lint warns of."""
    class Terminating(Concrete):
        name = "terminating"

        @action(unchanged=("a", "b"))
        def Terminate(self, s):
            if s.a == self.limit:
                return s

    class Forgetting(Terminating):
        name = "forgetting"

        @action(unchanged=("a",))
        def Terminate(self, s):
            if s.a == self.limit:
                return s

    assert not [w for w in lint(Terminating().compile()) if "Terminate" in w]
    warned = [w for w in lint(Forgetting().compile()) if "Terminate" in w]
    assert len(warned) == 1 and warned[0].startswith("forgetting: action Terminate changed nothing in its"), warned


def test_unchanged_names_a_variable():
    class Typo(Concrete):
        name = "typo"

        @action(unchanged=("c",))
        def IncA(self, s):
            return None

    with pytest.raises(ModelError, match=r"^typo: action IncA: unchanged names 'c', which is not a variable "
                                         r"\(variables: a, b\)$"):
        lint(Typo().compile())


# -- the old lanes hook --------------------------------------------------------------------------
def test_an_old_lanes_hook_is_named_in_a_warning():
    class Lanes(Concrete):
        name = "lanes"

        def lanes(self, act):
            return ("a", [])

    warnings = lint(Lanes().compile())
    assert any(w.startswith("lanes: the lanes(action) hook is no longer read") for w in warnings)
    assert not any("lanes(action)" in w for w in lint(Concrete().compile()))


# -- scenarios follow the class's check_deadlock ---------------------------------------------------
class Stops(Spec):
    name = "stops"
    check_deadlock = False
    scenarios = (Scenario("default"), Scenario("strict", deadlock=True))

    def init(self):
        yield Count(0)

    @action
    def Once(self, s):
        if s.x == 0:
            return s._replace(x=1)

    @always
    def small(self, s):
        return s.x <= 1


def test_a_scenario_follows_the_classs_check_deadlock_unless_it_says():
    assert check(Stops.configure(scenario="default").compile(), progress=False).status == "ok"
    assert check(Stops.configure(scenario="strict").compile(), progress=False).status == "deadlock"
    assert check(Stops().compile(), progress=False).status == "ok"


# -- actor protocols: ctx.me and friends ----------------------------------------------------------
@state
class Mine:
    me: str = ""


class WhoAmI(Protocol):
    name = "who-am-i"

    def topology(self):
        return {"node": ("n1", "n2")}

    @initial("node")
    def node_init(self, ctx):
        return Mine()

    @local("node")
    def node_learn(self, s, ctx):
        if not s.me:
            return Mine(ctx.me), ()

    @always
    def each_knows_itself(self, w):
        return all(s.me in ("", n) for n, s in w.items("node"))

    def done(self, w):
        return all(s.me for s in w.states("node"))


def test_ctx_me_is_the_node_taking_the_step():
    r = check(WhoAmI().compile(), progress=False)
    assert (r.status, r.distinct_states) == ("ok", 4)


# -- scenarios and fairness that name what does not exist ------------------------------------------
def test_a_scenario_naming_an_unknown_property_is_one_line():
    class Typo(Stops):
        name = "typo"
        scenarios = (Scenario("s", properties=("smal",)),)

    with pytest.raises(ModelError, match=r"^typo: scenario s names property 'smal', which is not one of its "
                                         r"properties \(small\); fix Scenario\(properties=\.\.\.\)$"):
        Typo.configure(scenario="s").compile()


@pytest.mark.parametrize("fair,message", [
    ("role", r"^who-am-i: Fair\(.*\) names role 'nodes', which is not in the topology \(node\)$"),
    ("name", r"^who-am-i: Fair\(.*\) names 'node_lean', which is no local handler; local handlers: node_learn$"),
])
def test_an_actor_fairness_naming_what_is_not_there_is_one_line(fair, message):
    from consensuslab import Fair

    class Unfair(WhoAmI):
        fairness = (Fair("local", role="nodes"),) if fair == "role" else (Fair("local", "node_lean"),)

    with pytest.raises(ModelError, match=message):
        lint(Unfair().compile())
