"""Model-based testing: the example implementations conform, their planted bugs are found, regression tests work."""

from __future__ import annotations

import subprocess
import sys

import pytest

from clirun import cli, cli_json
from consensuslab.errors import ModelError
from consensuslab.protocols import configure
from consensuslab.testing import conform
from consensuslab.commands.user_code import load_adapter
from paths import ROOT

EXAMPLES = ROOT / "examples" / "implementations"
TWO_PHASE, RAFT = EXAMPLES / "two_phase.py", EXAMPLES / "raft_election.py"


@pytest.mark.parametrize("target, states", [(f"{TWO_PHASE}:TwoPhaseAdapter", 288),
                                            (f"{RAFT}:RaftAdapter", 1675)])
def test_the_correct_implementations_conform_in_every_behaviour_within_bounds(target, states):
    result = conform(target)
    assert result.status == "ok" and result.exit_code == 0 and result.divergence is None
    assert result.states == states  # every model state was reached with the implementation in tow
    walks = conform(target, search="walks", walks=200, steps=30, seed=1)
    assert walks.status == "ok" and walks.walks == 200


def test_a_majority_coordinator_is_caught_committing_early():
    result = conform(f"{TWO_PHASE}:MajorityAdapter")
    d = result.divergence
    assert result.status == "violation" and result.exit_code == 12
    assert d.what == "enabled" and d.node == "tm"
    assert "the implementation would take tm_commit, the model may not" in d.message
    assert len(d.trace) == 4  # two votes prepared and delivered: the shortest such behaviour
    assert sorted(s.phase for s in d.trace.states[-1].locals[1:]).count("prepared") == 2


def test_a_forgotten_vote_is_caught_at_the_restart():
    result = conform(f"{RAFT}:ForgetfulAdapter")
    d = result.divergence
    assert d.what == "state" and d.field == "voted_for" and d.implementation is None
    assert [a.kind for a in d.trace.actions] == ["timer", "crash", "recover"]
    assert d.beside[-1] == {"node": "s1", "term": 2, "voted_for": None, "role": "follower", "votes": set()}


@pytest.mark.parametrize("adapter", ["MajorityAdapter", "ForgetfulAdapter"])
def test_random_walks_find_the_bugs_too_and_shrink_them(adapter):
    target = f"{TWO_PHASE if adapter == 'MajorityAdapter' else RAFT}:{adapter}"
    found = conform(target, search="walks", walks=200, steps=40, seed=0)
    shortest = conform(target)
    assert found.status == "violation"
    assert len(found.divergence.trace) <= len(shortest.divergence.trace) + 1


def test_the_regression_test_fails_with_the_bug_and_passes_without(tmp_path):
    test = tmp_path / "test_regression.py"
    proc = cli("conform", f"{RAFT}:ForgetfulAdapter", "--test-out", test)
    assert proc.returncode == 12 and f"regression test written to {test}" in proc.stdout
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(test)],
                         capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert run.returncode == 1 and "step 3: s1.voted_for: the model has 's1', the implementation None" in run.stdout
    test.write_text(test.read_text().replace(":ForgetfulAdapter", ":RaftAdapter"))
    fixed = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(test)],
                           capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert fixed.returncode == 0, fixed.stdout


def test_cli_reports_the_trace_with_the_implementations_values_beside_it(tmp_path):
    proc = cli("conform", f"{TWO_PHASE}:MajorityAdapter", "--no-test", "--trace-out", tmp_path / "d.itf.json")
    assert proc.returncode == 12
    assert "two-phase-actors (rm=3): DIVERGES" in proc.stdout
    assert "divergence at step 4: tm: the implementation would take tm_commit, the model may not" in proc.stdout
    assert "impl   tm: phase=init, prepared={r1, r2}" in proc.stdout
    assert not list(tmp_path.glob("test_*.py"))
    assert cli("replay", tmp_path / "d.itf.json", "--quiet").returncode == 0  # the model's own behaviour
    ok, out = cli_json("conform", f"{TWO_PHASE}:TwoPhaseAdapter")
    assert ok.returncode == 0 and out["status"] == "ok" and out["states"] == 288


@pytest.mark.parametrize("limit", ["time_limit", "memory_limit"])
def test_limits_end_incomplete_never_a_verdict(limit):
    bfs = conform(f"{RAFT}:RaftAdapter", **{limit: 1e-6})  # 1,675 states unbounded (above)
    assert bfs.status == "incomplete" and bfs.stopped_by == limit.replace("_", "-") and bfs.exit_code == 3
    assert bfs.divergence is None and bfs.states < 1675
    walks = conform(f"{RAFT}:RaftAdapter", search="walks", walks=200, steps=30, **{limit: 1e-6})
    assert walks.status == "incomplete" and walks.stopped_by == limit.replace("_", "-") and walks.walks < 200


def test_cli_limits_exit_3(tmp_path):
    proc, out = cli_json("conform", f"{RAFT}:RaftAdapter", "--time-limit", "0.000001", cwd=tmp_path)
    assert proc.returncode == 3 and out["status"] == "incomplete" and out["stopped_by"] == "time-limit"
    # --memory-limit is read as every verb reads it (megabytes on top of the program; the search's side is
    # tested on the library above)
    proc = subprocess.run([sys.executable, "-m", "consensuslab", "conform", f"{RAFT}:RaftAdapter", "--memory-limit",
                           "0.5"], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert proc.returncode == 2 and "expected a number of megabytes" in proc.stderr


@pytest.mark.parametrize("args, words", [
    (["nowhere.py"], "nowhere.py' does not exist"),
    (["consensuslab.errors"], "defines no adapter class"),
    ([f"{TWO_PHASE}:Nope"], "has no adapter class 'Nope'"),
    ([f"{RAFT}:RaftAdapter", "--protocol", "raft", "--scenario", "default"], "conform drives actor protocols"),
    ([f"{TWO_PHASE}:TwoPhaseAdapter", "-p", "rm=99"], "out of range"),
])
def test_bad_input_is_one_line_and_exit_2(tmp_path, args, words):
    proc = cli("conform", *args, cwd=tmp_path)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert words in proc.stderr and proc.stderr.count("\n") == 1


# -- what each comparison catches, on small broken adapters ----------------------------------------
def broken(kind):
    adapter = load_adapter(f"{TWO_PHASE}:TwoPhaseAdapter")
    if kind == "sends":  # a participant that also tells the other participants it prepared
        plain = adapter.local

        def local(impl, node, name, args):
            out = plain(impl, node, name, args)
            return out + [(n, out[0][1]) for n in adapter.topology["rm"] if n != node] if name == "rm_prepare" else out
        adapter.local = local
    elif kind == "raises":
        adapter.deliver = lambda impl, node, src, msg: 1 / 0
    elif kind == "refuses":  # a coordinator whose abort button commits, and refuses without every vote
        plain = adapter.local
        adapter.local = lambda impl, node, name, args: (impl.commit() if name == "tm_abort"
                                                        else plain(impl, node, name, args))
    return adapter


@pytest.mark.parametrize("kind, what, words", [
    ("sends", "sends", "r1 sent ['r2 <- Prepared()', 'r3 <- Prepared()', 'tm <- Prepared()']; the model sends "
                       "['tm <- Prepared()']"),
    ("raises", "raised", "the implementation raised ZeroDivisionError: division by zero"),
    ("refuses", "refused", "the implementation refuses it (not every participant voted yes)"),
])
def test_each_kind_of_divergence(kind, what, words):
    model = configure("two-phase-actors", {"rm": 3}).compile()
    from consensuslab.checkers.conformance.explore import conform as explore

    d = explore(model, broken(kind)).divergence
    assert d is not None and d.what == what and words in d.message


def test_specs_are_refused_with_a_reason():
    from consensuslab.checkers.conformance.lockstep import Lockstep

    with pytest.raises(ModelError, match="global-state spec"):
        Lockstep(configure("raft").compile(), load_adapter(f"{RAFT}:RaftAdapter"))
