"""--cluster: the partitioned search on a Dask LocalCluster, also when a worker is killed mid-run."""

import os
import signal

import pytest

pytest.importorskip("dask.distributed")

from consensuslab import check  # noqa: E402
from consensuslab.checkers.scale.cluster import check_distributed, connect  # noqa: E402
from consensuslab.protocols.paxos import Paxos  # noqa: E402
from consensuslab.protocols.two_phase import TwoPhase  # noqa: E402

from replaying import replays  # noqa: E402


@pytest.fixture(scope="module")
def client():
    client, cluster = connect("local:2")
    yield client
    client.close()
    cluster.close()


def test_counts_match_local_run(client):
    for model in (TwoPhase({"rm": 4}).compile(), Paxos.configure(scenario="mc").compile()):
        one = check(model, progress=False)
        r = check_distributed(model, client=client)
        assert (r.status, r.distinct_states, r.states_generated, r.depth) == \
            (one.status, one.distinct_states, one.states_generated, one.depth)
        assert r.extra["fingerprint"] == "stable" and r.extra["workers"] == 2


def test_symmetry_and_violation(client):
    assert check_distributed(TwoPhase({"rm": 5}).compile(), client=client, symmetry=True).distinct_states == 314
    model = TwoPhase({"rm": 3}, variant="no-wait").compile()
    r = check_distributed(model, client=client)
    assert r.status == "violation" and len(r.violation.trace) == 5
    assert model.first_broken_invariant(replays(model, r.violation.trace)).name == "TCConsistent"


def test_a_killed_worker_loses_nothing(client):
    killed = []

    def kill(level, c):
        if level == 6 and not killed:
            pids = c.run(os.getpid)
            pid = pids[sorted(pids)[0]]
            os.kill(pid, signal.SIGKILL)  # a worker process our LocalCluster started
            killed.append(pid)

    model = TwoPhase({"rm": 5}).compile()
    r = check_distributed(model, client=client, on_level=kill, chunk=100)
    assert killed
    assert r.status == "ok" and r.distinct_states == 8832 and r.states_generated == 58145
