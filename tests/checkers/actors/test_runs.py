"""The packed actor search as a user runs it: Ctrl-C gives the partial result, and the same command gives the
same result and counterexample in another process (another hash seed)."""

import json
import os
import signal
import subprocess
import sys
import time


def test_ctrl_c_yields_the_partial_result():
    # millions of states (acceptors=4 ends within the 2 s before the first progress line on a quiet machine);
    # no memory limit: the default (a share of the memory free at start) depends on what else the machine runs
    proc = subprocess.Popen([sys.executable, "-m", "consensuslab", "check", "paxos-actors", "-p", "acceptors=5",
                             "--json", "--memory-limit", "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    first = proc.stderr.readline()  # the first progress line: the search loop is running
    if not first:  # the run ended before its first progress line: show why
        out, err = proc.communicate(timeout=60)
        raise AssertionError(f"ended before any progress (exit {proc.returncode}):\n{out[-1500:]}\n{err[-1500:]}")
    assert "states/s" in first and time.monotonic() < deadline
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr  # an interrupted run exits 128+SIGINT, never 0, after its partial result
    out = json.loads(stdout)
    assert out["engine"] == "compiled" and out["compiled"]["model"] == "actors"
    assert (out["status"], out["stopped_by"]) == ("incomplete", "interrupted")
    assert 0 < out["distinct_states"] < 20_000_000
    assert out["properties"]["agreement"] == "unknown"


def run_in_a_fresh_process(seed: str, trace) -> dict:
    env = dict(os.environ, PYTHONHASHSEED=seed)
    proc = subprocess.run([sys.executable, "-m", "consensuslab", "check", "paxos-actors", "--scenario",
                           "no-promise-check", "--json", "--quiet", "--trace-out", str(trace)],
                          capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 12, proc.stderr
    out = json.loads(proc.stdout)
    assert out["engine"] == "compiled"
    return out


def test_the_same_command_gives_the_same_result_and_trace(tmp_path):
    first = run_in_a_fresh_process("1", tmp_path / "a.itf.json")
    second = run_in_a_fresh_process("2", tmp_path / "b.itf.json")
    for key in ("distinct_states", "states_generated", "depth", "properties"):
        assert first[key] == second[key]
    for out in (first, second):
        out["violation"].pop("trace_file")
    assert first["violation"] == second["violation"] and first["violation"]["property"] == "decision_stable"
    assert (tmp_path / "a.itf.json").read_text() == (tmp_path / "b.itf.json").read_text()
