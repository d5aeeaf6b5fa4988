"""Byzantine generals: OM(m) and SM(m) reproduce the paper's results, with replayable counterexamples."""

import pytest

from consensuslab import check
from consensuslab.protocols import protocol_class
from consensuslab.protocols.byzantine_generals import ATTACK, RETREAT, OMState, OralMessages, majority
from consensuslab.protocols.byzantine_signed import SignedMessages, choice

from replaying import replay_states


def run(cls, scenario, **kw):
    model = cls.configure(scenario=scenario, **kw).compile()
    return model, check(model, progress=False, time_limit=60)


def replay_violates(model, result, prop):
    """Re-execute the counterexample from its initial state; only the last state breaks ``prop``."""
    trace = result.violation.trace
    fn = model.property_named(prop).fn
    state = replay_states(model, trace)[-1]
    assert all(fn(s) for s in trace.states[:-1])
    assert not fn(state)
    return trace


def test_registry_names():
    assert protocol_class("byzantine-generals") is OralMessages
    assert protocol_class("byzantine-generals-signed") is SignedMessages


def test_majority_and_choice_default_to_retreat():
    assert majority([ATTACK, RETREAT]) == RETREAT
    assert majority([ATTACK, ATTACK, RETREAT]) == ATTACK
    assert majority([]) == RETREAT
    assert choice(frozenset({ATTACK})) == ATTACK
    assert choice(frozenset({ATTACK, RETREAT})) == RETREAT
    assert choice(frozenset()) == RETREAT


def test_every_traitor_placement_is_an_initial_state():
    model = OralMessages.configure(params={"n": 4, "m": 1}).compile()
    inits = model.initial_states()
    # a traitor commander (no order), or one of 3 traitor lieutenants under each of 2 orders
    assert len(inits) == 1 + 3 * 2
    assert {s.traitors for s in inits} == {frozenset({k}) for k in range(4)}


def test_om1_outvotes_a_lying_lieutenant():
    """Lieutenant 3 lies to both others; the majority of (attack, attack, retreat) is attack."""
    spec = OralMessages.configure(params={"n": 4, "m": 1})
    model = spec.compile()
    s = OMState(frozenset({3}), ATTACK, 0, ("",) * len(spec.pos), ())
    for act in ("Round", "Round", ("TraitorSends", RETREAT), ("TraitorSends", RETREAT), "Decide"):
        name, args = (act, ()) if isinstance(act, str) else (act[0], act[1:])
        s = next(nxt for a, nxt in model.successors(s) if a.name == name and a.args == args)
    assert s.decision[1] == s.decision[2] == ATTACK


def test_n3m1_violates_ic2_with_a_loyal_commander():
    model, r = run(OralMessages, "n3m1")
    assert r.status == "violation" and r.violation.property == "IC2"
    trace = replay_violates(model, r, "IC2")
    assert len(trace) == 4
    final = trace.states[-1]
    assert 0 not in final.traitors  # the commander is loyal; a lieutenant lied


def test_n3m1_ic1_alone_holds():
    _, r = run(OralMessages, "n3m1-ic1")
    assert r.status == "ok" and r.distinct_states == 44


def test_n4m1_holds_for_every_placement():
    _, r = run(OralMessages, "n4m1")
    assert r.status == "ok" and r.distinct_states == 110
    assert r.properties["loyal_attack"] == "witnessed"


@pytest.mark.parametrize("scenario,prop,length", [("n4m0", "IC1", 5), ("n4m1-two-traitors", "IC2", 5)])
def test_too_few_rounds_or_too_many_traitors_are_caught(scenario, prop, length):
    model, r = run(OralMessages, scenario)
    assert r.status == "violation" and r.violation.property == prop
    assert len(replay_violates(model, r, prop)) == length


def test_n7m2_is_beyond_exhaustive_search_but_never_reported_ok():
    model = OralMessages.configure(scenario="n7m2").compile()
    r = check(model, progress=False, max_states=20_000)
    assert r.status == "incomplete" and r.violation is None


def test_sm1_holds_with_three_generals():
    _, r = run(SignedMessages, "n3m1")
    assert r.status == "ok" and r.distinct_states == 79
    assert r.properties["both_orders_held"] == "witnessed"


def test_sm2_holds_with_two_traitors_of_four():
    _, r = run(SignedMessages, "n4m2")
    assert r.status == "ok" and r.distinct_states == 2901


def test_sm0_with_a_traitor_splits_the_lieutenants():
    model, r = run(SignedMessages, "n3m0")
    assert r.status == "violation" and r.violation.property == "IC1"
    trace = replay_violates(model, r, "IC1")
    assert len(trace) == 6 and 0 in trace.states[-1].traitors
