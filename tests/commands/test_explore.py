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
    # no-wait with 2 RMs: abort r1, prepare r2, TM receives it, commits, r2 commits; numbers never change
    script = "1\n4\n6\n7\n9\nb\nq\n"
    proc = explore(script, "two-phase", "--variant", "no-wait", "-p", "rm=2")
    assert proc.returncode == 0, proc.stderr
    screens = proc.stdout.split("-- step ")
    assert [s.split(":")[0] for s in screens[1:]] == ["0", "1", "2", "3", "4", "5", "4"]
    assert screens[6].startswith("5: RMRcvCommitMsg(r2)")
    assert "r2: receives Commit from TM (sent at step 4)" in screens[6]
    assert "! TCConsistent is violated here" in screens[6]
    assert "TCConsistent" not in screens[7]  # back at step 4: not violated yet
    assert "* rmState = {r1: aborted, r2: committed}" in screens[6]


def test_action_numbers_are_stable_for_the_session():
    proc = explore("1\nb\nq\n", "two-phase", "-p", "rm=2")
    first, after, back = proc.stdout.split("-- step ")[1:4]
    numbered = lambda screen: dict(line.strip().split("] ", 1)[::-1] for line in screen.splitlines()  # noqa: E731
                                   if line.strip().startswith("["))
    assert numbered(first)["RMPrepare(r2)"] == numbered(after)["RMPrepare(r2)"] == "[4"
    assert numbered(back) == numbered(first)
    assert "RMChooseToAbort(r1)" not in numbered(after)


def test_help_path_random_and_save_then_replay(tmp_path):
    out = tmp_path / "walk.itf.json"
    script = f"h\n1\n4\n6\n7\n9\np\ns {out}\nq\n"
    proc = explore(script, "two-phase", "--variant", "no-wait", "-p", "rm=2")
    assert proc.returncode == 0, proc.stderr
    assert "s, save FILE" in proc.stdout and "r, random [K]" in proc.stdout
    assert "path (5 steps)\n    1  RMChooseToAbort(r1)\n    2  RMPrepare(r2)" in proc.stdout
    assert f"saved 5 steps to {out}: ends in TCConsistent (invariant)" in proc.stdout
    replay = subprocess.run([sys.executable, "-m", "consensuslab", "replay", str(out), "--quiet"],
                            capture_output=True, text=True, timeout=60)
    assert replay.returncode == 12 and "reproduced: TCConsistent" in replay.stdout
    walks = [explore("r 6\np\nq\n", "two-phase", "-p", "rm=3", "--seed", str(seed)).stdout for seed in (1, 1, 2)]
    assert "took 6 random step(s)" in walks[0] and walks[0] == walks[1] and walks[0] != walks[2]
    bad = explore("42\nzap\nq\n", "two-phase", "-p", "rm=2")
    assert "no action 42 here; enabled: 1, 2, 3, 4, 5" in bad.stdout and "unknown command 'zap'" in bad.stdout


def test_jump_into_a_trace_and_follow_it():
    proc = explore("j 2\n70\nj 5\nq\n", "two-phase", "--trace", TRACE)
    assert proc.returncode == 0, proc.stderr
    jumped = proc.stdout.split("-- step 2: RMPrepare(r2)")[1]
    assert "TMRcvPrepared(r2)  <- trace" in jumped.split("-- step")[0]
    assert "no action 70 here" in proc.stdout
    assert "-- step 5: RMRcvCommitMsg(r2)" in proc.stdout
    wrong = explore("q\n", "hash-chain", "--trace", TRACE)
    assert wrong.returncode == 2 and "not hash-chain" in wrong.stderr


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
def test_in_a_real_terminal_with_tmux(tmp_path):
    name = f"cl-explore-{os.getpid()}"
    cmd = f"env XDG_STATE_HOME={tmp_path} PYTHONPATH={os.environ.get('PYTHONPATH', '')} " \
          f"{sys.executable} -m consensuslab explore two-phase -p rm=1"
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
        subprocess.run(["tmux", "send-keys", "-t", name, "p", "Enter"], check=True)
        assert wait_for("path (1 steps)")
        subprocess.run(["tmux", "send-keys", "-t", name, "Up", "Enter"], check=True)  # readline's history
        for _ in range(50):
            if screen().count("path (1 steps)") >= 2:
                break
            time.sleep(0.1)
        assert screen().count("path (1 steps)") >= 2
        subprocess.run(["tmux", "send-keys", "-t", name, "q", "Enter"], check=True)
        history = tmp_path / "consensuslab" / "explore_history"
        for _ in range(50):
            if history.exists():
                break
            time.sleep(0.1)
        assert history.read_text().split()[-3:] == ["2", "p", "q"]  # readline keeps one of repeated lines
    finally:
        subprocess.run(["tmux", "kill-session", "-t", name], capture_output=True)
