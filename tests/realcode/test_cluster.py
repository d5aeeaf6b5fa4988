"""PySyncObj itself, on loopback: a traced cluster runs, its logs are explained by raft, its history is linearizable.

Each run is a few seconds of client load (every node exits at a deadline whatever happens); the whole file
takes about half a minute.
"""

from __future__ import annotations

import json

import pytest

from clirun import cli
from consensuslab.logs.read import read_log
from consensuslab.realcode.pysyncobj.scenarios import run_scenario



@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    base = tmp_path_factory.mktemp("pysyncobj")
    return base, {name: run_scenario(name, base, seed=5, seconds=seconds)
                  for name, seconds in (("none", 4.0), ("kill-leader", 6.0))}


def test_a_fault_free_run_is_explained_and_linearizable(runs):
    base, summaries = runs
    s = summaries["none"]
    assert s["validation"]["status"] == "explained", s["validation"]
    assert s["validation"]["faults"] == {} and s["validation"]["logged_faults"] == {}
    assert s["linearizable"]["linearizable"] and s["linearizable"]["operations"] == s["history"]["ops"] > 10
    log = read_log([str(base / "none")])
    assert log.nodes == ("n1", "n2", "n3") and all(len(log.of(n)) > 50 for n in log.nodes)
    receives = [e for e in log if e.kind == "receive" and e.msg["type"] in ("append_entries", "next_node_idx")]
    assert receives and all(log.event(e.link) is not None for e in receives)  # every receive names its send
    assert all(log.event(e.link).msg == e.msg for e in receives)


def test_every_node_and_proxy_address_is_on_loopback(runs):
    base, _ = runs
    for run in ("none", "kill-leader"):
        spec = json.loads((base / run / "cluster.json").read_text())
        addresses = list(spec["addrs"].values()) + [a for peers in spec["via"].values() for a in peers.values()]
        assert len(addresses) == 9 and all(a.startswith("127.0.0.1:") for a in addresses)


def test_a_killed_leader_is_a_logged_restart_and_stays_linearizable(runs):
    base, summaries = runs
    s = summaries["kill-leader"]
    assert s["validation"]["status"] == "explained", s["validation"]
    assert s["validation"]["logged_faults"] == {"restart": 1}
    assert s["findings"]["restarts"] == 1 and s["findings"]["terms_with_two_leaders"] == []
    assert len(s["findings"]["leaders_per_term"]) >= 2  # a second election after the kill
    assert s["linearizable"]["linearizable"]
    crash = [e for e in read_log([str(base / "kill-leader")]) if e.kind == "crash"]
    assert len(crash) == 1


def test_checking_a_recorded_run_again_gives_the_same_verdicts(runs):
    base, summaries = runs
    proc = cli("pysyncobj", "check", base / "none")
    assert proc.returncode == 0 and "EXPLAINED" in proc.stdout and "history: linearizable" in proc.stdout


def test_the_command_lists_scenarios_and_refuses_unknown_ones():
    listing = cli("pysyncobj", "run", "--list")
    assert listing.returncode == 0 and "partition-snapshot" in listing.stdout and "kill-leader" in listing.stdout
    bad = cli("pysyncobj", "run", "nope")
    assert bad.returncode == 2 and "unknown scenario 'nope'" in bad.stderr
