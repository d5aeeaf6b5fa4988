"""PySyncObj's recorded logs against the raft model: explained, each divergence named, tampering found.

These read recorded runs (tests/data/pysyncobj); tests/realcode/test_cluster.py runs PySyncObj itself.
"""

from __future__ import annotations

import copy
import gzip
import json

import pytest

from consensuslab.checkers.replay import replay_document
from consensuslab.checkers.validation.search import validate
from consensuslab.histories.history import load_history
from consensuslab.histories.linearizability import check
from consensuslab.logs.read import read_log
from consensuslab.protocols import configure
from consensuslab.realcode.pysyncobj.findings import findings
from consensuslab.realcode.pysyncobj.mapping import PySyncObjMapping
from consensuslab.traces.itf import trace_document
from consensuslab.traces.result import Violation
from clirun import cli, cli_json
from paths import DATA

RUNS = DATA / "pysyncobj"


def events_of(run: str) -> dict[str, list[dict]]:
    return {p.name.split(".")[0]: [json.loads(line) for line in gzip.open(p, "rt")]
            for p in sorted((RUNS / run).glob("n*.jsonl.gz"))}


def validated(tmp_path, events, **params):
    for node, evs in events.items():
        (tmp_path / f"{node}.jsonl").write_text("".join(json.dumps(e) + "\n" for e in evs))
    mapping = PySyncObjMapping()
    model = configure("raft", {**mapping.params, **params}).compile()
    return model, validate(model, read_log([str(tmp_path)]), mapping)


@pytest.fixture(scope="module")
def kill_leader():
    return events_of("kill-leader")


def test_a_run_with_a_killed_leader_is_explained_and_the_behaviour_replays(tmp_path, kill_leader):
    model, result = validated(tmp_path, kill_leader)
    assert result.status == "explained" and result.events == 1107 and result.explained_events == 1107
    assert result.faults == {} and result.logged_faults == {"restart": 1}
    doc = trace_document(model, result.trace, Violation("explains-log", "behaviour", result.trace), "explained")
    assert len(replay_document(doc, model).trace) == len(result.trace)
    names = {a.name for a in result.trace.actions}
    assert {"Timeout", "BecomeLeader", "ClientRequest", "AppendEntries", "HandleAppendEntriesRequest",
            "AdvanceCommitIndex", "Restart"} <= names


def test_raft_tla_as_written_is_refused_at_the_first_batch_of_entries(tmp_path, kill_leader):
    _, result = validated(tmp_path, kill_leader, batch=1, pipeline=False, hint=False, step_down=False)
    failure = result.failure
    assert result.status == "not-explained"
    assert failure.describe.startswith("n3#") and "send append_entries" in failure.describe
    assert failure.field.startswith("sent AppendEntriesRequest(") and failure.logged is True
    assert failure.observed is False  # raft.tla sends one entry; PySyncObj sent several


def test_a_changed_term_is_named(tmp_path, kill_leader):
    events = copy.deepcopy(kill_leader)
    target = next(e for e in events["n2"] if e["kind"] == "receive" and e["seq"] > 200
                  and e["msg"]["type"] == "append_entries")
    target["state"]["term"] += 1
    _, result = validated(tmp_path, events)
    assert result.failure.event == ("n2", target["seq"]) and result.failure.field == "currentTerm"


def test_a_dropped_append_is_named_at_the_answer_that_shows_the_log(tmp_path, kill_leader):
    events = copy.deepcopy(kill_leader)
    k = next(i for i, e in enumerate(events["n2"]) if e["kind"] == "log" and e["msg"]["type"] == "append"
             and e["seq"] > 100)
    dropped = events["n2"].pop(k)
    _, result = validated(tmp_path, events)
    failure = result.failure
    assert failure.event[0] == "n2" and failure.event[1] > dropped["seq"]
    assert "send next_node_idx" in failure.describe and failure.field == "log"


def test_a_receive_moved_before_its_cause_is_named(tmp_path, kill_leader):
    events = copy.deepcopy(kill_leader)
    receives = [e for e in events["n1"] if e["kind"] == "receive" and e["msg"]["type"] == "append_entries"]
    first, second = receives[3], receives[8]
    first["seq"], second["seq"] = second["seq"], first["seq"]
    _, result = validated(tmp_path, events)
    assert result.status == "not-explained"
    assert result.failure.event == ("n1", second["seq"])  # the later receive, now logged too early


def test_a_snapshot_is_a_gap_in_the_model(tmp_path):
    events = events_of("snapshot")
    _, result = validated(tmp_path, events)
    assert result.status == "not-explained"
    assert "send append_entries" in result.failure.describe and "InstallSnapshot" in result.failure.reason
    assert 0 < result.explained_events < result.events


def test_findings_show_the_snapshot_chunk_that_raised_the_commit_index():
    found = findings(read_log([str(RUNS / "snapshot")]))
    assert found["commit_advanced_by_snapshot_chunk"] == 1 and found["snapshots_installed"] == 1
    assert found["terms_with_two_leaders"] == []
    killed = findings(read_log([str(RUNS / "kill-leader")]))
    assert killed["restarts"] == 1 and killed["leaders_per_term"] == {1: ["n3"], 2: ["n1"]}


def test_findings_count_the_raft_messages_no_receive_links_to(kill_leader):
    raft = ("request_vote", "response_vote", "append_entries", "next_node_idx")
    linked = {(e["link"]["node"], e["link"]["seq"]) for evs in kill_leader.values() for e in evs if "link" in e}
    lost = [e for evs in kill_leader.values() for e in evs
            if e["kind"] == "send" and e["msg"]["type"] in raft and (e["node"], e["seq"]) not in linked]
    found = findings(read_log([str(RUNS / "kill-leader")]))
    assert found["raft_sends_never_received"] == len(lost) == 3
    assert found["raft_sends_unsent"] == sum(1 for e in lost if e.get("unsent")) == 1


def test_histories_linearizable_and_not():
    assert check(load_history(RUNS / "kill-leader" / "history.json", "kv"), "kv").linearizable
    stale = check(load_history(RUNS / "partition-snapshot-history-x.json", "kv"), "kv")
    assert not stale.linearizable and stale.key == "x"
    assert [op.describe().split(" (")[0] for op in stale.witness] == [
        '#53 process 9: read["x"] -> 60', '#54 process 9: read["x"] -> 55']


def test_the_command_checks_recorded_runs_gzipped_and_without_a_history():
    proc, out = cli_json("pysyncobj", "check", RUNS / "kill-leader", RUNS / "snapshot")
    assert proc.returncode == 0
    killed, snap = out
    assert killed["validation"]["status"] == "explained" and killed["validation"]["logged_faults"] == {"restart": 1}
    assert killed["linearizable"]["linearizable"] and sum(killed["log_events"].values()) == 1107
    assert snap["validation"]["status"] == "not-explained" and snap["linearizable"] is None
    text = cli("pysyncobj", "check", RUNS / "snapshot").stdout
    assert "NOT EXPLAINED" in text and "history: none recorded" in text and "InstallSnapshot" in text
