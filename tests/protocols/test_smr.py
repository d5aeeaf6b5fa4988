"""State machine replication: broken variants caught and replayed, correct ones linearizable.

The histories test walks every reachable state of small correct configurations and asks the
linearizability checker (not the model's memoised property) about each client history.
"""

import pytest

from consensuslab import check
from consensuslab.checkers.liveness.check import check_liveness, confirm_lasso
from consensuslab.histories.linearizability import check as lin_check
from consensuslab.histories.linearizability import is_linearizable
from consensuslab.protocols.smr_clocks import SmrClocks
from consensuslab.protocols.smr_common import execute, history_linearizable, script_of
from consensuslab.protocols.smr_multipaxos import SmrMultiPaxos
from consensuslab.protocols.smr_raft import SmrRaft

from replaying import replay_states

PROTOCOLS = (SmrRaft, SmrMultiPaxos)
BROKEN = (("read-from-follower", "linearizable"), ("no-dedup", "exactly_once"),
          ("apply-uncommitted", "applied_prefix_agreement"))


def replay(model, trace):
    """Re-execute the trace's actions from its initial state with ``model.apply``."""
    return replay_states(model, trace)[-1]


def reachable(model):
    seen = set(model.initial_states())
    frontier = list(seen)
    while frontier:
        nxt = []
        for s in frontier:
            for _, t in model.successors(s):
                if t not in seen:
                    seen.add(t)
                    nxt.append(t)
        frontier = nxt
    return seen


def events(hist):
    return [{"process": c, "type": t, "f": f, "key": k, "value": list(v) if isinstance(v, tuple) else v}
            for c, t, f, k, v in hist]


@pytest.mark.parametrize("cls", PROTOCOLS, ids=lambda c: c.name)
@pytest.mark.parametrize("variant,prop", BROKEN, ids=[b[0] for b in BROKEN])
def test_broken_variant_caught_and_replayed(cls, variant, prop):
    model = cls.configure(scenario=variant).compile()
    r = check(model, progress=False)
    assert r.status == "violation" and r.violation.property == prop
    last = replay(model, r.violation.trace)
    assert not model.holds(model.property_named(prop), last)
    assert model.holds(model.property_named(prop), r.violation.trace.initial)


@pytest.mark.parametrize("cls", PROTOCOLS, ids=lambda c: c.name)
def test_apply_uncommitted_changes_what_was_applied(cls):
    """With agreement set aside, the same bug shows as an applied entry being replaced."""
    model = cls.configure(scenario="apply-uncommitted").compile()
    model.invariants = []
    r = check(model, progress=False)
    assert r.violation.property == "applied_entries_immutable" and r.violation.kind == "transition"
    replay(model, r.violation.trace)
    (act, after), before = r.violation.trace.steps[-1], r.violation.trace.states[-2]
    assert not model.step_holds(model.property_named("applied_entries_immutable"), before, act, after)


@pytest.mark.parametrize("cls,scenario", [(SmrRaft, "failover"), (SmrMultiPaxos, "failover"),
                                          (SmrClocks, "three")], ids=lambda x: getattr(x, "name", x))
def test_correct_protocols_pass(cls, scenario):
    model = cls.configure(scenario=scenario).compile()
    r = check(model, progress=False)
    assert r.status == "ok" and r.distinct_states == cls.scenario_named(scenario).states
    assert all(v in ("holds", "witnessed") for v in r.properties.values()), r.properties


@pytest.mark.parametrize("cls,params", [(SmrRaft, {}), (SmrMultiPaxos, {"ops": 2, "retries": 0}),
                                        (SmrClocks, {"procs": 2, "ops": 2})], ids=lambda x: getattr(x, "name", str(x)))
def test_every_history_of_a_correct_protocol_is_linearizable(cls, params):
    model = cls(params).compile()
    histories = {s.hist for s in reachable(model)}
    d = model.definition
    complete = [h for h in histories if sum(e[1] != "invoke" for e in h) == d.clients * d.ops]
    assert len(histories) > 10 and complete
    for h in histories:
        assert is_linearizable(events(h), "kv"), h


def test_read_from_follower_produces_a_non_linearizable_history():
    model = SmrRaft({}, "read-from-follower").compile()
    bad = [h for h in {s.hist for s in reachable(model)} if not is_linearizable(events(h), "kv")]
    assert bad
    verdict = lin_check(events(min(bad, key=len)), "kv")
    assert not verdict.linearizable and verdict.blocked.f == "read" and verdict.blocked.value is None


def test_no_dedup_double_write_shows_in_the_history():
    """A retried write applied after another client's write and read: the read sees it come back."""
    script = script_of(2, 2, 1)  # c0: write 1, cas 1->2; c1: read, write 2
    assert execute(script, ((0, 0), (1, 0), (1, 1), (0, 0)), dedup=True)[0] == (("x", 2),)
    assert execute(script, ((0, 0), (1, 0), (1, 1), (0, 0)), dedup=False)[0] == (("x", 1),)
    hist = ((0, "invoke", "write", "x", 1), (0, "ok", "write", "x", 1), (1, "invoke", "write", "x", 2),
            (1, "ok", "write", "x", 2), (0, "invoke", "cas", "x", (1, 2)), (0, "ok", "cas", "x", (1, 2)))
    assert not history_linearizable(hist)
    assert history_linearizable(hist[:5] + ((0, "fail", "cas", "x", (1, 2)),))


def test_correct_raft_deduplicates_a_retry():
    model = SmrRaft.configure(scenario="default").compile()
    seen = reachable(model)
    prop = model.property_named("retry_applied_once")
    dup = [s for s in seen if model.holds(prop, s)]
    assert dup and all(model.holds(model.property_named("exactly_once"), s) for s in dup)


def test_clocks_block_when_a_process_crashes():
    model = SmrClocks.configure(scenario="crash").compile()
    assert check(model, progress=False, liveness=False).status == "deadlock"  # safety holds; the run just stops
    model.check_deadlock = False
    assert check(model, progress=False, liveness=False).status == "ok"
    r = check_liveness(model)
    assert r.status == "violation" and r.violation.property == "requests_executed"
    trace = r.violation.trace
    confirm_lasso(model, trace, "requests_executed")
    last = replay(model, trace)
    assert last.down and not model.successors(last)
    assert any(p.queue for p in last.procs) and not any(p.executed for p in last.procs)


def test_clocks_liveness_holds_without_crashes():
    r = check_liveness(SmrClocks.configure(scenario="three").compile())
    assert r.status == "ok" and r.properties["requests_executed"] == "holds"
