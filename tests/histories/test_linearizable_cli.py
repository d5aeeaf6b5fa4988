"""``consensuslab linearizable``: exit codes, JSON shape, one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from paths import DATA

HISTORIES = DATA / "histories"


def run(*args, env=None):
    return subprocess.run([sys.executable, "-m", "consensuslab", "linearizable", *map(str, args)],
                          capture_output=True, text=True, timeout=60,
                          env=None if env is None else os.environ | env)


def test_linearizable_history_exits_0():
    r = run(HISTORIES / "concurrent-writes.json", "--model", "register")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("linearizable: 6 operations, register model")


def test_violation_exits_12_and_reports_witness_and_prefix():
    r = run(HISTORIES / "stale-read.json", "--model", "register")
    assert r.returncode == 12, r.stderr
    assert r.stdout.startswith("NOT linearizable: 3 operations")
    assert "events 0..4 (3 operations invoked)" in r.stdout
    assert "#2 process 1: read -> 1 (ok, events 4..5)" in r.stdout
    assert "inconsistent subset (minimal, " in r.stdout and "these 2 operations" in r.stdout


def test_json_output():
    r = run(HISTORIES / "kv-stale-read.json", "--model", "kv", "--json")
    assert r.returncode == 12, r.stderr
    out = json.loads(r.stdout)
    assert out["linearizable"] is False and out["status"] == "violation"
    assert (out["model"], out["operations"], out["key"]) == ("kv", 5, "x")
    assert out["witness_minimal"] is True and out["seconds"] >= 0
    assert [(w["index"], w["process"], w["f"], w["key"], w["value"], w["invoke"], w["complete"])
            for w in out["witness"]] == [(2, 0, "write", "x", 2, 4, 5), (4, 2, "read", "x", 1, 8, 9)]
    prefix = out["longest_linearizable_prefix"]
    assert (prefix["operations"], prefix["events"]) == (5, 9)
    assert prefix["cannot_linearize"]["index"] == 4

    ok = json.loads(run(HISTORIES / "concurrent-writes.json", "--model", "register", "--json").stdout)
    assert ok["linearizable"] is True and ok["status"] == "ok" and "witness" not in ok


def test_output_does_not_depend_on_hash_seed():
    outs = []
    for seed in ("1", "2"):
        out = json.loads(run(HISTORIES / "kv-stale-read.json", "--model", "kv", "--json",
                             env={"PYTHONHASHSEED": seed}).stdout)
        out.pop("seconds"), out.pop("witness_seconds")
        outs.append(out)
    assert outs[0] == outs[1]


def test_cas_model_matters():
    assert run(HISTORIES / "cas-both-succeed.json", "--model", "cas-register").returncode == 12
    r = run(HISTORIES / "cas-both-succeed.json", "--model", "register")
    assert r.returncode == 2 and "bad f 'cas' for the register model" in r.stderr


@pytest.mark.parametrize("name, model, message", [
    ("unknown-type.json", "register", "event 1: unknown type 'done'"),
    ("completion-without-invoke.json", "register", "event 2: ok for process 1 without a pending invoke"),
    ("invoke-while-pending.json", "register", "event 1: invoke while process 0 has an operation pending"),
    ("bad-f.json", "register", "event 0: bad f 'increment' for the register model"),
    ("kv-missing-key.json", "kv", "event 2: missing 'key'"),
    ("cas-not-pair.json", "cas-register", "event 0: cas value must be a pair [old, new], got 3"),
    ("not-json.json", "register", "not-json.json' is not JSON"),
    ("no-such-file.json", "register", "no-such-file.json' does not exist"),
])
def test_malformed_history_exits_2_with_one_line(name, model, message):
    r = run(HISTORIES / name, "--model", model)
    assert r.returncode == 2
    assert r.stdout == ""
    lines = r.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], r.stderr
    assert "Traceback" not in r.stderr


def test_missing_model_is_a_usage_error():
    r = run(HISTORIES / "stale-read.json")
    assert r.returncode == 2 and len(r.stderr.splitlines()) == 1 and "--model" in r.stderr
