"""--checkpoint DIR: stop, resume in a fresh process, and end with the uninterrupted counts."""

import json
from pathlib import Path

import pytest

from clirun import cli_json
from consensuslab.checkers.checkpoint import check_checkpointed
from consensuslab.errors import UsageError
from consensuslab.protocols.two_phase import TwoPhase


def test_resumes_across_processes_to_the_same_count(tmp_path):
    d = tmp_path / "ck"
    runs, out = 0, None
    while runs < 40:
        proc, out = cli_json("check", "two-phase", "-p", "rm=5", "--time-limit", "0.01", "--checkpoint", d)
        runs += 1
        if out["status"] != "incomplete":
            break
        assert (d / "checkpoint.json").exists()
    assert runs >= 2, "the time limit never stopped the run: the test proves nothing"
    assert out["status"] == "ok" and out["distinct_states"] == 8832 and out["states_generated"] == 58145
    assert out["depth"] == 16 and out["resumed"] is True
    assert not (d / "checkpoint.json").exists()  # finished: the next run starts afresh


def test_in_process_resume_with_symmetry_and_max_states(tmp_path):
    from consensuslab.checkers.symmetry import canonicaliser

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
