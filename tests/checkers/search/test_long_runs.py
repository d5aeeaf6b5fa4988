"""Long runs: progress on stderr, and Ctrl-C returning the partial result."""

import json
import signal
import subprocess
import sys
import time

import pytest

from interrupting import interrupting


# rm=10 (about 61.5 million states): far more than these runs reach before their limit or Ctrl-C, where rm=9
# (about 3 s in all) might finish first
def test_progress_is_printed_for_runs_over_two_seconds():
    proc = subprocess.run([sys.executable, "-m", "consensuslab", "check", "two-phase", "-p", "rm=10",
                           "--time-limit", "4.5", "--json"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 3
    out = json.loads(proc.stdout)
    assert out["status"] == "incomplete" and out["stopped_by"] == "time-limit"
    assert "states/s" in proc.stderr and "depth" in proc.stderr and "queue" in proc.stderr


def test_quick_runs_print_no_progress():
    proc = subprocess.run([sys.executable, "-m", "consensuslab", "check", "two-phase", "--json"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and proc.stderr == ""


@pytest.mark.parametrize("extra", [[], ["--workers", "2"]])
def test_ctrl_c_yields_the_partial_result(extra):
    proc = subprocess.Popen([sys.executable, "-m", "consensuslab", "check", "two-phase", "-p", "rm=10",
                             "--json", *extra], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    first = proc.stderr.readline()  # the first progress line: the search loop is running
    assert "states/s" in first and time.monotonic() < deadline
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr  # an interrupted run never passes for a finished one
    out = json.loads(stdout)
    assert out["status"] == "incomplete"
    assert out["stopped_by"] == "interrupted"
    assert out["distinct_states"] > 0
    assert out["properties"]["TCConsistent"] == "unknown"


def test_ctrl_c_in_a_symmetric_search_yields_the_partial_result():
    from consensuslab.checkers.reduction.symmetry import canonicaliser
    from consensuslab.checkers.scale.partition import check_local
    from consensuslab.protocols.two_phase import TwoPhase

    model = TwoPhase({"rm": 6}).compile()
    canon, label = canonicaliser(model)
    before = signal.signal(signal.SIGINT, signal.default_int_handler)  # Ctrl-C as a fresh process has it
    try:
        r = check_local(interrupting(model, at=(40,)), canon, reduction=label)
    finally:
        signal.signal(signal.SIGINT, before)
    assert (r.status, r.stopped_by) == ("incomplete", "interrupted")
    assert 0 < r.distinct_states < 553 and r.properties["TCConsistent"] == "unknown"
