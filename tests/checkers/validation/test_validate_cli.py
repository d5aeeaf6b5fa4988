"""``consensuslab validate`` and ``export-log`` as users run them: exit codes, output, JSON, one-line errors."""

from __future__ import annotations

import json

import subprocess
import sys

import pytest

from clirun import cli, cli_json
from paths import TESTS

MAPPING = TESTS / "checkers" / "validation" / "two_phase_log_mapping.py"


def write(path, events):
    path.write_text("".join(json.dumps(e) + "\n" for e in events))
    return path


COMMIT_RUN = [
    {"node": "tm", "seq": 1, "kind": "start", "state": {"decision": None, "votes": []}},
    {"node": "r1", "seq": 1, "kind": "start", "state": {"phase": "WORKING"}},
    {"node": "r2", "seq": 1, "kind": "start", "state": {"phase": "WORKING"}},
    {"node": "r1", "seq": 2, "kind": "vote", "state": {"phase": "PREPARED"}},
    {"node": "r2", "seq": 2, "kind": "vote", "state": {"phase": "PREPARED"}},
    {"node": "tm", "seq": 2, "kind": "recv", "msg": {"type": "PREPARED", "from": "r2"},
     "link": {"node": "r2", "seq": 2}, "state": {"votes": ["r2"]}},
    {"node": "tm", "seq": 3, "kind": "recv", "msg": {"type": "PREPARED", "from": "r1"},
     "link": {"node": "r1", "seq": 2}, "state": {"votes": ["r1", "r2"]}},
    {"node": "tm", "seq": 4, "kind": "decide", "msg": {"decision": "COMMIT"}, "state": {"decision": "COMMIT"}},
    {"node": "r1", "seq": 3, "kind": "recv", "msg": {"type": "COMMIT", "from": "tm"},
     "link": {"node": "tm", "seq": 4}, "state": {"phase": "COMMITTED"}},
    {"node": "r2", "seq": 3, "kind": "recv", "msg": {"type": "COMMIT", "from": "tm"},
     "link": {"node": "tm", "seq": 4}, "state": {"phase": "COMMITTED"}},
    {"node": "r2", "seq": 4, "kind": "recv", "msg": {"type": "COMMIT", "from": "tm"},
     "link": {"node": "tm", "seq": 4}, "state": {"phase": "COMMITTED"}},
]


def test_a_users_mapping_explains_an_implementations_log(tmp_path):
    log = write(tmp_path / "run.jsonl", COMMIT_RUN)
    proc = cli("validate", log, "--mapping", MAPPING, "--trace-out", tmp_path / "b.itf.json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.startswith("two-phase-actors (rm=2) against 3 nodes' logs (r1 3, r2 4, tm 4 events): "
                                  "EXPLAINED")
    assert "faults it needed: none" in proc.stdout  # a message soup delivers Commit twice for free
    replay = cli("replay", tmp_path / "b.itf.json", "--json")
    assert replay.returncode == 0 and json.loads(replay.stdout)["kind"] == "behaviour"


def test_a_decision_before_every_vote_arrived_is_not_explained(tmp_path):
    events = [e for e in COMMIT_RUN if not (e["node"] == "tm" and e["seq"] == 3)]  # the TM never heard r1
    proc, out = cli_json("validate", write(tmp_path / "bad.jsonl", events), "--mapping", MAPPING)
    assert proc.returncode == 12 and out["status"] == "not-explained"
    assert out["failure"]["event"] == {"node": "tm", "seq": 4}
    assert out["failure"]["reason"].startswith("no step of the model takes it")
    assert out["prefix"]["tm"] == {"last_seq": 2} and out["explained_events"] < out["events"]
    assert out["failure"]["states"] and "tm: tm_abort" in out["failure"]["enabled"]
    text = cli("validate", tmp_path / "bad.jsonl", "--mapping", MAPPING).stdout
    assert "first event no behaviour takes: tm#4 decide (" in text and "bad.jsonl:" in text


def test_a_wrong_field_is_named_with_both_values(tmp_path):
    events = [dict(e) for e in COMMIT_RUN]
    events[6] = {**events[6], "state": {"votes": ["r1"]}}
    proc = cli("validate", write(tmp_path / "f.jsonl", events), "--mapping", MAPPING)
    assert proc.returncode == 12
    assert 'field votes: log ["r1"], model ["r1", "r2"]' in proc.stdout


def test_export_then_validate_then_replay(tmp_path):
    out = tmp_path / "logs"
    proc = cli("export-log", "raft", "-p", "max_messages=2", "--steps", "50", "--seed", "2", "--out", out)
    assert proc.returncode == 0 and sorted(p.name for p in out.iterdir()) == ["s1.jsonl", "s2.jsonl", "s3.jsonl"]
    proc, result = cli_json("validate", out, "--protocol", "raft", "-p", "max_messages=2",
                            "--trace-out", tmp_path / "t.itf.json")
    assert proc.returncode == 0 and result["status"] == "explained" and result["trace_file"]
    assert cli("replay", tmp_path / "t.itf.json", "--quiet").returncode == 0
    wrong = cli("validate", out, "--protocol", "raft", "-p", "max_messages=2", "-p", "max_term=1")
    assert wrong.returncode == 12  # a model where nobody may time out explains no election


def test_memory_limit_is_read_as_every_verb_reads_it(tmp_path):
    """The command line caps the process (megabytes on top of the program); the search's side of
    the limit is tested on the library (test_validate.py)."""
    proc = subprocess.run([sys.executable, "-m", "consensuslab", "validate", str(tmp_path), "--protocol",
                           "two-phase-actors", "--memory-limit", "0.5"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "expected a number of megabytes" in proc.stderr


@pytest.mark.parametrize("limit, value", [("--time-limit", "0.000001")])
def test_limits_give_incomplete_and_exit_3(tmp_path, limit, value):
    out = tmp_path / "long"
    cli("export-log", "two-phase-actors", "--steps", "4000", "--out", out)
    proc, result = cli_json("validate", out, "--protocol", "two-phase-actors", limit, value)
    assert proc.returncode == 3 and result["status"] == "incomplete" and result["stopped_by"] == limit[2:]
    assert result["failure"] is None and result["explained_events"] < 4000


@pytest.mark.parametrize("args, words", [
    (["missing.jsonl", "--protocol", "raft"], "log file 'missing.jsonl' does not exist"),
    (["LOG"], "say which model with --protocol"),
    (["LOG", "--protocol", "raft", "--mapping", "nowhere.py"], "nowhere.py' does not exist"),
    (["LOG", "--protocol", "raft", "--mapping", "consensuslab.errors"], "defines no mapping class"),
    (["LOG", "--protocol", "nope"], "unknown protocol 'nope'"),
    (["LOG", "--protocol", "raft", "-p", "servers=9"], "out of range"),
    (["LOG", "--protocol", "raft", "--silent-steps", "-1"], "--silent-steps"),
    (["LOG", "--protocol", "raft"], "no 'action': the native mapping reads logs that name"),
])
def test_bad_input_is_one_line_and_exit_2(tmp_path, args, words):
    log = write(tmp_path / "x.jsonl", [{"node": "s1", "seq": 1, "kind": "tick"}])
    proc = cli("validate", *[str(log) if a == "LOG" else a for a in args], cwd=tmp_path)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert words in proc.stderr and proc.stderr.count("\n") == 1 and proc.stdout == ""


def test_a_mapping_that_raises_is_named(tmp_path):
    bad = tmp_path / "bad_mapping.py"
    bad.write_text("from consensuslab import Mapping\n\nclass Bad(Mapping):\n"
                   "    def expectations(self, model, node, events):\n        return 1 / 0\n")
    log = write(tmp_path / "x.jsonl", [{"node": "s1", "seq": 1, "kind": "tick"}])
    proc = cli("validate", log, "--protocol", "raft", "--mapping", bad)
    assert proc.returncode == 2
    assert "mapping Bad: expectations for node s1 raised ZeroDivisionError: division by zero" in proc.stderr
    assert "bad_mapping.py:5" in proc.stderr
