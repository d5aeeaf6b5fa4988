"""Nakamoto consensus: every scenario to its expected outcome, counterexamples replayed,
and the hashcash proofs checked against hashlib directly."""

from __future__ import annotations

import hashlib

import pytest

from consensuslab import check
from consensuslab.models.action import Action
from consensuslab.protocols import hashcash
from consensuslab.protocols.hashcash import GENESIS, Block
from consensuslab.protocols.nakamoto import Nakamoto

SCENARIOS = {s.name: s for s in Nakamoto.scenarios}


def run(name: str, **params):
    model = Nakamoto.configure(params, scenario=name).compile()
    return model, check(model, progress=False)


def replay(model, trace):
    """Re-execute a counterexample by action values; returns the (before, action, after) of its last step."""
    state = trace.initial
    assert state in model.initial_states()
    before = None
    for act, recorded in trace.steps:
        before, state = state, model.apply(state, act)
        assert state == recorded
    return before, trace.steps[-1][0], state


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_scenario_outcome_and_pinned_states(name):
    scenario = SCENARIOS[name]
    model, result = run(name)
    assert result.status == scenario.expect
    assert result.distinct_states == scenario.states
    if scenario.expect == "ok":
        assert all(v in ("holds", "witnessed") for v in result.properties.values()), result.properties
        return
    v = result.violation
    assert v.property == scenario.expect_property
    before, act, after = replay(model, v.trace)
    prop = model.property_named(v.property)
    if v.kind == "transition":
        assert not model.step_holds(prop, before, act, after)
    else:
        assert not model.holds(prop, after)


def test_private_mining_reverts_a_k_deep_block():
    """The adversary's 3 secret blocks displace the honest chain whose first block was 1 deep."""
    model, result = run("private-mining")
    trace = result.violation.trace
    assert [str(a) for a in trace.actions] == [
        "AdversaryMine", "AdversaryMine", "AdversaryMine", "AdversaryRelease",
        "Mine(m1)", "Mine(m1)", "Receive(m1, A)"]
    before, after = trace.states[-2], trace.states[-1]
    buried = before.chains[0][0]
    assert len(before.chains[0]) == 2 and buried not in after.chains[0]
    assert after.chains[0] == before.private and len(after.chains[0]) == 3
    headers = model.definition.headers
    assert headers[buried].miner == "m1" and hashcash.valid_proof(headers[buried])


def test_weak_adversary_holds_and_forgeries_matter():
    """Exhaustively, no forged block is ever adopted, though one is offered that would win."""
    model, result = run("weak-adversary")
    assert result.status == "ok"
    assert result.properties["honest_chains_valid"] == "holds"
    assert result.properties["forgery_outruns_honest"] == "witnessed"
    assert result.properties["adversary_block_adopted"] == "witnessed"


@pytest.mark.parametrize("flaw", ["bad-proof", "bad-link"])
def test_forged_block_is_rejected_but_adopted_without_validation(flaw):
    for variant, adopted in ((None, False), ("no-validation", True)):
        model = Nakamoto.configure({"miners": 1, "adversary_blocks": 2}, variant=variant).compile()
        s = model.initial_states()[0]
        for name, args in (("AdversaryMine", ()), ("AdversaryForge", (flaw,))):
            s = model.apply(s, Action("step", name, None, args))
        offered = dict(model.successors(s))
        receive = Action("step", "Receive", None, ("m1", "A"))
        assert (receive in offered) is adopted
        assert not model.definition.valid(s.released) and len(s.released) == 2


def test_one_more_adversary_block_breaks_the_weak_scenario():
    """The bound is tight: one more adversary block and the weak scenario breaks."""
    _, result = run("weak-adversary", adversary_blocks=3)
    assert result.status == "violation" and result.violation.property == "k_deep_immutable"


def test_deeper_confirmation_survives_the_same_attack():
    _, result = run("private-mining", k=2)
    assert result.status == "ok"


def test_hashcash_matches_hashlib_and_difficulty():
    block = hashcash.mine(GENESIS, "m1", 1, "pay")
    raw = (GENESIS + (2).to_bytes(2, "big") + b"m1" + (1).to_bytes(8, "big")
           + (3).to_bytes(2, "big") + b"pay" + block.nonce.to_bytes(8, "big"))
    digest = hashlib.sha256(raw).digest()
    assert block.digest == digest and digest[0] == 0  # 8 leading zero bits
    assert all(not hashcash.valid_proof(block._replace(nonce=n)) for n in range(block.nonce))
    assert not hashcash.valid_proof(hashcash.forge(GENESIS, "A", 1, "forged"))
    assert hashcash.meets(b"\x00\x7f" + bytes(30), 9) and not hashcash.meets(b"\x00\x80" + bytes(30), 9)


def test_difficulty_parameter_is_real():
    """At 12 bits every block in the honest scenario's chains has 12 leading zero bits."""
    model, result = run("honest", difficulty=12, max_blocks=3)
    assert result.status == "ok"
    for block in model.definition.headers.values():
        assert isinstance(block, Block) and int.from_bytes(block.digest, "big") >> 244 == 0
