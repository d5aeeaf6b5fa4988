"""--checkpoint DIR: stop, resume in a fresh process, and end with the uninterrupted counts."""

import json
from pathlib import Path

import pytest

from consensuslab.checkers.scale.checkpoint import check_checkpointed
from consensuslab.errors import UsageError
from consensuslab.protocols.two_phase import TwoPhase

from clirun import cli_json

from interrupting import interrupting


def test_resumes_across_processes_to_the_same_count(tmp_path):
    d = tmp_path / "ck"
    runs, out = 0, None
    while runs < 60:  # the limit counts from the command's start, loading the protocol included
        # rm=6, not rm=5: rm=5's 8,832 states fit in one 0.2 s run once the package's bytecode is cached
        proc, out = cli_json("check", "two-phase", "-p", "rm=6", "--time-limit", "0.2", "--checkpoint", d)
        runs += 1
        if out["status"] != "incomplete":
            break
        assert (d / "checkpoint.json").exists()
    assert runs >= 2, "the time limit never stopped the run: the test proves nothing"
    assert out["status"] == "ok" and out["distinct_states"] == 50816 and out["states_generated"] == 402305
    assert out["depth"] == 19 and out["resumed"] is True
    assert not (d / "checkpoint.json").exists()  # finished: the next run starts afresh


def test_in_process_resume_with_symmetry_and_max_states(tmp_path):
    from consensuslab.checkers.reduction.symmetry import canonicaliser

    model = TwoPhase({"rm": 6}).compile()
    canon, label = canonicaliser(model)
    r = check_checkpointed(model, str(tmp_path), canon, max_states=100, reduction=label)
    assert r.status == "incomplete"
    while r.status == "incomplete":
        r = check_checkpointed(model, str(tmp_path), canon, max_states=r.distinct_states + 100, reduction=label)
    assert r.status == "ok" and r.distinct_states == 553


def test_refuses_a_checkpoint_of_another_model_or_tampered(tmp_path):
    model = TwoPhase({"rm": 5}).compile()
    assert check_checkpointed(model, str(tmp_path), max_states=50).status == "incomplete"
    with pytest.raises(UsageError, match="another model"):
        check_checkpointed(TwoPhase({"rm": 4}).compile(), str(tmp_path))
    doc = json.loads((tmp_path / "checkpoint.json").read_text())
    doc["generated"] += 1
    Path(tmp_path / "checkpoint.json").write_text(json.dumps(doc))
    with pytest.raises(UsageError, match="integrity"):
        check_checkpointed(model, str(tmp_path))


# -- Ctrl-C saves the checkpoint ------------------------------------------------------------------
def test_ctrl_c_in_process_saves_between_slices_and_resumes_exactly(tmp_path):
    import signal

    handler = signal.getsignal(signal.SIGINT)
    r = check_checkpointed(interrupting(TwoPhase({"rm": 5}).compile(), at=(3000,)), str(tmp_path), progress=False)
    assert (r.status, r.stopped_by, r.extra["checkpoint_saved"]) == ("incomplete", "interrupted", True)
    assert 0 < r.distinct_states < 8832 and (tmp_path / "checkpoint.json").exists()
    assert signal.getsignal(signal.SIGINT) is handler  # restored
    done = check_checkpointed(TwoPhase({"rm": 5}).compile(), str(tmp_path), progress=False)
    assert (done.status, done.distinct_states, done.states_generated, done.depth) == ("ok", 8832, 58145, 16)


def test_a_second_ctrl_c_stops_at_once_without_saving(tmp_path):
    r = check_checkpointed(interrupting(TwoPhase({"rm": 5}).compile(), at=(3000, 3001)), str(tmp_path),
                           progress=False)
    assert (r.status, r.stopped_by, r.extra.get("checkpoint_saved")) == ("incomplete", "interrupted", False)
    assert 0 < r.distinct_states < 8832
    assert not (tmp_path / "checkpoint.json").exists()


def test_ctrl_c_on_the_command_line_saves_and_the_next_run_resumes(tmp_path):
    """SIGINT to a real process mid-search: exit 130, `interrupted`, a saved checkpoint, a stderr line saying
    where; the next run resumes and ends with the uninterrupted run's counts and verdicts (87,441
    distinct states, 244,719 generated, depth 38: `consensuslab check raft -p values=2`)."""
    import signal
    import subprocess
    import sys
    import time

    d = tmp_path / "ck"
    command = [sys.executable, "-m", "consensuslab", "check", "raft", "-p", "values=2", "--checkpoint", str(d)]
    proc = subprocess.Popen(command + ["--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    first = proc.stderr.readline()  # the first progress line (after 2 s): the search loop is running
    assert "states/s" in first, "the run ended before its first progress line: the test proves nothing"
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    out = json.loads(stdout)
    assert (out["status"], out["stopped_by"], out["checkpoint_saved"]) == ("incomplete", "interrupted", True)
    assert 0 < out["distinct_states"] < 87441
    assert f"interrupted: checkpoint saved in {d} " in stderr and "run the same command again" in stderr
    assert (d / "checkpoint.json").exists()
    started = time.monotonic()
    proc, out = cli_json(*command[3:])
    assert proc.returncode == 0, proc.stderr
    assert (out["status"], out["distinct_states"], out["states_generated"], out["depth"]) == ("ok", 87441, 244719, 38)
    assert out["resumed"] is True and out["checkpoint_saved"] is False
    assert set(out["properties"].values()) == {"holds", "witnessed"}
    assert "checkpoint saved" not in proc.stderr and time.monotonic() - started < 60
