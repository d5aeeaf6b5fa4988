"""``consensuslab simulate`` through the real command line: JSON shape, exit codes, traces, profiles."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest


def cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "consensuslab", *args], capture_output=True, text=True,
                          timeout=120, cwd=cwd)


def test_json_has_checks_shape_plus_examples_and_coverage():
    sim = cli("simulate", "hash-chain", "--variant", "unlinked", "--json")
    chk = cli("check", "hash-chain", "--variant", "unlinked", "--json", "--quiet")
    assert sim.returncode == chk.returncode == 12
    out, ref = json.loads(sim.stdout), json.loads(chk.stdout)
    # which exhaustive engine ran (and why it was not the compiled one) is check's alone
    missing = set(ref) - set(out) - {"fingerprint_collision_probability", "engine", "engine_reason", "compiled",
                                 "compiled_declined"}
    assert not missing
    assert out["status"] == "violation" and out["search"] == "simulate"
    assert out["violation"]["property"] == ref["violation"]["property"] == "tamper_detected"
    assert out["examples"] >= 1 and out["steps"] >= out["violation"]["trace_length"]
    assert out["coverage"]["kinds"]["step"] == out["steps"]
    assert out["found_by"] == "walk" and out["examples"] == out["walks"] + out["hypothesis_examples"]
    assert (out["max_walks"], out["max_examples"], out["max_steps"]) == (50_000, 200, 100)  # the defaults


def test_walks_zero_is_hypothesis_alone_and_the_text_says_which_phase_found_it():
    run = cli("simulate", "hash-chain", "--variant", "unlinked", "--walks", "0", "--quiet")
    assert run.returncode == 12, run.stderr
    assert "(0 random walks, " in run.stdout and "(Hypothesis) after" in run.stdout
    run = cli("simulate", "hash-chain", "--variant", "unlinked", "--quiet")
    assert "(a random walk) after" in run.stdout
    doc = cli("simulate", "--help").stdout
    assert "--walks N" in doc and "--walk-states N" in doc and "50,000" in doc


def test_trace_out_is_confirmed_by_replay(tmp_path):
    path = tmp_path / "tp.itf.json"
    run = cli("simulate", "two-phase", "--variant", "no-wait", "--seed", "3", "--trace-out", str(path))
    assert run.returncode == 12, run.stderr
    assert "=> TCConsistent" in run.stdout and "RMRcvCommitMsg" in run.stdout  # the rendered trace
    replay = cli("replay", str(path), "--json")
    assert replay.returncode == 12
    doc = json.loads(replay.stdout)
    assert doc["status"] == "reproduced" and doc["property"] == "TCConsistent"


def test_deadlock_exit_code_and_ok_run():
    dead = cli("simulate", "two-phase-actors", "--scenario", "coordinator-crash", "--json")
    assert dead.returncode == 11 and json.loads(dead.stdout)["status"] == "deadlock"
    ok = cli("simulate", "two-phase", "-p", "rm=2", "--examples", "5", "--steps", "10", "--json")
    assert ok.returncode == 0
    out = json.loads(ok.stdout)
    assert out["status"] == "ok" and out["examples"] >= 5 and out["max_steps"] == 10
    assert out["properties"]["TCConsistent"] == "not-violated"


def test_same_seed_same_output():
    args = ("simulate", "two-phase", "-p", "rm=2", "--examples", "8", "--steps", "12", "--seed", "11", "--json")
    a, b = (json.loads(cli(*args).stdout) for _ in range(2))
    for doc in (a, b):
        for key in ("seconds", "states_per_second", "seconds_to_failure"):
            doc.pop(key)
    assert a == b


@pytest.mark.parametrize("args", [
    ("simulate", "two-phase", "--examples", "0"),
    ("simulate", "no-such-protocol"),
    ("simulate", "two-phase", "--variant", "nope"),
    ("simulate", "two-phase", "--seed", "-1"),
    ("simulate", "two-phase", "--walks", "-1"),
    ("simulate", "two-phase", "--walk-states", "0"),
])
def test_bad_input_is_one_line_and_exit_2(args):
    run = cli(*args)
    assert run.returncode == 2 and run.stderr.strip().count("\n") == 0 and run.stdout == ""


def test_pytest_plugin_registers_profiles_and_stateful_test_collects(tmp_path):
    (tmp_path / "test_user.py").write_text(
        "from consensuslab.testing import stateful_test\n"
        "TestTwoPhase = stateful_test('two-phase', params={'rm': 2}, max_examples=5, steps=5)\n"
        "TestBroken = stateful_test('hash-chain', variant='unlinked', max_examples=20, steps=5)\n"
        "def test_profile():\n"
        "    from hypothesis import settings\n"
        "    assert settings.default.derandomize and settings.default.deadline is None\n")
    # The plugin arrives through its pytest11 entry point, as in a user's project after `pip install`.
    run = subprocess.run([sys.executable, "-m", "pytest", "-q",
                          "-p", "no:cacheprovider", "--hypothesis-profile", "consensuslab-ci", str(tmp_path)],
                         capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert "1 failed, 2 passed" in run.stdout, run.stdout[-2000:]
    assert "TestBroken" in run.stdout and "=> tamper_detected" in run.stdout
