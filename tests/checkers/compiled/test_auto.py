"""``auto`` without a race (one core, or no fork): a search the interpreted engine finishes within the probe is
answered by it, a longer one compiles.  The race is ``test_engine_race.py``'s.

Both engines give the same result (``test_same_counterexamples.py``), so only
``engine``, ``engine_reason`` and the time differ.
"""

from __future__ import annotations

import pytest

from consensuslab import check
from consensuslab.checkers import engine_choice as choice
from consensuslab.protocols.paxos import Paxos
from consensuslab.protocols.two_phase import TwoPhase


@pytest.fixture(autouse=True)
def no_race(monkeypatch):
    monkeypatch.setattr(choice, "RACING", False)


def test_a_small_search_is_answered_by_the_interpreted_probe():
    r = check(Paxos({}, "no-promise-check").compile(), progress=False)
    assert r.extra["engine"] == "interpreted"
    assert r.extra["engine_reason"].startswith("the interpreted search finished within")
    assert (r.status, r.distinct_states) == ("violation", 276)


def test_a_search_the_probe_does_not_finish_goes_on_to_the_compiled_search(monkeypatch):
    monkeypatch.setattr(choice, "PROBE_SECONDS", 0.0001)  # as if the model were too big for the probe
    r = check(TwoPhase({"rm": 5}).compile(), progress=False)
    # compiled, unless its own levels measured slower on this machine at this moment (then it says so)
    assert r.extra["engine_reason"] in (
        "the model compiles and the compiled search was not slower (the interpreted search, probed for up to "
        "0.0001 s, had not finished)") or r.extra["engine_reason"].startswith("compiled search handed over: measured slower")
    assert (r.status, r.distinct_states) == ("ok", 8832)


def test_no_probe_when_it_is_zero(monkeypatch):
    monkeypatch.setattr(choice, "PROBE_SECONDS", 0)
    r = check(Paxos({}, "no-promise-check").compile(), progress=False)
    assert not r.extra["engine_reason"].startswith("the interpreted search finished within")


def test_a_time_limit_shorter_than_the_probe_ends_in_the_probe(monkeypatch):
    monkeypatch.setattr(choice, "PROBE_SECONDS", 60)
    r = check(TwoPhase({"rm": 9}).compile(), progress=False, time_limit=0.05)
    assert (r.status, r.stopped_by, r.extra["engine"]) == ("incomplete", "time-limit", "interpreted")


def test_without_a_race_workers_skip_the_probe():
    r = check(TwoPhase({"rm": 3}).compile(), progress=False, workers=2)
    assert not r.extra["engine_reason"].startswith("the interpreted search finished within")
    assert r.distinct_states == 288


def _slices(monkeypatch, left: float):
    """Probe slices of 10 ms within 60 s, each judged by a search that says it has ``left`` seconds to go."""
    from consensuslab.checkers.search import explicit

    judged = []
    monkeypatch.setattr(choice, "PROBE_SECONDS", 60)
    monkeypatch.setattr(choice, "PROBE_FIRST", 0.01)
    monkeypatch.setattr(explicit.Search, "seconds_left", lambda self, spent: judged.append(spent) or left)
    return judged


def test_a_probe_whose_levels_show_it_ending_goes_on_slice_by_slice(monkeypatch):
    judged = _slices(monkeypatch, 0.0)
    r = check(TwoPhase({"rm": 5}).compile(), progress=False)
    assert len(judged) >= 2  # several slices, each judged
    assert (r.extra["engine"], r.status, r.distinct_states) == ("interpreted", "ok", 8832)
    assert r.extra["engine_reason"].startswith("the interpreted search finished within 60 s")
    assert r.seconds >= judged[-1]  # the whole probe, not its last slice


def test_a_probe_whose_levels_show_a_larger_search_stops_after_its_first_slice(monkeypatch):
    judged = _slices(monkeypatch, 1e9)
    r = check(TwoPhase({"rm": 5}).compile(), progress=False)
    assert len(judged) == 1
    assert r.extra["engine_reason"].startswith(
        "the model compiles and the compiled search was not slower (the interpreted search, probed for up to 60 s") \
        or r.extra["engine_reason"].startswith("compiled search handed over: measured slower")
    assert (r.status, r.distinct_states) == ("ok", 8832)
