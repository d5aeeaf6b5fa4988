"""``consensuslab trace show|minimize`` through the real command line."""

import json
import os

from clirun import cli
from paths import TRACES as TRACES_DIR

TRACES = str(TRACES_DIR)


def t(name):
    return os.path.join(TRACES, name)


def test_show_text_to_a_file_is_plain_and_lists_changes(tmp_path):
    out = tmp_path / "t.txt"
    proc = cli("trace", "show", t("two-phase-no-wait.itf.json"), "-o", out)
    assert proc.returncode == 0, proc.stderr
    text = out.read_text()
    assert "\x1b[" not in text
    assert "4  TMCommit\n     TM: sends Commit to r1, r2, r3\n     tmState: init -> committed\n     msgs: +Commit()" in text
    assert "=> TCConsistent: invariant violated in the last state" in text


def test_show_every_format(tmp_path):
    for fmt, head in (("mermaid", "sequenceDiagram"), ("svg", "<svg"), ("html", "<!DOCTYPE html>")):
        out = tmp_path / f"t.{fmt}"
        proc = cli("trace", "show", t("pbft-three-f.itf.json"), "--format", fmt, "-o", out)
        assert proc.returncode == 0, proc.stderr
        body = out.read_text()
        assert body.startswith(head)
        assert "{r0}, all Byzantine" in body  # the explanation reaches every format
    proc = cli("trace", "show", t("two-phase-no-wait.itf.json"), "--format", "mermaid")
    assert proc.stdout.startswith("sequenceDiagram") and "L_r2->>L_TM" in proc.stdout


def test_show_refuses_a_trace_that_does_not_replay(tmp_path):
    doc = json.loads(open(t("two-phase-no-wait.itf.json")).read())
    doc["states"][3]["tmPrepared"] = {"#set": ["r1"]}
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(doc))
    proc = cli("trace", "show", bad)
    assert proc.returncode == 1 and "step 3" in proc.stderr
    assert cli("trace", "show", tmp_path / "missing.json").returncode == 2
    assert cli("trace").returncode == 2


def test_minimize_writes_a_trace_that_replays(tmp_path):
    out = tmp_path / "min.json"
    proc = cli("trace", "minimize", t("pbft-weak-quorum-dfs.itf.json"), "-o", out, "--quiet")
    assert proc.returncode == 0, proc.stderr
    assert "minimised 15 -> 12 steps, 3 -> 2 faults" in proc.stdout
    assert "agreement: needs 2 AcceptByzantineNewView steps (12 steps)" in proc.stdout
    again = cli("replay", out, "--quiet")
    assert again.returncode == 12 and "after 12 steps" in again.stdout
    proc = cli("trace", "minimize", t("two-phase-actors-coordinator-crash-dfs.itf.json"))
    assert "deadlock: needs 1 crashed node (3 steps)" in proc.stdout
    assert "3  tm crashes" in proc.stdout
