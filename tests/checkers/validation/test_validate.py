"""Trace validation on the models' own behaviours: explained with the fewest faults, replayed; tampering found."""

from __future__ import annotations

import copy

import pytest

from consensuslab.checkers.replay import replay_document
from consensuslab.checkers.validation.export import export_trace, random_behaviour
from consensuslab.checkers.validation.search import validate
from consensuslab.logs.read import read_log
from consensuslab.logs.write import write_per_node
from consensuslab.models.effects import just, send
from consensuslab.models.faults import CrashRecover
from consensuslab.models.network import Unordered
from consensuslab.models.protocol import Protocol, handles, initial, local
from consensuslab.models.records import evolve, message, state
from consensuslab.protocols import available, configure
from consensuslab.traces.itf import trace_document
from consensuslab.traces.result import Trace, Violation


def log_of(tmp_path, events, name="log"):
    write_per_node(str(tmp_path / name), events)
    return read_log([str(tmp_path / name)])


def replays(model, trace):
    """The explaining behaviour re-executes on the model, as `consensuslab replay` would."""
    doc = trace_document(model, trace, Violation("explains-log", "behaviour", trace), "explained")
    return len(replay_document(doc, model).trace) == len(trace)


@pytest.mark.parametrize("protocol, params, scenario, steps", [
    ("two-phase-actors", {}, None, 60),
    ("paxos-actors", {}, "default", 80),
    ("paxos-actors", {}, "lossy", 40),
    ("raft", {}, None, 60),
    ("raft", {"max_messages": 2, "max_copies": 2, "max_restarts": 1}, None, 80),
])
@pytest.mark.parametrize("seed", [0, 1])
def test_logs_of_the_models_own_behaviours_are_explained_and_replay(tmp_path, protocol, params, scenario,
                                                                    steps, seed):
    model = configure(protocol, params, None, scenario).compile()
    behaviour = random_behaviour(model, steps, seed, fault_rate=0.2)
    log = log_of(tmp_path, export_trace(model, behaviour))
    result = validate(model, log)
    assert result.status == "explained" and result.exit_code == 0
    assert result.explained_events == result.events == len(log)
    assert replays(model, result.trace)
    logged = sum(1 for e in log if e.kind != "init")
    assert len(result.trace) == logged + sum(result.faults.values())  # every logged step, and the faults
    faults = sum(1 for a in behaviour.actions if model.is_fault(a) or a.name == "Restart")
    assert sum(result.faults.values()) <= faults  # never more faults than the behaviour that wrote the log


@pytest.mark.parametrize("protocol", available())
def test_every_bundled_protocols_behaviours_are_explained(tmp_path, protocol):
    model = configure(protocol).compile()
    for seed in range(3):
        behaviour = random_behaviour(model, 60, seed, fault_rate=0.2)
        log = log_of(tmp_path, export_trace(model, behaviour), name=f"s{seed}")
        result = validate(model, log)
        assert result.status == "explained", (seed, result.failure and result.failure.reason)
        assert result.explained_events == len(log) > 0 and replays(model, result.trace)


# -- a tiny protocol whose logs need known faults ----------------------------------------------
@message
class Ping:
    n: int


@state
class Counter:
    count: int = 0
    got: int = 0


class PingCount(Protocol):
    """A pinger that counts its pings and sends each; a ponger that counts what it gets."""

    name = "ping-count"
    network = Unordered(duplicating=True, lossy=True)
    faults = (CrashRecover(1),)

    def topology(self):
        return {"pinger": ("p",), "ponger": ("q",)}

    @initial("pinger")
    def p_init(self, ctx):
        return Counter()

    @initial("ponger")
    def q_init(self, ctx):
        return Counter()

    @local("pinger")
    def ping(self, s, ctx):
        if s.count < 3:
            return evolve(s, count=s.count + 1), send("q", Ping(s.count + 1))

    @handles("ponger", Ping)
    def on_ping(self, s, m, ctx):
        return just(evolve(s, got=s.got + 1))


def act(model, state, text):
    for action, nxt in model.successors(state):
        if str(action) == text:
            return action, nxt
    raise AssertionError(f"{text} not enabled: {[str(a) for a, _ in model.successors(state)]}")


def behaviour(model, *texts) -> Trace:
    trace = Trace(model.initial_states()[0])
    state = trace.initial
    for text in texts:
        action, state = act(model, state, text)
        trace.steps.append((action, state))
    return trace


def test_a_message_received_twice_needs_exactly_one_duplication(tmp_path):
    model = PingCount.configure({}).compile()
    trace = behaviour(model, "p: ping", "network duplicates Ping(n=1) from p to q",
                      "q receives Ping(n=1) from p [on_ping]", "q receives Ping(n=1) from p [on_ping]")
    result = validate(model, log_of(tmp_path, export_trace(model, trace)))
    assert result.status == "explained"
    assert result.faults == {"duplication": 1}
    assert [str(a) for a in result.trace.actions].count("network duplicates Ping(n=1) from p to q") == 1


def test_a_node_whose_count_resets_needs_a_crash_and_a_restart(tmp_path):
    model = PingCount.configure({}).compile()
    trace = behaviour(model, "p: ping", "p: ping", "p crashes", "p recovers", "p: ping")
    events = export_trace(model, trace)
    assert [e["state"]["count"] for e in events if e["node"] == "p"] == [
        {"#bigint": "0"}, {"#bigint": "1"}, {"#bigint": "2"}, {"#bigint": "1"}]
    result = validate(model, log_of(tmp_path, events))
    assert result.status == "explained"
    assert result.faults == {"crash": 1, "restart": 1}
    assert replays(model, result.trace)
    assert validate(model, log_of(tmp_path, events, "again"), silent_steps=1).status == "not-explained"


def test_lost_messages_need_no_fault_on_an_unbounded_network(tmp_path):
    model = PingCount.configure({}).compile()
    trace = behaviour(model, "p: ping", "network loses Ping(n=1) from p to q", "p: ping",
                      "q receives Ping(n=2) from p [on_ping]")
    result = validate(model, log_of(tmp_path, export_trace(model, trace)))
    assert result.status == "explained" and result.faults == {}  # never delivered is not lost


# -- tampered logs ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def raft_log():
    model = configure("raft", {"max_messages": 2}).compile()
    return model, export_trace(model, random_behaviour(model, 60, seed=3))


def tampered_result(tmp_path, model, events, **options):
    result = validate(model, log_of(tmp_path, events), **options)
    assert result.status == "not-explained" and result.exit_code == 12
    assert result.failure is not None and result.explained_events < result.events
    return result


@pytest.mark.parametrize("order", ["clock", "canonical", "all"])
def test_a_changed_term_is_rejected_naming_the_event_and_field(tmp_path, raft_log, order):
    model, events = raft_log
    events = copy.deepcopy(events)
    target = next(e for e in events if e["seq"] >= 2 and e["action"]["name"] == "Timeout")
    target["state"]["currentTerm"] = {"#bigint": "9"}
    result = tampered_result(tmp_path, model, events, order=order)
    assert result.failure.event == (target["node"], target["seq"])
    assert result.failure.field == "currentTerm" and result.failure.logged == {"#bigint": "9"}
    assert result.prefix[target["node"]] == target["seq"] - 1


@pytest.mark.parametrize("order", ["clock", "canonical", "all"])
def test_a_dropped_event_is_rejected_at_the_next_event_of_its_node(tmp_path, raft_log, order):
    model, events = raft_log
    events = copy.deepcopy(events)
    dropped = next(e for e in events if e["seq"] >= 1 and e["action"]["name"] == "Timeout")
    events.remove(dropped)
    after = min((e for e in events if e["node"] == dropped["node"] and e["seq"] > dropped["seq"]),
                key=lambda e: e["seq"])
    result = tampered_result(tmp_path, model, events, order=order)
    assert result.failure.event == (after["node"], after["seq"])
    assert any("seq numbers missing" in w for w in result.warnings)


@pytest.mark.parametrize("order", ["clock", "canonical", "all"])
def test_a_receive_moved_before_an_earlier_event_is_rejected(tmp_path, raft_log, order):
    model, events = raft_log
    events = copy.deepcopy(events)
    receive = next(e for e in events if "link" in e and e["seq"] >= 2)
    before = next(e for e in events if e["node"] == receive["node"] and e["seq"] == receive["seq"] - 1)
    receive["seq"], before["seq"] = before["seq"], receive["seq"]
    result = tampered_result(tmp_path, model, events, order=order)
    assert result.failure.event == (receive["node"], receive["seq"])
    assert "no step of the model takes it" in result.failure.reason or result.failure.field is not None


def test_a_receive_logged_before_its_own_cause_waits_forever(tmp_path):
    events = [{"node": "p", "seq": 0, "kind": "init", "state": {}},
              {"node": "q", "seq": 0, "kind": "init", "state": {},
               "link": {"node": "p", "seq": 1}},  # q's first event claims to receive p's later send
              {"node": "p", "seq": 1, "kind": "local", "link": {"node": "q", "seq": 0},
               "action": {"kind": "local", "name": "ping", "node": "p", "args": []}}]
    model = PingCount.configure({}).compile()
    result = validate(model, log_of(tmp_path, events))
    assert result.status == "not-explained"
    assert "waits for" in result.failure.reason and result.explained_events == 1


def test_limits_end_incomplete_never_a_verdict(tmp_path):
    model = configure("two-phase-actors", {}).compile()
    log = log_of(tmp_path, export_trace(model, random_behaviour(model, 3000, seed=0)))
    result = validate(model, log, memory_limit=0.001)
    assert result.status == "incomplete" and result.stopped_by == "memory-limit" and result.exit_code == 3
    assert result.trace is None and result.failure is None
    assert validate(model, log).status == "explained"
