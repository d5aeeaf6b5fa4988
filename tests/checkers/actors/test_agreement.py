"""The packed actor search gives what the interpreted search gives: status, counts, depth, verdicts
and the same counterexample (which replays), on every bundled actor scenario and on every network
and fault policy."""

import pytest

from consensuslab import check
from consensuslab.protocols import protocol_class

from actor_fixtures import FAULTS, NETWORKS, assert_same, both, outcome, shop
from clirun import cli, cli_json
from replaying import replay_states

#: scenarios small enough to run under both engines in the suite (the others run with a state limit below)
WHOLE = {"two-phase-actors": ("default", "coordinator-crash", "fair"),
         "paxos-actors": ("default", "crash", "stable-leader", "minority-quorum"),
         "raft-election": ("default", "restart", "two-terms", "forget-vote", "small-quorum")}
LIMITED = {"two-phase-actors": ("rm6",), "paxos-actors": ("lossy", "no-promise-check")}
#: scenarios the packed search declines (a ``normal_form`` rewrites whole states): the interpreted search runs them
DECLINED = {"paxos-actors": ("dueling-proposers",)}


def bundled(name, scenario):
    cls = protocol_class(name)
    return lambda: cls.configure({}, None, scenario).model()


@pytest.mark.parametrize("name,scenario", [(n, s) for n, ss in WHOLE.items() for s in ss])
def test_bundled_scenarios_agree(name, scenario):
    fast = assert_same(bundled(name, scenario))
    pinned = protocol_class(name).scenario_named(scenario).states
    if pinned is not None and fast.status == "ok":
        assert fast.distinct_states == pinned


@pytest.mark.parametrize("name,scenario", [(n, s) for n, ss in LIMITED.items() for s in ss])
def test_bundled_scenarios_agree_up_to_a_state_limit(name, scenario):
    """The same states in the same order: a limit stops both searches at the same place."""
    fast = assert_same(bundled(name, scenario), max_states=6000)
    assert fast.status == "incomplete" and fast.distinct_states == 6000


def test_every_bundled_actor_protocol_is_covered():
    from consensuslab.models.protocol import Protocol
    from consensuslab.protocols import available

    actors = {name for name in available() if issubclass(protocol_class(name), Protocol)}
    assert actors == set(WHOLE) and set(LIMITED) <= actors
    for name in actors:  # every scenario of every actor protocol, whole or up to a limit
        covered = set(WHOLE[name]) | set(LIMITED.get(name, ())) | set(DECLINED.get(name, ()))
        assert {s.name for s in protocol_class(name).scenarios} <= covered, name


@pytest.mark.parametrize("name,scenario", [(n, s) for n, ss in DECLINED.items() for s in ss])
def test_declined_scenarios_run_interpreted_and_say_why(name, scenario):
    result = check(bundled(name, scenario)(), max_states=300, progress=False)
    assert result.extra["engine"] == "interpreted" and "normal_form" in result.extra["engine_reason"]


@pytest.mark.parametrize("net", sorted(NETWORKS))
@pytest.mark.parametrize("faults", sorted(FAULTS))
def test_every_network_and_fault_policy_agrees_exhaustively(net, faults):
    """Properties that hold (or only a forgery breaks): the whole graph, both engines."""
    def make():
        model = shop(net, faults, watch="flight" if net.startswith("gst") else "timers")
        model.select_properties(["watched", "log_grows", "all_recorded"])
        return model

    fast = assert_same(make)
    assert fast.status in ("ok", "violation")


@pytest.mark.parametrize("watch", ["book", "timers", "crashed", "flight", "correct"])
@pytest.mark.parametrize("net,faults", [("soup", "crash-any"), ("lossy-dup", "recover"), ("fifo", "byzantine"),
                                        ("gst-drops", "mixed"), ("unordered", "omission")])
def test_counterexamples_are_the_interpreted_ones_and_replay(net, faults, watch):
    fast = assert_same(lambda: shop(net, faults, watch=watch))
    assert fast.status == "violation" and fast.violation.trace is not None


def test_three_hands_three_jobs_agree_on_a_bigger_graph():
    def make():
        model = shop("unordered", "recover", hands=3, jobs=3)
        model.select_properties(["log_grows", "all_recorded"])
        return model

    fast = assert_same(make)
    assert fast.status == "ok" and fast.distinct_states > 10_000


def test_limits_stop_both_engines_at_the_same_place():
    make = bundled("paxos-actors", "default")
    for options in ({"max_depth": 7}, {"max_states": 1234}):
        slow, fast = both(make, **options)
        assert outcome(fast) == outcome(slow) and fast.status == "incomplete"
        assert fast.stopped_by == slow.stopped_by


def test_broken_variants_are_found_by_the_packed_search_and_replay(tmp_path):
    for scenario, length in (("minority-quorum", 10), ("no-promise-check", None)):
        model = protocol_class("paxos-actors").configure({}, None, scenario).model()
        r = check(model, engine="compiled", progress=False)
        assert r.extra["engine"] == "compiled"
        assert r.status == "violation" and r.violation.property == "decision_stable"
        assert r.violation.kind == "transition"
        if length is not None:
            assert len(r.violation.trace) == length
        replay_states(protocol_class("paxos-actors").configure({}, None, scenario).model(), r.violation.trace)
    out = tmp_path / "cex.itf.json"
    proc, summary = cli_json("check", "paxos-actors", "--scenario", "minority-quorum", "--engine", "compiled",
                             "--trace-out", out)
    assert proc.returncode == 12 and summary["engine"] == "compiled"
    assert cli("replay", out).returncode == 12


def test_cli_json_says_the_packed_search_ran_and_why():
    proc, out = cli_json("check", "two-phase-actors", "--quiet")
    assert proc.returncode == 0 and out["distinct_states"] == 288
    assert out["engine"] == "compiled" and "packed actor search" in out["engine_reason"]
    assert out["compiled"]["model"] == "actors" and out["compiled"]["network"] == "soup"
    proc, out = cli_json("check", "two-phase-actors", "--engine", "interpreted", "--quiet")
    assert proc.returncode == 0 and out["distinct_states"] == 288 and out["engine"] == "interpreted"


def test_deadlocks_and_dead_ends_agree():
    fast = assert_same(bundled("two-phase-actors", "coordinator-crash"))
    assert fast.status == "deadlock" and fast.violation.trace is not None
