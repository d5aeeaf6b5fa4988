"""Interrupted runs never pass for finished ones (item 2 of the trust issue).

Ctrl-C (SIGINT) and SIGTERM (what a CI job's timeout sends) stop every command
with the partial result printed where there is one, exit 128 + the signal
(130, 143), never 0; worker processes are ended, spill directories removed,
checkpoints saved where asked.
"""

import json
import os
import signal
import subprocess
import sys
import time


from interrupting import alive, children
from paths import ROOT


def start(*args, tmpdir=None):
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    if tmpdir is not None:
        env["TMPDIR"] = str(tmpdir)
    return subprocess.Popen([sys.executable, "-m", "consensuslab", *map(str, args)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)


def progress_then(proc, signum):
    """Wait for the first progress line (the search loop is running), then send ``signum``."""
    first = proc.stderr.readline()
    assert "states/s" in first, "the run ended before its first progress line: the test proves nothing"
    proc.send_signal(signum)
    return proc.communicate(timeout=60)


def test_sigterm_gives_the_partial_result_and_143():
    proc = start("check", "two-phase", "-p", "rm=10", "--json")
    stdout, stderr = progress_then(proc, signal.SIGTERM)
    assert proc.returncode == 143, stderr
    out = json.loads(stdout)
    assert (out["status"], out["stopped_by"]) == ("incomplete", "interrupted") and out["distinct_states"] > 0


def test_sigterm_removes_the_spill_directory(tmp_path):
    proc = start("check", "paxos-actors", "-p", "acceptors=4", "--spill-after", "500", "--json", tmpdir=tmp_path)
    first = proc.stderr.readline()
    assert "states/s" in first
    deadline = time.monotonic() + 30
    while not list(tmp_path.glob("consensuslab-frontier-*")) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert list(tmp_path.glob("consensuslab-frontier-*")), "nothing spilled: the test proves nothing"
    proc.send_signal(signal.SIGTERM)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 143, stderr
    assert json.loads(stdout)["status"] == "incomplete"
    assert list(tmp_path.iterdir()) == []


def test_sigterm_ends_the_worker_processes():
    # the interpreted search forks its workers (the packed actor search runs in one process)
    proc = start("check", "paxos-actors", "-p", "acceptors=4", "--engine", "interpreted", "--workers", "2", "--json")
    first = proc.stderr.readline()
    assert "states/s" in first
    deadline = time.monotonic() + 60
    workers = []
    while len(workers) < 2 and time.monotonic() < deadline:
        workers = children(proc.pid)
        time.sleep(0.1)
    assert len(workers) >= 2, "no workers were forked: the test proves nothing"
    proc.send_signal(signal.SIGTERM)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 143, stderr
    assert json.loads(stdout)["status"] == "incomplete"
    assert "Traceback" not in stderr
    assert not [p for p in workers if alive(p)], "a worker outlived the run"


def test_ctrl_c_in_a_swarm_gives_the_searches_so_far():
    proc = start("check", "raft", "-p", "servers=5", "--swarm", "50", "--json")
    time.sleep(4)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    out = json.loads(stdout)
    assert (out["status"], out["stopped_by"]) == ("incomplete", "interrupted")


def test_ctrl_c_in_the_hypothesis_phase_of_simulate_is_never_swallowed():
    """Ctrl-C at several moments (loading, then Hypothesis examples): always 130, with the partial result
    once the examples run.  A swallowed interrupt (raised inside a finaliser, say) is still noticed."""
    partial = 0
    for delay in (2.0, 3.5, 5.0, 6.5):
        proc = start("simulate", "raft", "-p", "servers=5", "--walks", "0", "--examples", "1000000", "--json")
        time.sleep(delay)
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=60)
        assert proc.returncode == 130, stderr
        if stdout:
            out = json.loads(stdout)
            assert (out["status"], out["stopped_by"]) == ("incomplete", "interrupted")
            assert out["hypothesis_examples"] > 0
            partial += 1
    assert partial, "no run reached the Hypothesis phase: the test proves nothing"


def test_ctrl_c_in_mutate_is_an_interruption_not_bad_input():
    """Ctrl-C while the mutants run: the mutants so far are reported, exit 130 (it was 2, 'bad input')."""
    proc = start("mutate", "two-phase", "-p", "rm=9")
    assert "baseline ok" in proc.stdout.readline()
    proc.send_signal(signal.SIGINT)
    stdout = proc.stdout.read()  # through the same buffer: communicate() would lose what readline read ahead
    stderr = proc.stderr.read()
    assert proc.wait(timeout=60) == 130, stderr
    assert stdout and "incomplete" in stdout.splitlines()[-1] and "does not pass" not in stderr, (stdout, stderr)


def test_ctrl_c_in_check_all_never_exits_0():
    proc = start("check-all", "--protocol", "raft")
    assert proc.stdout.readline().startswith(("PASS", "FAIL", "INCOMPLETE"))  # the scenarios are running
    proc.send_signal(signal.SIGINT)
    _stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr


def test_sigterm_saves_the_checkpoint(tmp_path):
    d = tmp_path / "ck"
    proc = start("check", "raft", "-p", "values=2", "--checkpoint", d, "--json")
    stdout, stderr = progress_then(proc, signal.SIGTERM)
    assert proc.returncode == 143, stderr
    out = json.loads(stdout)
    assert (out["stopped_by"], out["checkpoint_saved"]) == ("interrupted", True)
    assert f"interrupted: checkpoint saved in {d} " in stderr
