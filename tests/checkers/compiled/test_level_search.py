"""The level search's moving parts: blocks, deferred keys, worker threads and the trace helper change nothing.

Every test here compares against a run that cannot share the part under
test (one worker, no helper, one big block, or the interpreted search): the
same status, counts, depth and counterexample, replayed on the model.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from typing import NamedTuple

import pytest

from consensuslab import check
from consensuslab.checkers import engine_choice
from consensuslab.checkers.compiled import helper as trace_helper
from consensuslab.checkers.compiled import kernels as level_kernels
from consensuslab.checkers.compiled import levels
from consensuslab.checkers.compiled.engine import CompiledSearch
from consensuslab.models.properties import always, sometimes
from consensuslab.models.records import record, replace_at
from consensuslab.models.spec import Spec, action
from consensuslab.protocols.two_phase import TwoPhase

from replaying import replay_states


def outcome(result) -> tuple:
    steps = None if result.violation is None else [str(a) for a, _ in result.violation.trace.steps]
    return (result.status, result.distinct_states, result.states_generated, result.depth,
            result.properties, steps)


@pytest.fixture
def shared_traces(monkeypatch):
    """Every batch of property traces, however small, goes half to the helper, in chunks of three states."""
    monkeypatch.setattr(trace_helper, "MIN_SHARED", 1)
    monkeypatch.setattr(trace_helper, "CHUNK", 3)
    received = []
    real = trace_helper.TraceHelper._read_through

    def counting(self, handler):
        before = sum(len(u.prepared) for u in self.units)
        real(self, handler)
        received.append(sum(len(u.prepared) for u in self.units) - before)

    monkeypatch.setattr(trace_helper.TraceHelper, "_read_through", counting)
    return received


# -- blocks and deferred keys ------------------------------------------------------------------------
@pytest.mark.parametrize("variant", [None, "no-wait"])
def test_tiny_blocks_change_nothing(monkeypatch, variant):
    """Blocks of 7 states: keys go missing in the middle of a level, states are deferred and traced later."""
    model = TwoPhase({"rm": 4}, variant=variant).compile()
    whole = check(model, progress=False, engine="compiled")
    monkeypatch.setattr(level_kernels, "BLOCK", 7)
    monkeypatch.setattr(level_kernels, "JUDGE_BLOCK", 5)
    deferred = []
    real = levels.settle

    def watching(search, groups, pending, kernel):
        deferred.append(sum(len(d) for d in pending))
        return real(search, groups, pending, kernel)

    monkeypatch.setattr(levels, "settle", watching)
    for workers in (1, 3):
        tiny = check(model, progress=False, workers=workers, engine="compiled")
        assert outcome(tiny) == outcome(whole)
    assert max(deferred) > 7  # deferred states from several blocks were traced together
    plain = check(model, progress=False, engine="interpreted")
    assert whole.status == plain.status
    if whole.status == "ok":  # a violation's counts cover its whole level here, not so in the interpreted search
        assert whole.distinct_states == plain.distinct_states
    if whole.violation is not None:
        assert len(whole.violation.trace.steps) == len(plain.violation.trace.steps)
        replay_states(model, whole.violation.trace)


@pytest.mark.parametrize("workers", [2, 3, 4])
def test_any_number_of_workers_gives_the_one_worker_result(workers):
    for variant in (None, "no-wait"):
        model = TwoPhase({"rm": 6}, variant=variant).compile()
        one = check(model, progress=False, engine="compiled")
        many = check(model, progress=False, workers=workers, engine="compiled")
        assert many.extra["workers"] == workers
        assert outcome(many) == outcome(one)


def test_max_states_keeps_the_least_states_of_the_last_level():
    model = TwoPhase({"rm": 5}).compile()
    for workers in (1, 2):
        r = check(model, progress=False, max_states=5000, workers=workers, engine="compiled")
        assert (r.status, r.stopped_by, r.distinct_states) == ("incomplete", "max-states", 5000)
    one, two = (CompiledSearch(model, progress=False, max_states=5000, workers=w, insist=True) for w in (1, 2))
    one.run(), two.run()
    assert one.levels[-1].states().tolist() == two.levels[-1].states().tolist()


# -- the trace helper -------------------------------------------------------------------------------
@pytest.mark.parametrize("variant", [None, "no-wait"])
def test_the_helper_computes_traces_and_changes_nothing(shared_traces, variant):
    model = TwoPhase({"rm": 5}, variant=variant).compile()
    alone = check(model, progress=False, workers=1, engine="compiled")
    helped = check(model, progress=False, workers=2, engine="compiled")
    assert outcome(helped) == outcome(alone)
    assert sum(shared_traces) > 100  # the helper really computed traces that were taken in
    if helped.violation is not None:
        replay_states(model, helped.violation.trace)


def test_a_helper_that_dies_is_not_missed(monkeypatch, shared_traces):
    """The helper is killed as soon as it starts: every trace is computed here instead, nothing lost."""
    real = trace_helper.TraceHelper._started

    def killed(self):
        fresh = self.proc is None
        started = real(self)
        if started and fresh:
            self.proc.kill()
            self.proc.join()
        return started

    monkeypatch.setattr(trace_helper.TraceHelper, "_started", killed)
    model = TwoPhase({"rm": 5}, variant="no-wait").compile()
    assert outcome(check(model, progress=False, workers=2, engine="compiled")) == \
        outcome(check(model, progress=False, engine="compiled"))


class Opaque:
    """A value that cannot be pickled: the helper cannot be told about it."""

    def __init__(self, k):
        self.k, self.f = k, (lambda: k)

    def __eq__(self, other):
        return isinstance(other, Opaque) and other.k == self.k

    def __hash__(self):
        return hash(("opaque", self.k))

    def __lt__(self, other):
        return self.k < other.k


@record
class Box(NamedTuple):
    held: frozenset
    slots: tuple


class Probing(Spec):
    """Properties that ask about values no state holds yet (the trace numbers them) and values that do not pickle."""

    name = "probing"

    def init(self):
        yield Box(frozenset(), (0, 0, 0, 0))

    @action(k=range(6))
    def Put(self, s, k):
        if Opaque(k) not in s.held and len(s.held) < 4:
            return s._replace(held=s.held | {Opaque(k)})

    @action(i=range(4))
    def Bump(self, s, i):
        if s.slots[i] < 3:
            return s._replace(slots=replace_at(s.slots, i, s.slots[i] + 1))

    @always
    def never_five(self, s):
        return Opaque(5) not in s.held or sum(s.slots) < 11

    @sometimes
    def full(self, s):
        return sum(s.slots) == 12 and len(s.held) == 4


def test_unpicklable_values_and_numbering_traces_stay_here(shared_traces):
    model = Probing({}).compile()
    plain = check(model, progress=False, engine="interpreted")
    alone = check(model, progress=False, workers=1, engine="compiled")
    helped = check(model, progress=False, workers=2, engine="compiled")
    assert outcome(helped) == outcome(alone)
    assert alone.status == plain.status == "violation" and alone.violation.property == "never_five"
    assert len(alone.violation.trace.steps) == len(plain.violation.trace.steps)
    replay_states(model, helped.violation.trace)


def test_numbering_in_the_helper_is_undone():
    """A trace that would number a new value gives nothing and leaves the numbering as it was."""
    model = TwoPhase({"rm": 3}).compile()
    search = CompiledSearch(model, progress=False, insist=True)
    search.run()
    layout = search.layout
    unit = next(u for u in search.actions if str(u.label) == "TMCommit")
    counts = layout.interned()
    before = layout.fields[1].interner.values[:]
    layout.fields[1].interner.id("somewhere new")  # a value numbered, then undone
    mark = len(layout.numbered) - 1
    layout.forget_since(mark)
    assert layout.interned() == counts and layout.fields[1].interner.values == before
    packed = layout.encode(model.initial_states()[0])
    assert trace_helper.compute_quietly(unit, packed) == unit.compute(packed)


# -- the process ------------------------------------------------------------------------------------------
@pytest.mark.skipif(platform.system() != "Linux" or platform.libc_ver()[0] != "glibc", reason="glibc's mallopt")
def test_the_cli_keeps_freed_memory():
    from consensuslab.checkers.compiled.allocator import keep_freed_memory

    assert keep_freed_memory() is True


def test_check_starts_without_hypothesis_or_rich():
    """Start-up is part of every check's wall time: ``check`` imports neither the simulator nor rich."""
    code = ("import sys\nfrom consensuslab.cli import main\n"
            "rc = main(['check', 'two-phase', '-p', 'rm=2', '--quiet'])\n"
            "print(rc, sorted(m for m in ('hypothesis', 'rich') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert out.stdout.split("\n")[-2].strip() == "0 []", out.stdout + out.stderr


@record
class Tally(NamedTuple):
    seen: frozenset
    slots: tuple


class Tallying(Spec):
    """An invariant that asks about a value depending on the state, so traces keep numbering new values."""

    name = "tallying"
    check_deadlock = False  # all slots full and the mark noted: an end, not a deadlock

    def init(self):
        yield Tally(frozenset(), (0, 0, 0))

    @action(i=range(3))
    def Bump(self, s, i):
        if s.slots[i] < 3:
            return s._replace(slots=replace_at(s.slots, i, s.slots[i] + 1))

    @action
    def Note(self, s):
        mark = ("sum", sum(s.slots))
        if mark not in s.seen:
            return s._replace(seen=s.seen | {mark})

    @always
    def no_high_mark(self, s):
        return ("high", sum(s.slots)) not in s.seen or sum(s.slots) < 9


def test_traces_that_number_values_are_left_to_this_process(shared_traces, tmp_path, monkeypatch):
    undone = tmp_path / "undone"
    real = trace_helper.compute_quietly

    def noting(unit, packed, key=None):
        mark = len(unit.layout.numbered)
        found = real(unit, packed, key)
        if found is None and len(unit.layout.numbered) == mark and os.getpid() != parent:
            with open(undone, "a") as f:
                f.write("x\n")
        return found

    parent = os.getpid()
    monkeypatch.setattr(trace_helper, "compute_quietly", noting)
    model = Tallying({}).compile()
    alone = check(model, progress=False, workers=1, engine="compiled")
    helped = check(model, progress=False, workers=2, engine="compiled")
    assert outcome(helped) == outcome(alone)
    plain = check(model, progress=False, engine="interpreted")
    assert alone.status == plain.status == "ok" and alone.distinct_states == plain.distinct_states
    assert undone.exists() and undone.read_text().count("x") > 0  # the helper did meet values it could not number


def test_audits_go_to_the_helper_and_a_failed_one_still_hands_over(monkeypatch):
    """With two workers the model's side of the audits is computed by the helper, not here; a mismatch it
    reports is acted on before any result is given."""
    from consensuslab.checkers.compiled import engine as compiled
    from consensuslab.checkers.compiled import views as tracing

    here, real = [], compiled.expected_steps
    parent = os.getpid()

    def counted(model, layout, s):
        if os.getpid() == parent:
            here.append(s)
        return real(model, layout, s)

    monkeypatch.setattr(compiled, "expected_steps", counted)  # the parent's audits, and the helper's:
    monkeypatch.setattr(trace_helper, "expected_steps", counted)
    compared = []
    real_audited = compiled.CompiledSearch.audited
    monkeypatch.setattr(compiled.CompiledSearch, "audited",
                        staticmethod(lambda s, mine, theirs: (compared.append(s), real_audited(s, mine, theirs))))
    model = TwoPhase({"rm": 5}).compile()
    r = check(model, progress=False, workers=2, engine="compiled")  # not left to auto's timing on a busy machine
    assert r.extra["engine"] == "compiled" and r.distinct_states == 8832
    assert len(compared) > 300 and len(here) < len(compared) / 4  # only those before the helper started

    def forgetful_contains(self, x):
        return bool(self.state._packed & self.field.element_bit(tracing.real(x)))

    monkeypatch.setattr(tracing.SetView, "__contains__", forgetful_contains)
    monkeypatch.setattr(engine_choice, "RACING", False)  # racing, the probe would answer first
    r = check(model, progress=False, workers=2)
    assert r.extra["engine"] == "interpreted" and "differ from the model's successors" in r.extra["compiled_declined"]
    assert r.distinct_states == 8832
