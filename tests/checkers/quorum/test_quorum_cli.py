"""`consensuslab quorum ...` through the real command line: outputs and exit codes."""

import json

import pytest

from clirun import cli
from paths import DATA

STELLAR = str(DATA / "stellar-pubnet-2025-07-20.json")


def test_threshold_minority_quorums_split():
    p = cli("quorum", "check", "--system", "threshold", "-n", 4, "-q", 2, "--faults", "crash:0", "--json")
    assert p.returncode == 12, p.stderr
    out = json.loads(p.stdout)
    assert out["status"] == "violated"
    assert out["witness"] == {"quorum_a": ["n1", "n2"], "quorum_b": ["n3", "n4"], "faulty": []}


def test_byzantine_holds_and_weighted_and_flexible_violate():
    p = cli("quorum", "check", "--system", "threshold", "-n", 6, "-q", 4, "--faults", "byzantine:1")
    assert p.returncode == 0 and "holds" in p.stdout
    p = cli("quorum", "check", "--system", "weighted", "--weights", "40,20,20,10,10", "--threshold", "0.5",
            "--faults", "byzantine-weight:0.2")
    assert p.returncode == 12 and "their overlap {n2} is all faulty" in p.stdout
    p = cli("quorum", "check", "--system", "flexible", "-n", 10, "--q1", 8, "--q2", 2)
    assert p.returncode == 12 and "n9, n10" in p.stdout


def test_stellar_check_and_split():
    p = cli("quorum", "check", "--system", "fbas", "--file", STELLAR, "--json")
    assert p.returncode == 0 and json.loads(p.stdout)["status"] == "holds"
    p = cli("quorum", "split", "--system", "fbas", "--file", STELLAR, "--json")
    out = json.loads(p.stdout)
    assert p.returncode == 0 and out["size"] == 3 and out["lower_bound_proved"]


def test_fbas_block_on_a_small_network(tmp_path):
    net = [{"publicKey": k, "quorumSet": {"threshold": 3, "validators": ["A", "B", "C", "D"]}}
           for k in "ABCD"]
    path = tmp_path / "network.json"
    path.write_text(json.dumps(net))
    p = cli("quorum", "block", "--system", "fbas", "--file", path)
    assert p.returncode == 0 and "size 2" in p.stdout
    p = cli("quorum", "split", "--system", "fbas", "--file", path, "--json")
    assert json.loads(p.stdout)["size"] == 2


def test_synthesize_json_rows():
    p = cli("quorum", "synthesize", "--model", "byzantine", "--f", "1..10", "--json")
    assert p.returncode == 0
    rows = json.loads(p.stdout)["rows"]
    assert [(r["f"], r["n"], r["q"]) for r in rows] == [(f, 3 * f + 1, 2 * f + 1) for f in range(1, 11)]


def test_other_systems_and_sweep():
    p = cli("quorum", "block", "--system", "hierarchical", "--groups", "3x3", "--json")
    assert p.returncode == 0 and json.loads(p.stdout)["size"] == 4
    p = cli("quorum", "check", "--system", "explicit", "--quorums", "a,b;c,d")
    assert p.returncode == 12
    p = cli("quorum", "check", "--system", "majority", "-n", 5, "--faults", "crash:2")
    assert p.returncode == 0
    p = cli("quorum", "sweep", "--max-f", 2, "--json")
    assert p.returncode == 0 and json.loads(p.stdout)["masking"][1]["n"] == 9


@pytest.mark.parametrize("args, text", [
    (["check", "--system", "threshold", "-n", 4, "-q", 5], "quorum size must be between 1 and n=4"),
    (["check", "--system", "weighted", "--weights", "1,-2"], "weights must be >= 0"),
    (["check", "--system", "paxos", "-n", 3], "unknown system 'paxos'"),
    (["check", "--system", "threshold", "-n", 4, "-q", 3, "--faults", "byz"], "KIND:AMOUNT"),
    (["check", "--system", "threshold", "-n", 4, "-q", 3, "--faults", "byzantine-weight:0.1"],
     "needs --system weighted"),
    (["synthesize", "--model", "crash", "--f", "5..1"], "A..B"),
])
def test_bad_input_is_one_line_and_exit_2(args, text):
    p = cli("quorum", *args)
    assert p.returncode == 2 and text in p.stderr
    assert p.stderr.count("\n") == 1 and "Traceback" not in p.stderr


def test_malformed_network_file(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps([{"publicKey": "A", "quorumSet": {"threshold": 2, "validators": ["A"]}}]))
    p = cli("quorum", "check", "--system", "fbas", "--file", path)
    assert p.returncode == 2 and "malformed network file" in p.stderr and "Traceback" not in p.stderr


# 100 random stakes (random.Random(1), 1..1000) with the faulty budget exactly at the boundary:
# a subset-sum instance Z3 needs seconds for, so 1 ms is reliably not enough.
HARD_WEIGHTS = ("138,583,868,822,783,65,262,121,508,780,461,484,668,389,808,215,97,500,30,915,856,400,444,"
                "623,781,786,3,713,457,273,739,822,235,606,968,105,924,326,32,23,27,666,555,10,962,903,391,"
                "703,222,993,433,744,30,541,228,783,449,962,508,567,239,354,237,694,225,780,471,976,297,949,"
                "23,427,858,939,570,945,658,103,191,645,742,881,304,124,761,341,918,739,997,729,513,959,991,"
                "433,520,850,933,687,195,311")


def test_unknown_within_time_limit_is_exit_3():
    p = cli("quorum", "check", "--system", "weighted", "--weights", HARD_WEIGHTS, "--threshold", "2/3",
            "--faults", "byzantine-weight:17935/53799", "--time-limit", "0.001", "--json")
    assert p.returncode == 3, p.stdout
    assert json.loads(p.stdout)["status"] == "unknown"
