"""A BFS level that spills to disk gives the same search as one kept in memory."""

import os

import consensuslab.checkers.search.frontier as frontier_module
from consensuslab import check
from consensuslab.checkers.search.explicit import Search
from consensuslab.protocols.two_phase import TwoPhase

from replaying import replay_states


def summary(r):
    return r.status, r.distinct_states, r.states_generated, r.depth, r.properties


def test_spilled_search_equals_in_memory_search():
    model = TwoPhase({"rm": 5}).compile()
    plain = check(model, progress=False)
    spilled = check(model, progress=False, spill_after=50)
    assert summary(spilled) == summary(plain)
    assert spilled.extra["frontier_spilled_states"] > 1000
    assert "frontier_spilled_states" not in plain.extra


def test_spilled_search_finds_the_same_shortest_counterexample():
    model = TwoPhase({"rm": 4}, variant="no-wait").compile()
    plain = check(model, progress=False, engine="interpreted")
    spilled = check(model, progress=False, spill_after=3, engine="interpreted")
    assert spilled.status == "violation" and spilled.violation.property == "TCConsistent"
    assert [a for a, _ in spilled.violation.trace.steps] == [a for a, _ in plain.violation.trace.steps]
    last = replay_states(model, spilled.violation.trace)[-1]
    assert model.first_broken_invariant(last).name == "TCConsistent"


def test_low_memory_spills_and_the_files_are_removed(monkeypatch):
    monkeypatch.setattr(frontier_module, "available_memory_share", lambda: 0.01)
    model = TwoPhase({"rm": 4}).compile()
    search = Search(model, progress=False)
    seen_dirs = []
    real_spill = search.frontier.spill

    def spy(states):
        real_spill(states)
        seen_dirs.append(search.frontier.directory.name)

    search.frontier.spill = spy
    r = search.run()
    assert r.status == "ok" and r.distinct_states == 1568
    assert r.extra["frontier_spilled_states"] > 0 and seen_dirs
    assert not os.path.exists(seen_dirs[0])


def test_plenty_of_memory_never_spills(monkeypatch):
    monkeypatch.setattr(frontier_module, "available_memory_share", lambda: 0.9)
    r = check(TwoPhase({"rm": 4}).compile(), progress=False)
    assert "frontier_spilled_states" not in r.extra


def test_cli_option():
    from clirun import cli, cli_json

    proc, out = cli_json("check", "two-phase", "-p", "rm=4", "--spill-after", "10")
    assert proc.returncode == 0, proc.stderr
    assert out["distinct_states"] == 1568 and out["frontier_spilled_states"] > 0
    proc = cli("check", "two-phase", "--spill-after", "0")
    assert proc.returncode == 2 and "--spill-after" in proc.stderr and "Traceback" not in proc.stderr
