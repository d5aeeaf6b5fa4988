"""Z3 quorum witnesses turned into executions that break agreement, replayed."""

import json

import pytest

from clirun import cli, cli_json


@pytest.mark.parametrize("args,prop,faulty", [
    (["paxos", "-p", "acceptors=4", "--quorum-size", "2"], "Consistency", []),
    (["raft", "--quorum-size", "1"], "election_safety", []),
    (["pbft", "-p", "n=3", "--quorum-size", "2"], "agreement", ["n1"]),
])
def test_execute_finds_the_split_and_the_trace_replays(tmp_path, args, prop, faulty):
    trace = tmp_path / "split.itf.json"
    proc, out = cli_json("quorum", "execute", *args, "--trace-out", trace)
    assert proc.returncode == 12, proc.stderr
    assert out["status"] == "violated" and out["property"] == prop
    witness = out["quorum"]["witness"]
    assert not set(witness["quorum_a"]) & set(witness["quorum_b"]) - set(witness["faulty"])
    assert witness["faulty"] == faulty
    assert out["check"]["violation"]["property"] == prop
    doc = json.loads(trace.read_text())
    assert doc["#meta"]["params"]["quorum"] == int(args[args.index("--quorum-size") + 1])
    replay = cli("replay", trace)
    assert replay.returncode == 12 and "reproduced" in replay.stdout


def test_majority_quorums_cannot_be_split():
    proc, out = cli_json("quorum", "execute", "paxos")
    assert proc.returncode == 0
    assert out["status"] == "holds" and out["quorum"]["witness"] is None


def test_protocol_without_quorums_is_bad_input():
    proc = cli("quorum", "execute", "two-phase")
    assert proc.returncode == 2
    assert "no quorum" in proc.stderr and "Traceback" not in proc.stderr
