"""The compiled search (packed states, memoised actions) gives the interpreted search's verdicts.

The strongest checks: every compilable scenario of the registry gets the same
status, counts and counterexample length from both engines, with each
counterexample replayed on the real model; and a kitchen-sink spec that reads
and writes its state every way a spec may does the same.
"""

from __future__ import annotations

from typing import NamedTuple

import pytest

from consensuslab import check
from consensuslab.checkers import engine_choice as choice
from consensuslab.checkers.compiled import levels as levels_module
from consensuslab.checkers.compiled.engine import CompiledSearch, unsupported_reason
from consensuslab.checkers.compiled.packing import Layout
from consensuslab.checkers.compiled.views import Reads, StateView
from consensuslab.errors import UsageError
from consensuslab.models.params import Param
from consensuslab.models.properties import always, sometimes
from consensuslab.models.records import record, replace_at
from consensuslab.models.spec import Spec, action
from consensuslab.protocols import available, protocol_class
from consensuslab.protocols.two_phase import TwoPhase

from clirun import cli, cli_json
from replaying import replay_states

@pytest.fixture(autouse=True)
def no_probe(monkeypatch):
    """These models are small enough for ``auto``'s interpreted probe (or its racing rival) to answer first; here
    auto's compiled side is under test (the probe is tested in ``test_auto.py``, the race in ``test_engine_race.py``)."""
    monkeypatch.setattr(choice, "PROBE_SECONDS", 0)  # no probe
    monkeypatch.setattr(choice, "RACING", False)


TOO_BIG = {("byzantine-generals", "n7m2")}  # millions of states: stopped by its limit in both engines


def registry_cases():
    for name in available():
        cls = protocol_class(name)
        if not issubclass(cls, Spec):
            continue
        for sc in cls.scenarios:
            if (name, sc.name) in TOO_BIG or sc.kind != "exhaustive":  # bounded/simulated: beyond exhaustive search
                continue
            model = cls.configure({}, None, sc.name).compile()
            if unsupported_reason(model, "bfs", insist=True) is None:
                yield name, sc.name


def same_verdict(model, plain, compiled):
    assert compiled.extra["engine"] == "compiled"
    assert compiled.status == plain.status
    if plain.status == "ok":
        assert (compiled.distinct_states, compiled.states_generated, compiled.depth) == \
            (plain.distinct_states, plain.states_generated, plain.depth)
    if plain.status == "ok":
        assert compiled.properties == plain.properties
    else:  # what was witnessed before the search stopped depends on the order of a level
        assert set(compiled.properties) == set(plain.properties)
        assert {k for k, v in compiled.properties.items() if v == "violated"} == \
            {k for k, v in plain.properties.items() if v == "violated"}
    if plain.violation is not None:
        v, w = plain.violation, compiled.violation
        assert (w.property, w.kind) == (v.property, v.kind)
        if v.trace is not None:
            assert len(w.trace.steps) == len(v.trace.steps)  # both shortest
            last = replay_states(model, w.trace)[-1]
            if w.kind == "invariant":
                assert model.property_named(w.property).fn(last) is False or not model.holds(
                    model.property_named(w.property), last)


@pytest.mark.parametrize("name,scenario", list(registry_cases()))
def test_registry_scenarios_agree_with_the_interpreted_search(name, scenario):
    cls = protocol_class(name)
    model = cls.configure({}, None, scenario).compile()
    model.liveness = []
    depth = model.definition.scenario.max_depth
    plain = check(model, progress=False, engine="interpreted", max_depth=depth)
    compiled = check(model, progress=False, engine="compiled", max_depth=depth)
    same_verdict(model, plain, compiled)


def test_the_registry_compiles_two_phase_paxos_and_the_generals():
    compiled = {name for name, _ in registry_cases()}
    assert {"two-phase", "paxos", "byzantine-generals", "byzantine-generals-signed"} <= compiled


# -- the two searches of the compiled engine ---------------------------------------------------
@pytest.mark.parametrize("variant", [None, "no-wait"])
def test_level_and_state_searches_agree(variant):
    model = TwoPhase({"rm": 5}, variant=variant).compile()
    by_levels = CompiledSearch(model, progress=False, insist=True).run()  # insist: not left to timing
    by_states = CompiledSearch(model, progress=False, spill_after=10 ** 9, insist=True).run()  # one state at a time
    assert by_levels.extra["compiled"]["search"] == "levels"
    assert by_states.extra["compiled"]["search"] == "states"
    plain = check(model, progress=False, engine="interpreted")
    for r in (by_levels, by_states):
        same_verdict(model, plain, r)


def test_two_phase_rm7_counts_match_tlc():
    r = check(TwoPhase({"rm": 7}).compile(), progress=False)
    assert r.extra["engine"] == "compiled"
    assert (r.status, r.distinct_states, r.states_generated, r.depth) == ("ok", 296448, 2744705, 22)


def test_the_same_run_gives_the_same_trace():
    model = TwoPhase({"rm": 4}, variant="no-wait").compile()
    traces = [[str(a) for a, _ in check(model, progress=False).violation.trace.steps] for _ in range(2)]
    assert traces[0] == traces[1] and len(traces[0]) == 5


def test_memo_keys_are_the_bits_an_action_reads():
    model = TwoPhase({"rm": 3}).compile()
    search = CompiledSearch(model, progress=False, insist=True)
    search.run()
    layout = search.layout
    rm = layout.by_name["rmState"]
    prepare_r2 = next(u for u in search.actions if str(u.label) == "RMPrepare(r2)")
    assert prepare_r2.mask == rm.slot_bits(1)  # one slot of rmState, nothing else
    commit_r1 = next(u for u in search.actions if str(u.label) == "RMRcvCommitMsg(r1)")
    assert commit_r1.mask.bit_count() == 1  # one element bit of msgs


def test_views_record_reads_and_answer_like_the_record():
    model = TwoPhase({"rm": 3}).compile()
    s = model.initial_states()[0]
    layout = Layout.learn([s])
    reads = Reads()
    view = StateView(layout.encode(s), layout, reads)
    assert isinstance(view, type(s)) and isinstance(view.rmState, tuple) and isinstance(view.msgs, frozenset)
    assert view.rmState[2] == "working" and reads.mask == layout.by_name["rmState"].slot_bits(2)
    assert len(view.rmState) == 3 and reads.mask == layout.by_name["rmState"].slot_bits(2)  # the shape is fixed
    assert view.msgs == frozenset() and reads.mask & layout.by_name["msgs"].mask == layout.by_name["msgs"].mask
    edited = replace_at(view.rmState, 0, "prepared")
    assert edited[0] == "prepared" and tuple(edited) == ("prepared", "working", "working")


# -- a spec that reads and writes its state every way a spec may ---------------------------------
@record
class Bag(NamedTuple):
    slots: tuple
    items: frozenset
    phase: str
    log: tuple


class KitchenSink(Spec):
    name = "kitchen-sink"
    params = {"n": Param(3, min=1), "bug": Param(0)}
    check_deadlock = False  # its last states are ends, not deadlocks

    def init(self):
        yield Bag((0,) * self.n, frozenset(), "open", ())

    @action(i=lambda self: range(self.n))
    def Bump(self, s, i):
        if s.phase == "open" and s.slots[i] < 2:
            return s._replace(slots=replace_at(s.slots, i, s.slots[i] + 1))

    @action(i=lambda self: range(self.n))
    def Put(self, s, i):
        if s.slots[-1 - i] and ("x", i) not in s.items and ("x", i) not in s.log:
            return s._replace(items=s.items | {("x", i)})

    @action
    def Take(self, s):
        if len(s.items) >= 2:
            smallest = min(s.items)
            return Bag(s.slots, s.items - {smallest}, s.phase, s.log + (smallest,))

    @action
    def Close(self, s):
        if s.phase == "open" and sum(s.slots) >= 3 and s.items.isdisjoint({("x", 0)}):
            return s._replace(phase="closed")

    @action
    def Reopen(self, s):
        if s.phase == "closed" and len(s.log) < 2 and s.items & {("x", 1), ("x", 2)}:
            return s._replace(phase="open", items=frozenset(), slots=tuple(reversed(s.slots)))

    @always
    def logged_once(self, s):
        return len(s.log) == len(set(s.log)) or self.bug == 1

    @always
    def bounded(self, s):
        return all(v <= 2 for v in s.slots) and s.phase in ("open", "closed") and (
            self.bug != 2 or not (s.phase == "closed" and s.items >= {("x", 1)}))

    @sometimes
    def closes(self, s):
        return s.phase == "closed"


@pytest.mark.parametrize("bug", [0, 2])
@pytest.mark.parametrize("n", [2, 3])
def test_kitchen_sink_agrees(n, bug):
    model = KitchenSink({"n": n, "bug": bug}).compile()
    plain = check(model, progress=False, engine="interpreted")
    for spill in (None, 10 ** 9):
        compiled = check(model, progress=False, engine="compiled", spill_after=spill)
        same_verdict(model, plain, compiled)
    assert plain.status == ("violation" if bug == 2 else "ok")


# -- what cannot be compiled is handed over, never trusted ----------------------------------------
@record
class Num(NamedTuple):
    n: int
    tag: tuple


class TypeInspecting(Spec):
    """Counts differently when it sees something that is not its own record type."""

    name = "type-inspecting"

    def init(self):
        yield Num(0, ())

    @action
    def Inc(self, s):
        if s.n < 5:
            return Num(s.n + (1 if type(s) is Num else 2), s.tag)


class Growing(Spec):
    """A counter up to ``top`` and a log one longer each step: the packing must widen and reshape."""

    name = "growing"
    params = {"top": Param(40)}

    def init(self):
        yield Num(0, ())

    @action
    def Inc(self, s):
        if s.n < self.top:
            return Num(s.n + 1, s.tag + (s.n % 3,) if s.n < 6 else s.tag)

    @always
    def small(self, s):
        return s.n <= self.top

    def done(self, s):
        return s.n == self.top


def test_a_spec_that_tells_a_view_from_a_record_is_handed_over():
    model = TypeInspecting({}).compile()
    auto = check(model, progress=False)
    assert auto.extra["engine"] == "interpreted" and "differently" in auto.extra["compiled_declined"]
    assert auto.distinct_states == 6
    with pytest.raises(UsageError, match="--engine compiled: .*differently"):
        check(model, progress=False, engine="compiled")


def test_widening_and_reshaping_keep_the_counts():
    model = Growing({"top": 40}).compile()
    r = CompiledSearch(model, progress=False, insist=True).run()  # no scout's states to number first
    assert r.status == "ok" and r.distinct_states == 41 and r.depth == 40
    assert r.extra["compiled"]["restarts"] >= 2
    scouted = check(model, progress=False, engine="compiled")
    assert (scouted.status, scouted.distinct_states, scouted.depth) == ("ok", 41, 40)


def test_a_memo_that_keeps_missing_hands_over_to_the_interpreted_search():
    model = Growing({"top": 5000}).compile()
    r = check(model, progress=False)
    assert r.extra["engine"] == "interpreted" and "measured slower" in r.extra["compiled_declined"]
    assert r.extra["engine_reason"].startswith("compiled search handed over: measured slower")
    assert r.status == "ok" and r.distinct_states == 5001


def test_a_read_the_views_forget_is_caught_not_trusted(monkeypatch):
    """Break the views on purpose: membership no longer records its bit.  The audit must notice."""
    from consensuslab.checkers.compiled import views as tracing

    def forgetful_contains(self, x):
        return bool(self.state._packed & self.field.element_bit(tracing.real(x)))

    monkeypatch.setattr(tracing.SetView, "__contains__", forgetful_contains)
    for variant, status, states in ((None, "ok", 1568), ("no-wait", "violation", None)):
        for workers in (1, 2):  # with two, the helper process computes the audits' model side
            r = check(TwoPhase({"rm": 4}, variant=variant).compile(), progress=False, workers=workers)
            assert r.status == status and r.extra["engine"] == "interpreted"
            assert "differ from the model's successors" in r.extra["compiled_declined"]
            assert states is None or r.distinct_states == states


def test_models_that_are_not_plain_specs_are_not_compiled():
    raft = protocol_class("raft").configure({}, None, "tiny").compile()
    assert "action table" in unsupported_reason(raft, "bfs")
    assert unsupported_reason(TwoPhase({"rm": 2}).compile(), "dfs") is not None


# -- limits and interruptions -----------------------------------------------------------------
def test_limits_give_incomplete_results():
    model = TwoPhase({"rm": 5}).compile()
    capped = check(model, progress=False, max_states=1000)
    assert (capped.status, capped.stopped_by, capped.distinct_states) == ("incomplete", "max-states", 1000)
    shallow = check(model, progress=False, max_depth=3)
    assert (shallow.status, shallow.stopped_by, shallow.depth) == ("incomplete", "max-depth", 3)
    assert shallow.extra["engine"] == "compiled"


def test_ctrl_c_gives_the_partial_result(monkeypatch):
    real, calls = levels_module.expand_level, []

    def interrupted(*args):
        calls.append(1)
        if len(calls) == 6:
            raise KeyboardInterrupt
        return real(*args)

    monkeypatch.setattr(levels_module, "expand_level", interrupted)
    r = check(TwoPhase({"rm": 4}).compile(), progress=False)
    assert (r.status, r.stopped_by) == ("incomplete", "interrupted")
    assert 0 < r.distinct_states < 1568


class Stuck(Spec):
    name = "stuck"

    def init(self):
        yield Num(0, ())

    @action(k=[1, 2])
    def Add(self, s, k):
        if s.n + k <= 4 and s.n != 3:
            return s._replace(n=s.n + k)


def test_deadlocks_are_found_with_a_shortest_trace():
    model = Stuck({}).compile()
    plain = check(model, progress=False, engine="interpreted")
    compiled = check(model, progress=False, engine="compiled")
    assert plain.status == compiled.status == "deadlock"
    assert len(compiled.violation.trace.steps) == len(plain.violation.trace.steps) == 2


# -- the command line -------------------------------------------------------------------------
def test_cli_engine_option():
    proc, out = cli_json("check", "two-phase", "-p", "rm=4", "--engine", "compiled", "--quiet")
    assert proc.returncode == 0 and out["engine"] == "compiled" and out["distinct_states"] == 1568
    proc, out = cli_json("check", "two-phase", "-p", "rm=4", "--engine", "interpreted", "--quiet")
    assert proc.returncode == 0 and out["engine"] == "interpreted" and out["distinct_states"] == 1568
    proc = cli("check", "raft", "--scenario", "tiny", "--engine", "compiled")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "--engine compiled" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("variant", [None, "no-wait"])
def test_worker_threads_give_the_same_result_and_trace(variant):
    model = TwoPhase({"rm": 5}, variant=variant).compile()
    one, two = (check(model, progress=False, workers=n, engine="compiled") for n in (1, 2))
    assert two.extra["workers"] == 2 and two.extra["compiled"]["search"] == "levels"
    assert (two.status, two.distinct_states, two.states_generated, two.depth) == \
        (one.status, one.distinct_states, one.states_generated, one.depth)
    if one.violation is not None:
        assert [str(a) for a, _ in two.violation.trace.steps] == [str(a) for a, _ in one.violation.trace.steps]


def test_cli_workers_use_the_compiled_threads_where_the_spec_compiles():
    proc, out = cli_json("check", "two-phase", "-p", "rm=5", "--workers", "2", "--quiet", "--engine", "compiled")
    assert proc.returncode == 0 and out["engine"] == "compiled" and out["workers"] == 2
    assert out["distinct_states"] == 8832
    proc, out = cli_json("check", "raft", "--scenario", "tiny", "--workers", "2", "--quiet")
    assert proc.returncode == 0 and out["engine"] == "interpreted" and out["workers"] == 2
    assert out["distinct_states"] == 3599
