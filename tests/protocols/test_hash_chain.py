"""The hash-linked ledger: rewrites are detected; without links an older rewrite is not."""

from consensuslab import check
from consensuslab.protocols.hash_chain import HashChain, sha256


def test_linked_chain_detects_every_rewrite():
    r = check(HashChain().compile(), progress=False)
    assert r.status == "ok"
    assert r.distinct_states == 1517
    assert r.properties["tamper_detected"] == "holds"
    assert r.properties["committed_prefix_immutable"] == "holds"
    assert r.properties["tamper_happened"] == "witnessed"


def test_two_rewrites_on_longer_chains_are_still_detected():
    r = check(HashChain({"nodes": 2, "blocks": 3, "tampers": 2}).compile(), progress=False)
    assert r.status == "ok"


def test_unlinked_variant_rewrites_an_older_block_undetected():
    model = HashChain(variant="unlinked").compile()
    r = check(model, progress=False)
    assert r.violation.property == "tamper_detected"
    trace = r.violation.trace
    last = trace.states[-1]
    tampered = [c for c in last.copies if tuple(b.payload for b in c[1:]) != last.ledger]
    assert len(tampered) == 1
    assert model.definition.verifies(tampered[0], last.head)
    changed = [i for i, b in enumerate(tampered[0][1:]) if b.payload != last.ledger[i]]
    assert changed and changed[0] < len(last.ledger) - 1  # an older block, not the head
    state = trace.initial
    for act, _ in trace.steps:
        state = model.apply(state, act)
    assert not model.holds(model.property_named("tamper_detected"), state)


def test_unlinked_rewrite_also_breaks_the_verified_prefix():
    model = HashChain({"nodes": 1, "blocks": 2}, variant="unlinked").compile()
    model.invariants = []
    r = check(model, progress=False)
    assert r.violation.property == "committed_prefix_immutable"
    assert r.violation.kind == "transition"


def test_hashes_are_real_sha256():
    import hashlib

    assert sha256("a", "b") == hashlib.sha256(b"a|b").hexdigest()
