"""``auto`` races the interpreted search (forked) against the compiled one.

Which engine answers depends on the machine's speed at that moment, so these
tests force the outcome where they name it (a rival slowed down, a compiled
search that cannot go on) and assert the counts, which must be the same
whichever engine answers, and that no rival process outlives the run.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from consensuslab import check
from consensuslab.checkers import engine_choice
from consensuslab.checkers.compiled import evidence
from consensuslab.checkers.search import ending, explicit
from consensuslab.checkers.search import rival as rival_module
from consensuslab.protocols.paxos import Paxos
from consensuslab.protocols.two_phase import TwoPhase

from interrupting import alive, children
from paths import BENCHMARKS

SPECS = BENCHMARKS / "specs"

pytestmark = pytest.mark.skipif(not rival_module.can_race(), reason="racing needs fork and two cores")

RACED = ("the model compiles and the compiled search was faster",
         "the interpreted search, racing the compiled search in a second process, finished first",
         "the interpreted search finished within")


def no_rival_left():
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if not [p for p in multiprocessing.active_children() if p.name == "consensuslab-rival"]:
            return True
        time.sleep(0.05)
    return False


def test_either_engine_answers_with_the_same_counts():
    r = check(TwoPhase({"rm": 6}).compile(), progress=False)
    assert (r.status, r.distinct_states, r.states_generated, r.depth) == ("ok", 50816, 402305, 19)
    assert r.extra["engine_reason"].startswith(RACED), r.extra["engine_reason"]
    assert no_rival_left()


def test_a_slowed_rival_is_overtaken_and_stopped(monkeypatch):
    slow = explicit.Search._limits

    def dawdling(self, queue):
        time.sleep(0.05)  # about 20 checks a second: the compiled search soon has more states
        return slow(self, queue)

    monkeypatch.setattr(explicit.Search, "_limits", dawdling)
    from consensuslab.checkers.compiled import levels

    helpers = []
    started = levels._helper
    monkeypatch.setattr(levels, "_helper", lambda search: helpers.append(1) or started(search))
    r = check(TwoPhase({"rm": 7}).compile(), progress=False)
    assert (r.extra["engine"], r.status, r.distinct_states, r.states_generated) == ("compiled", "ok", 296448, 2744705)
    assert "overtook the interpreted search" in r.extra["engine_reason"]
    assert r.extra["compiled"]["took_rival_core"] and helpers  # the freed core traces beside the level search
    assert no_rival_left()


def cannot_go_on(monkeypatch):
    """The compiled search gives up as on a state it cannot pack (the one hand-over left while racing)."""
    from consensuslab.checkers.compiled import engine
    from consensuslab.checkers.compiled.packing import Unsupported

    def unpackable(self, layout, initial, started):
        raise Unsupported("a value it cannot pack (forced by the test)")

    monkeypatch.setattr(engine.CompiledSearch, "_attempt", unpackable)


def test_a_compiled_search_that_hands_over_takes_its_rivals_result(monkeypatch):
    cannot_go_on(monkeypatch)
    r = check(Paxos({"ballots": 3}).compile(), progress=False, max_depth=11)
    assert r.extra["engine"] == "interpreted"
    assert r.extra["engine_reason"].startswith("compiled search handed over: a value it cannot pack")
    assert "racing it in a second process" in r.extra["engine_reason"]
    assert (r.status, r.stopped_by, r.distinct_states) == ("incomplete", "max-depth", 21632)
    assert r.extra["compiled_declined"].startswith("a value it cannot pack")
    assert no_rival_left()


def test_two_workers_race_too(monkeypatch):
    """``--workers 2`` races as one worker does: a compiled search that hands over takes the rival's result,
    where it used to be followed by the interpreted search from the start (Sailfish's cfg: 65 s where the race
    takes 18)."""
    cannot_go_on(monkeypatch)
    r = check(Paxos({"ballots": 3}).compile(), progress=False, max_depth=11, workers=2)
    assert r.extra["engine"] == "interpreted"
    assert "racing it in a second process" in r.extra["engine_reason"], r.extra["engine_reason"]
    assert (r.status, r.stopped_by, r.distinct_states) == ("incomplete", "max-depth", 21632)
    assert no_rival_left()


def test_two_workers_probe_as_one_does():
    r = check(TwoPhase({"rm": 3}).compile(), progress=False, workers=2)
    assert r.extra["engine_reason"].startswith("the interpreted search finished within"), r.extra["engine_reason"]
    assert r.distinct_states == 288


def test_a_run_cut_by_max_states_does_not_depend_on_which_engine_was_faster(monkeypatch):
    """The engines cut a level differently (the same count, not the same states, depth or steps), so under
    ``--max-states`` ``auto`` neither probes nor races: a probe that would have finished used to answer."""
    monkeypatch.setattr(engine_choice, "PROBE_SECONDS", 60)
    runs = [check(Paxos({"ballots": 3}).compile(), progress=False, max_states=5000, workers=w) for w in (1, 2)]
    for r in runs:
        assert (r.extra["engine"], r.extra["engine_reason"]) == ("compiled", engine_choice.CUT)
    alone = check(Paxos({"ballots": 3}).compile(), progress=False, max_states=5000, engine="compiled")
    assert {(r.distinct_states, r.states_generated, r.depth) for r in runs} == \
        {(alone.distinct_states, alone.states_generated, alone.depth)}
    assert no_rival_left()


def test_near_the_memory_cap_the_search_behind_ends():
    model = TwoPhase({"rm": 8}).compile()
    rival = rival_module.Rival(explicit.Search(model, progress=False), 30, progress=False)
    try:
        deadline = time.monotonic() + 10
        while not rival.states_found() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert rival.keep_up(0) is None and not rival.stopped  # room left: both go on
        rival.cap = 1  # as if the two processes' data were at the run's cap
        assert rival.keep_up(0) == ending.MAKE_WAY and not rival.stopped  # the rival is ahead
        assert rival.keep_up(10 ** 9) is None  # the compiled search is ahead: the rival is stopped
        assert rival.stopped and not rival.process.is_alive()
        assert rival.result() is None  # a stopped rival has no answer to wait for
    finally:
        rival.stop()


def test_a_compiled_search_behind_makes_way_near_the_memory_cap(monkeypatch):
    monkeypatch.setattr(rival_module.Rival, "_crowded", lambda self: True)
    r = check(Paxos({"ballots": 3}).compile(), progress=False, max_depth=11)
    assert (r.extra["engine"], r.status, r.distinct_states) == ("interpreted", "incomplete", 21632)
    assert r.extra["compiled_declined"] == engine_choice.MADE_WAY
    assert no_rival_left()


@pytest.mark.parametrize("probe_seconds", [None, 0.05])
def test_the_rival_s_answer_is_the_interpreted_search_s(probe_seconds):
    """A new search, or a probe stopped by its time limit that the rival resumes: the same counts."""
    search = explicit.Search(Paxos({}).compile(), time_limit=probe_seconds, progress=False)
    if probe_seconds is not None:
        probe = search.run()
        assert probe.stopped_by == "time-limit" and search.resumable() and 0 < probe.distinct_states < 3921
    rival = rival_module.Rival(search, 60, progress=False)
    try:
        answer = rival.result()
    finally:
        rival.stop()
    alone = check(Paxos({}).compile(), progress=False, engine="interpreted")
    assert alone.distinct_states == 3921
    assert (answer.status, answer.distinct_states, answer.states_generated, answer.depth) == \
        (alone.status, alone.distinct_states, alone.states_generated, alone.depth)
    assert no_rival_left()


def test_one_core_means_no_race(monkeypatch):
    monkeypatch.setattr(rival_module, "can_race", lambda: False)
    r = check(TwoPhase({"rm": 3}).compile(), progress=False)
    assert "racing" not in r.extra["engine_reason"]
    assert r.distinct_states == 288



def test_ctrl_c_while_waiting_for_the_rival_gives_its_partial_result(monkeypatch):
    cannot_go_on(monkeypatch)
    timer = threading.Timer(2.0, lambda: os.kill(os.getpid(), signal.SIGINT))  # the rival needs about 15 s
    before = signal.signal(signal.SIGINT, signal.default_int_handler)  # Ctrl-C as a fresh process has it
    try:
        timer.start()
        r = check(Paxos({"ballots": 3}).compile(), progress=False)
    finally:
        timer.cancel()
        signal.signal(signal.SIGINT, before)
    assert (r.status, r.stopped_by, r.extra["engine"]) == ("incomplete", "interrupted", "interpreted")
    assert 0 < r.distinct_states < 185369
    assert no_rival_left()


def test_an_interrupt_answers_with_the_search_that_got_further():
    """Ctrl-C while both search: the partial result of the one with more states, said so, where the compiled
    search's count used to answer, called faster.  EWD998 with max_counter=2: about 4 s interpreted, 9 s
    compiled, so the rival is not overtaken in 1.5 s."""
    from benchmark_specs import spec_class

    timer = threading.Timer(1.5, lambda: os.kill(os.getpid(), signal.SIGINT))
    before = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        timer.start()
        r = check(spec_class("ewd998")({"max_counter": 2}).compile(), progress=False)
    finally:
        timer.cancel()
        signal.signal(signal.SIGINT, before)
    assert (r.status, r.stopped_by) == ("incomplete", "interrupted")
    assert r.extra["engine_reason"].startswith("an interrupt ended both searches, and the "
                                               f"{r.extra['engine']} search"), r.extra["engine_reason"]
    assert 0 < r.distinct_states < 20870
    assert no_rival_left()


def test_sigterm_to_the_command_ends_both_searches():
    # EWD998 with max_counter=2: about 4 s interpreted, 9 s compiled, so the rival is never overtaken
    proc = subprocess.Popen([sys.executable, "-m", "consensuslab", "check", str(SPECS / "ewd998.py"), "-p",
                             "max_counter=2", "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(1.5)  # the race is on: the compiled search (or its hand-over) and its rival
    racing = children(proc.pid)
    assert racing, "no rival running"
    proc.send_signal(signal.SIGTERM)
    stdout, _ = proc.communicate(timeout=60)
    out = json.loads(stdout)
    assert proc.returncode == 143 and out["status"] == "incomplete"
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and any(alive(pid) for pid in racing):
        time.sleep(0.05)
    assert not any(alive(pid) for pid in racing)



def test_the_rival_s_end_turned_into_another_error_still_gives_its_answer(monkeypatch):
    """The rival's end is raised wherever the compiled search is; code it lands in may report something else
    (numpy comparing structured arrays reports a TypeError).  The rival's answer is the run's all the same."""
    from consensuslab.checkers.compiled import engine

    def converting(self):
        deadline = time.monotonic() + 30
        try:
            while time.monotonic() < deadline:
                time.sleep(0.01)
        except BaseException:
            raise TypeError("Cannot compare structured arrays unless they have a common dtype") from None
        raise AssertionError("the rival's end never reached the compiled search")

    monkeypatch.setattr(engine.CompiledSearch, "run", converting)
    r = check(TwoPhase({"rm": 6}).compile(), progress=False)  # longer than the probe, about 0.5 s interpreted
    assert (r.extra["engine"], r.status, r.distinct_states) == ("interpreted", "ok", 50816)
    assert r.extra["engine_reason"] == "the interpreted search, racing the compiled search in a second process, " \
                                      "finished first"
    assert no_rival_left()


def test_an_error_of_the_compiled_search_itself_is_not_hidden(monkeypatch):
    from consensuslab.checkers.compiled import engine

    def broken(self):
        raise TypeError("a bug of the compiled search")

    monkeypatch.setattr(engine.CompiledSearch, "run", broken)
    with pytest.raises(TypeError, match="a bug of the compiled search"):
        check(TwoPhase({"rm": 6}).compile(), progress=False)
    assert no_rival_left()


def test_an_interrupt_taken_before_waiting_is_passed_on_to_the_rival():
    """The command took a Ctrl-C or SIGTERM while the compiled search ran; if it then waits for the rival, the
    rival is told at once, and its partial result comes back (it would otherwise search on, minutes here)."""
    from consensuslab.checkers.search import limits

    rival = rival_module.Rival(explicit.Search(TwoPhase({"rm": 9}).compile(), progress=False), None, progress=False)
    before = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with limits.interrupts_recorded():
            time.sleep(0.5)  # the rival is searching
            limits.note_signal(signal.SIGTERM)  # recorded, as the command's handler records it
            started = time.monotonic()
            answer = rival.result()
    finally:
        signal.signal(signal.SIGINT, before)
        rival.stop()
    assert time.monotonic() - started < rival_module.INTERRUPT_GRACE + 2
    assert answer is not None and (answer.status, answer.stopped_by) == ("incomplete", "interrupted")
    assert 0 < answer.distinct_states < 10340352
    assert no_rival_left()


def interpreted_looks_far_faster(monkeypatch):
    monkeypatch.setattr(evidence.Evidence, "interpreted_per_state", lambda self: 1e-12)


def test_a_racing_compiled_search_never_hands_over_on_its_estimate(monkeypatch):
    """The speed estimate is timed while the rival shares the machine: under CI's load it called two-phase
    rm=9 slower, and the run waited minutes for the rival.  Racing, the race alone decides."""
    interpreted_looks_far_faster(monkeypatch)
    r = check(TwoPhase({"rm": 7}).compile(), progress=False)
    assert (r.extra["engine"], r.status, r.distinct_states) == ("compiled", "ok", 296448)
    assert "compiled_declined" not in r.extra
    assert no_rival_left()


def test_without_a_race_the_same_estimate_hands_over(monkeypatch):
    """The counterpart of the test above: the forced estimate does hand over where there is no race."""
    interpreted_looks_far_faster(monkeypatch)
    monkeypatch.setattr(rival_module, "can_race", lambda: False)
    r = check(TwoPhase({"rm": 6}).compile(), progress=False)
    assert r.extra["engine"] == "interpreted" and r.distinct_states == 50816
    assert r.extra["compiled_declined"].startswith("measured slower than the interpreted search")


def test_a_time_limit_that_strikes_the_compiled_set_up_gives_the_rival_s_partial_result(monkeypatch):
    """The compiled search's set-up reads no budget, so the watchdog ends it; the rival, at the same time limit,
    has a count, and the run reports it (it reported 0 states when the rival's result was not waited for)."""
    from consensuslab.checkers.compiled import engine

    def setting_up(self):
        while True:
            time.sleep(0.01)

    monkeypatch.setattr(engine.CompiledSearch, "run", setting_up)
    r = check(TwoPhase({"rm": 9}).compile(), progress=False, time_limit=1.5)
    assert (r.status, r.stopped_by, r.extra["engine"]) == ("incomplete", "time-limit", "interpreted")
    assert 0 < r.distinct_states < 10340352
    assert r.extra["engine_reason"].startswith("the time limit ended both searches")
    assert no_rival_left()


class _TimedOutRival:
    def __init__(self, answer):
        self.answer, self.stopped = answer, False

    def result(self, within=None):
        return self.answer


def _partial(states: int):
    from consensuslab.traces.result import CheckResult

    return CheckResult("incomplete", {}, distinct_states=states, stopped_by="time-limit")


@pytest.mark.parametrize("ours, theirs, engine", [(500, 200, "compiled"), (200, 500, "interpreted"),
                                                  (200, None, "compiled")])
def test_at_the_time_limit_the_search_that_got_further_answers(ours, theirs, engine):
    rival = _TimedOutRival(None if theirs is None else _partial(theirs))
    answer = engine_choice._further(_partial(ours), rival, ending.Budget(1.0))
    assert (answer.extra["engine"], answer.distinct_states) == (engine, max(ours, theirs or 0))


def test_a_spec_the_lint_found_large_races_at_once(monkeypatch):
    """A user's spec whose lint reached ``RACE_AT`` states skips the probe: the rival starts from the first state,
    the compiled search from the lint's states, and the counts are the interpreted search's."""
    from consensuslab.checkers.search.lint import lint

    model = TwoPhase({"rm": 6}).compile()
    lint(model)
    assert len(model.first_reached) >= engine_choice.RACE_AT
    probes = []  # interpreted searches run in this process (the rival's run in its own)
    real_run = explicit.Search.run
    monkeypatch.setattr(explicit.Search, "run", lambda self: probes.append(1) or real_run(self))
    r = check(model, progress=False)
    assert not probes
    assert (r.status, r.distinct_states, r.states_generated, r.depth) == ("ok", 50816, 402305, 19)
    assert r.extra["engine_reason"].startswith(RACED[:2]), r.extra["engine_reason"]
    assert no_rival_left()
    small = TwoPhase({"rm": 2}).compile()  # its lint reached every state: the probe answers
    lint(small)
    assert len(small.first_reached) < engine_choice.RACE_AT
    r = check(small, progress=False)
    assert probes and r.extra["engine_reason"].startswith("the interpreted search finished within")
