"""--reduction por: the verdicts of the full search, on fewer states; counterexamples replay.

The strongest check is ``test_every_observation_survives``: on a small relay
protocol under every network and fault policy, every combination of the values
the properties read that the full graph reaches, the reduced graph reaches too,
with every dead end and every step that changes such a value.
"""

import itertools
from collections import deque

import pytest

from consensuslab import (
    Byzantine,
    CrashRecover,
    CrashStop,
    Fifo,
    MessageSoup,
    Omission,
    Param,
    Protocol,
    Scenario,
    Unordered,
    always,
    always_step,
    check,
    durable,
    evolve,
    forgeable,
    handles,
    initial,
    just,
    local,
    message,
    on_timer,
    send,
    set_timer,
    sometimes,
    state,
)
from consensuslab.checkers.reduction.futures import Futures, Reads, ReadsGrew
from consensuslab.checkers.reduction.por import (
    NotStutterInvariant,
    ReducedModel,
    _learn_reads,
    _may_read_action,
    inactive_reason,
)
from consensuslab.errors import UsageError
from consensuslab.models.network import PartialSynchrony
from consensuslab.protocols import protocol_class

from clirun import cli, cli_json
from replaying import replay_states


# -- a relay: source -> workers -> sink -------------------------------------------------
@message
class Token:
    n: int


@state
class Src:
    sent: int = 0


@state
class Worker:
    got: frozenset = durable(frozenset())
    fwd: frozenset = frozenset()


@state
class Sink:
    log: tuple = ()


class Relay(Protocol):
    """A source hands tokens to workers round-robin; workers pass them on (one by one, or all
    when their timer fires) to a sink, which logs each token once."""

    name = "relay"
    params = {"workers": Param(2), "tokens": Param(2), "watch": Param("sink")}

    def topology(self):
        return {"src": ("s",), "worker": tuple(f"w{i + 1}" for i in range(self.workers)), "sink": ("k",)}

    @initial("src")
    def src_init(self, ctx):
        return Src()

    @initial("worker")
    def worker_init(self, ctx):
        return Worker()

    @initial("sink")
    def sink_init(self, ctx):
        return Sink()

    @local("src")
    def emit(self, s, ctx):
        if s.sent < self.tokens:
            workers = ctx.nodes("worker")
            return evolve(s, sent=s.sent + 1), send(workers[s.sent % len(workers)], Token(s.sent))

    @handles("src", Token)
    def src_ignores(self, s, m, ctx):
        return just(s)

    @handles("worker", Token)
    def take(self, s, m, ctx):
        if m.n in s.got:
            return just(s)
        return evolve(s, got=s.got | {m.n}), set_timer("flush")

    @local("worker")
    def pass_one(self, s, ctx):
        pending = sorted(s.got - s.fwd)
        if pending:
            return evolve(s, fwd=s.fwd | {pending[0]}), send("k", Token(pending[0]))

    @on_timer("worker", "flush")
    def flush(self, s, ctx):
        pending = sorted(s.got - s.fwd)
        return evolve(s, fwd=s.got), tuple(send("k", Token(n))[0] for n in pending)

    @forgeable("worker")
    def forged(self, ctx):
        return (Token(9),)

    @handles("sink", Token)
    def log(self, s, m, ctx):
        if m.n in s.log:
            return just(s)
        return just(evolve(s, log=s.log + (m.n,)))

    @always
    def genuine(self, w):
        """Broken by a forged token."""
        return all(n < self.tokens for n in w["k"].log)

    @always
    def first_token_first(self, w):
        """Reads worker w1 only once the sink has logged something: the read set grows mid-search."""
        log = w["k"].log
        return not log or log[0] == 0 or 0 in w["w1"].got

    @always
    def watched(self, w):
        """Reads what ``watch`` names, to make that part of the state visible."""
        if self.watch == "timers":
            return len(w.timers("w2")) <= 1
        if self.watch == "crashed":
            return len(w.crashed) <= 1
        if self.watch == "flight":
            return len(w.in_flight) < 99
        return True

    @always_step
    def log_only_grows(self, before, action, after):
        b, a = before["k"].log, after["k"].log
        return a[:len(b)] == b

    @sometimes
    def all_arrived(self, w):
        return len(w["k"].log) == self.tokens

    def done(self, w):
        return len(w["k"].log) == self.tokens


NETWORKS = {"soup": MessageSoup(), "unordered": Unordered(), "lossy-dup": Unordered(duplicating=True, lossy=True),
            "fifo": Fifo(), "fifo-lossy": Fifo(lossy=True), "gst-drops": PartialSynchrony(Unordered(), drops=True)}
FAULTS = {"none": (), "crash-any": (CrashStop(1),), "crash-worker": (CrashStop(1, roles=("worker",)),),
          "recover": (CrashRecover(1, roles=("worker",)),), "omission": (Omission(1),),
          "byzantine": (Byzantine(("w2",), 1),)}


def relay(net: str, faults: str, **params):
    scenario = Scenario(f"{net}/{faults}", network=NETWORKS[net], faults=FAULTS[faults], deadlock=False)
    return Relay(params, None, scenario).compile()


# -- the graphs, explored as the checker explores them (successors once per expanded state) --
def full_graph(model):
    seen, todo, edges = set(model.initial_states()), deque(model.initial_states()), []
    while todo:
        s = todo.popleft()
        for act, nxt in model.successors(s):
            edges.append((s, act, nxt))
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen, edges


def reduced_graph(model):
    """The reduced graph, every property evaluated where the checker evaluates it; restarts when
    the read set grows, as ``check_reduced`` does.  Returns (model, states, edges, reads)."""
    reads = Reads(model)
    _learn_reads(model, reads)
    futures = Futures(model)
    while True:
        reads.learning, reads.grew = False, False
        reduced = ReducedModel(model, reads, futures)
        try:
            seen, todo, edges = set(reduced.initial_states()), deque(reduced.initial_states()), []
            while todo:
                s = todo.popleft()
                view = reduced.view(s)
                for p in model.invariants + model.witnesses:
                    p.fn(view)
                for act, nxt in reduced.successors(s):
                    for p in model.step_properties:
                        reduced.step_holds(p, s, act, nxt)
                    edges.append((s, act, nxt))
                    if nxt not in seen:
                        seen.add(nxt)
                        todo.append(nxt)
            return reduced, seen, edges, reads.known
        except ReadsGrew:
            continue


def projector(known):
    keys = sorted(known, key=str)

    def project(s):
        out = []
        for key in keys:
            if key in ("net", "all"):
                out.append(s)
            elif key == "down":
                out.append(s.down)
            else:
                out.append((s.locals if key[0] == "node" else s.timers)[key[1]])
        return tuple(out)

    return project


def observations(states, edges, project):
    moving = {u for u, _, _ in edges}
    steps = {(project(u), a, project(v)) for u, a, v in edges if project(u) != project(v)}
    return {project(s) for s in states}, states - moving, steps


@pytest.mark.parametrize("net,faults", list(itertools.product(NETWORKS, FAULTS)))
def test_every_observation_survives(net, faults):
    model = relay(net, faults)
    reduced, states, edges, known = reduced_graph(model)
    full_states, full_edges = full_graph(model)
    project = projector(known)
    seen, dead, steps = observations(full_states, full_edges, project)
    r_seen, r_dead, r_steps = observations(states, edges, project)
    assert r_seen == seen
    assert dead <= states and r_dead == dead  # the dead ends of the full graph, and only those
    assert steps <= r_steps  # every step that changes what the properties read is explored
    assert states <= full_states and len(states) <= len(full_states)


@pytest.mark.parametrize("watch", ["timers", "crashed"])
def test_observations_survive_when_timers_or_crashes_are_read(watch):
    model = relay("unordered", "crash-worker", watch=watch)
    reduced, states, edges, known = reduced_graph(model)
    full_states, full_edges = full_graph(model)
    project = projector(known)
    assert observations(states, edges, project)[0] == observations(full_states, full_edges, project)[0]


def test_it_reduces_and_restarts_when_a_property_reads_more():
    model = relay("unordered", "none", tokens=3)
    r = check(model, reduction="por", progress=False)
    full = check(relay("unordered", "none", tokens=3), progress=False)
    verdict = ("violation", "first_token_first")
    assert (r.status, r.violation.property) == (full.status, full.violation.property) == verdict
    assert r.extra["reduction"] == "por" and r.extra["por"]["restarts"] >= 1
    replay_states(relay("unordered", "none", tokens=3), r.violation.trace)
    assert len(full_graph(model)[0]) > len(reduced_graph(model)[1])


def test_reading_the_network_turns_it_off():
    r = check(relay("soup", "none", watch="flight"), reduction="por", progress=False)
    assert r.extra["reduction"] is None and "messages in flight" in r.extra["por"]["off"]
    assert any("--reduction por is off" in w for w in r.extra["warnings"])


# -- each condition matters: without it these two are wrongly found correct -------------------
@message
class Note:
    pass


@state
class Flag:
    on: bool = False


@message
class Heard:
    yes: bool


@state
class Teller:
    heard: bool = False
    reported: bool = False


class Tell(Protocol):
    """b reports once to o whether it has heard from a; a may tell it at any time.  b's report is
    its only action at first, yet a may still send to b: b's group alone is not persistent (C1)."""

    name = "tell"

    def topology(self):
        return {"b": ("b",), "a": ("a",), "o": ("o",)}

    @initial("a")
    def a_init(self, ctx):
        return Flag()

    @initial("b")
    def b_init(self, ctx):
        return Teller()

    @initial("o")
    def o_init(self, ctx):
        return Flag()

    @local("a")
    def tell(self, s, ctx):
        if not s.on:
            return evolve(s, on=True), send("b", Note())

    @handles("b", Note)
    def hear(self, s, m, ctx):
        return just(evolve(s, heard=True))

    @local("b")
    def report(self, s, ctx):
        if not s.reported:
            return evolve(s, reported=True), send("o", Heard(s.heard))

    @handles("o", Heard)
    def told(self, s, m, ctx):
        return just(evolve(s, on=s.on or m.yes))

    @always
    def never_told_yes(self, w):
        return not w["o"].on


class Toggle(Protocol):
    """a flips a bit for ever (invisible); b may act once (visible).  Without the cycle proviso (C3)
    the search would go round a's cycle and never let b act."""

    name = "toggle"

    def topology(self):
        return {"a": ("a",), "b": ("b",)}

    @initial("a")
    def a_init(self, ctx):
        return Flag()

    @initial("b")
    def b_init(self, ctx):
        return Flag()

    @local("a")
    def flip(self, s, ctx):
        return just(evolve(s, on=not s.on))

    @local("b")
    def act(self, s, ctx):
        if not s.on:
            return just(evolve(s, on=True))

    @always
    def b_never_acts(self, w):
        return not w["b"].on


@pytest.mark.parametrize("cls", [Tell, Toggle])
def test_conditions_c1_and_c3_keep_the_violation(cls):
    model = cls({}, None, Scenario("x", network=Unordered(), deadlock=False)).compile()
    r = check(model, reduction="por", progress=False)
    assert r.status == "violation" and r.extra["reduction"] == "por" and r.extra["por"]["ample"] > 0
    replay_states(cls({}, None, Scenario("x", network=Unordered(), deadlock=False)).compile(), r.violation.trace)


# -- transition properties ------------------------------------------------------------------
class StutterFails(Relay):
    @always_step
    def something_changes(self, before, action, after):
        return before["k"] != after["k"] or before["w1"] != after["w1"] or before["s"] != after["s"]


def test_a_transition_property_false_on_stutter_turns_it_off():
    model = StutterFails({}, None, Scenario("x", network=Unordered(), deadlock=False)).compile()
    reduced = ReducedModel(model, Reads(model), Futures(model))
    reduced.reads.known.update({("node", i) for i in range(4)})
    reduced.reads.learning = False
    with pytest.raises(NotStutterInvariant):
        reduced.successors(model.initial_states()[0])
    r = check(model, reduction="por", progress=False)
    assert r.extra["reduction"] is None and "something_changes" in r.extra["por"]["off"]
    full = check(StutterFails({}, None, Scenario("x", network=Unordered(), deadlock=False)).compile(), progress=False)
    assert (r.status, r.distinct_states) == (full.status, full.distinct_states)


def test_which_transition_properties_read_their_action():
    def unused(self, before, action, after):
        return before == after

    def used(self, before, action, after):
        return action.kind != "drop"

    def captured(self, before, action, after):
        return all(action is x for x in (before,))

    def peeking(self, before, action, after):
        return locals()["before"] is None

    def star(self, *args):
        return True

    assert [_may_read_action(f.__get__(object())) for f in (unused, used, captured, peeking, star)] == \
        [False, True, True, True, True]
    assert inactive_reason(Relay({}, None, Scenario("x", network=Unordered())).compile()) is None


# -- the registry's actor protocols: verdicts equal, counterexamples replay --------------------
#: the registry's cheaper actor scenarios (benchmarks/bench_reduction.py runs every one of them)
REGISTRY = [("two-phase-actors", "default"), ("two-phase-actors", "coordinator-crash"), ("two-phase-actors", "fair"),
            ("paxos-actors", "crash"), ("paxos-actors", "stable-leader"), ("paxos-actors", "minority-quorum")]


def registry_model(name, scenario):
    model = protocol_class(name).configure({}, None, scenario).compile()
    model.liveness = []  # the scenario's safety properties: the reduction refuses liveness
    return model


@pytest.mark.parametrize("name,scenario", REGISTRY, ids=[f"{n}:{s}" for n, s in REGISTRY])
def test_registry_verdicts_are_those_of_the_full_search(name, scenario):
    full = check(registry_model(name, scenario), progress=False)
    model = registry_model(name, scenario)
    por = check(model, reduction="por", progress=False)
    verdict = (full.status, full.violation.property if full.violation else None)
    assert (por.status, por.violation.property if por.violation else None) == verdict
    assert por.properties == full.properties or por.violation is not None
    assert por.distinct_states <= full.distinct_states or por.violation is not None
    if por.violation is not None:
        replay_states(registry_model(name, scenario), por.violation.trace)


def test_stable_leader_is_reduced():
    por = check(registry_model("paxos-actors", "stable-leader"), reduction="por", progress=False)
    assert por.extra["reduction"] == "por" and por.distinct_states == 58 < 210


# -- the command line ----------------------------------------------------------------------------
def test_cli_reports_the_reduction_and_its_trace_replays(tmp_path):
    out = tmp_path / "cex.itf.json"
    proc, doc = cli_json("check", "paxos-actors", "--scenario", "minority-quorum", "--reduction", "por",
                         "--trace-out", out)
    assert proc.returncode == 12 and doc["reduction"] == "por" and doc["violation"]["property"] == "decision_stable"
    assert cli("replay", out).returncode == 12


@pytest.mark.parametrize("args,words", [
    (["two-phase-actors", "--scenario", "fair"], "safety only"),
    (["two-phase"], "actor protocol"),
    (["two-phase-actors", "--symmetry"], "cannot be combined"),
])
def test_cli_refuses_what_it_cannot_reduce(args, words):
    proc = cli("check", *args, "--reduction", "por")
    assert proc.returncode == 2 and words in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_refused_in_library_too():
    with pytest.raises(UsageError):
        check(protocol_class("two-phase-actors").configure({}, None, "fair").compile(), reduction="por")
