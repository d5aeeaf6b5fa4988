"""The interactive explorer, driven by a piped script (and by tmux when it is installed)."""

import os
import shutil
import subprocess
import sys
import time

import pytest

from paths import TRACES

TRACE = str(TRACES / "two-phase-no-wait.itf.json")


def explore(script, *args):
    return subprocess.run([sys.executable, "-m", "consensuslab", "explore", *args], input=script,
                          capture_output=True, text=True, timeout=60)


def test_scripted_walk_to_the_violation_and_back():
    # no-wait with 2 RMs: abort r1, prepare r2, TM receives it, commits, r2 commits
    script = "1\n2\n2\n2\n2\nb\nq\n"
    proc = explore(script, "two-phase", "--variant", "no-wait", "-p", "rm=2")
    assert proc.returncode == 0, proc.stderr
    screens = proc.stdout.split("-- step ")
    assert [s.split(":")[0] for s in screens[1:]] == ["0", "1", "2", "3", "4", "5", "4"]
    assert screens[6].startswith("5: RMRcvCommitMsg(r2)")
    assert "! TCConsistent is violated here" in screens[6]
    assert "TCConsistent" not in screens[7]  # back at step 4: not violated yet
    assert "* rmState = <aborted, committed>" in screens[6]


def test_jump_into_a_trace_and_follow_it():
    proc = explore("j 2\n7\nj 5\nq\n", "two-phase", "--trace", TRACE)
    assert proc.returncode == 0, proc.stderr
    jumped = proc.stdout.split("-- step 2: RMPrepare(r2)")[1]
    assert "TMRcvPrepared(r2)  <- trace" in jumped.split("-- step")[0]
    assert "no action 7" in proc.stdout
    assert "-- step 5: RMRcvCommitMsg(r2)" in proc.stdout
    wrong = explore("q\n", "hash-chain", "--trace", TRACE)
    assert wrong.returncode == 2 and "not hash-chain" in wrong.stderr


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
def test_in_a_real_terminal_with_tmux(tmp_path):
    name = f"cl-explore-{os.getpid()}"
    cmd = f"{sys.executable} -m consensuslab explore two-phase -p rm=1"
    subprocess.run(["tmux", "new-session", "-d", "-s", name, "-x", "160", "-y", "50", cmd], check=True)
    try:
        def screen():
            return subprocess.run(["tmux", "capture-pane", "-p", "-t", name], capture_output=True, text=True).stdout

        def wait_for(text):
            for _ in range(100):
                if text in screen():
                    return True
                time.sleep(0.1)
            return False

        assert wait_for("[1] RMChooseToAbort(r1)")
        subprocess.run(["tmux", "send-keys", "-t", name, "2", "Enter"], check=True)
        assert wait_for("-- step 1: RMPrepare(r1)")
        assert "> " in screen()  # a terminal gets a prompt
        subprocess.run(["tmux", "send-keys", "-t", name, "q", "Enter"], check=True)
    finally:
        subprocess.run(["tmux", "kill-session", "-t", name], capture_output=True)
