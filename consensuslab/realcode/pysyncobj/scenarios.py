"""Fault scenarios against a 3-node PySyncObj cluster: the nodes' logs, a client history, and both checked.

``run_scenario`` starts a fresh cluster, runs clients for the scenario's time
while its nemesis acts (kills and restarts, partitions through the proxies,
delays, losses, leadership transfers), stops the cluster, then validates the
nodes' logs against the raft model (``mapping``) and checks the history for
linearizability, and writes ``summary.json``.  ``seconds`` scales a scenario:
every nemesis time moves with it.  Every node exits by itself at a deadline.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

SCENARIOS: dict[str, dict] = {
    "none": {"seconds": 12, "about": "no faults"},
    "kill-leader": {"seconds": 20, "about": "SIGKILL the leader at 20%, restart it at 50%"},
    "kill-follower": {"seconds": 20, "about": "SIGKILL a follower at 20%, restart it at 50%"},
    "partition": {"seconds": 20, "about": "isolate the leader from 20% to 60%"},
    "delay": {"seconds": 18, "about": "every message delayed 50 ms + U(0, 300 ms) from 15% to 70%"},
    "drop": {"seconds": 18, "about": "every message lost with probability 0.2 from 15% to 70%"},
    "transfer": {"seconds": 14, "about": "the leader hands over leadership at 30% and 65%"},
    "snapshot": {"seconds": 18, "conf": {"logCompactionMinEntries": 50},
                 "about": "compaction every 50 entries; a follower killed at 15%, restarted at 60% gets a snapshot"},
    "partition-snapshot": {"seconds": 24, "conf": {"logCompactionMinEntries": 4}, "op_timeout": 10.0, "clients": 10,
                           "about": "the leader isolated (12%-42%) while the others compact; healed with jitter, "
                                    "it is sent a snapshot in chunks"},
    "local-reads": {"seconds": 12, "read_f": "local_read", "about": "no faults; reads from the node's own copy"},
}


def nemesis(name: str, cluster, scale: float) -> list:
    """[(at seconds, name, act)] of a scenario."""
    def at(x):
        return x * scale

    def leader():
        return cluster.leader() or cluster.names[0]

    def follower():
        chief = cluster.leader()
        return next(n for n in cluster.names if n != chief)

    victim: dict = {}

    def pick(choose, act):
        def do():
            victim["node"] = choose()
            act(victim["node"])
            return victim["node"]
        return do

    def links(**fault):
        return lambda: (cluster.net.set_all(**fault), fault)[1]

    def heal():
        cluster.net.heal()
        return "healed"

    plans = {
        "kill-leader": [(at(4), "kill", pick(leader, cluster.kill)), (at(10), "restart", lambda: cluster.restart(victim["node"]))],
        "kill-follower": [(at(4), "kill", pick(follower, cluster.kill)), (at(10), "restart", lambda: cluster.restart(victim["node"]))],
        "partition": [(at(4), "isolate", pick(leader, cluster.net.isolate)), (at(12), "heal", heal)],
        "delay": [(at(2.7), "delay", links(delay=0.05, jitter=0.3)), (at(12.6), "heal", heal)],
        "drop": [(at(2.7), "drop", links(drop=0.2)), (at(12.6), "heal", heal)],
        "transfer": [(at(4.2), "transfer", lambda: cluster.transfer(leader())),
                     (at(9.1), "transfer", lambda: cluster.transfer(leader()))],
        "snapshot": [(at(2.7), "kill", pick(follower, cluster.kill)), (at(10.8), "restart", lambda: cluster.restart(victim["node"]))],
        "partition-snapshot": [(at(3), "isolate", pick(leader, cluster.net.isolate)),
                               (at(10), "heal+jitter", lambda: (heal(), cluster.net.set_all(delay=0.02, jitter=0.3))),
                               (at(16), "heal", heal)],
    }
    return plans.get(name, [])


def run_scenario(name: str, base: str | Path, seed: int | None = None, seconds: float | None = None,
                 check: bool = True, validate_seconds: float = 120.0) -> dict:
    """Run scenario ``name`` in ``base/name``; its summary (also written to summary.json there)."""
    from consensuslab.realcode.pysyncobj.clients import history_stats, run_clients
    from consensuslab.realcode.pysyncobj.cluster import Cluster

    spec = SCENARIOS[name]
    seconds = seconds or spec["seconds"]
    workdir = Path(base) / name
    shutil.rmtree(workdir, ignore_errors=True)
    started = time.monotonic()
    with Cluster(workdir, seconds=seconds + 15, seed=seed, conf=spec.get("conf"),
                 op_timeout=spec.get("op_timeout", 2.0)) as cluster:
        cluster.start()
        first_leader = cluster.wait_leader(10)
        recorder = run_clients(cluster, seconds, nemesis(name, cluster, seconds / spec["seconds"]),
                               clients=spec.get("clients", 4), read_f=spec.get("read_f", "read"), seed=seed)
        proxy = cluster.net.stats() if cluster.net else {}
    recorder.save(workdir / "history.json")
    summary = {"scenario": name, "about": spec["about"], "seconds": round(time.monotonic() - started, 1),
               "first_leader": first_leader, "history": history_stats(recorder.events), "proxy": proxy,
               "log_bytes": {n: (workdir / f"{n}.jsonl").stat().st_size for n in cluster.names}}
    if check:
        summary.update(check_run(workdir, validate_seconds))
    (workdir / "summary.json").write_text(json.dumps(summary, indent=1, default=str))
    return summary


def check_run(workdir: str | Path, validate_seconds: float = 120.0) -> dict:
    """Validate a run's logs against raft and check its history: the figures of both."""
    from consensuslab.checkers.validation.search import validate
    from consensuslab.histories.history import load_history
    from consensuslab.histories.linearizability import check
    from consensuslab.logs.read import read_log
    from consensuslab.protocols import configure
    from consensuslab.realcode.pysyncobj.findings import findings
    from consensuslab.realcode.pysyncobj.mapping import PySyncObjMapping

    workdir = Path(workdir)
    log = read_log([str(workdir)])  # the nodes' n*.jsonl, or the gzipped copies of a recorded run
    mapping = PySyncObjMapping()
    result = validate(configure("raft", mapping.params).compile(), log, mapping, time_limit=validate_seconds)
    failure = result.failure
    started = time.monotonic()
    history = workdir / "history.json"
    verdict = check(load_history(history, "kv"), "kv", minimize_seconds=5) if history.exists() else None
    return {
        "log_events": {n: len(log.of(n)) for n in log.nodes}, "findings": findings(log),
        "validation": {"status": result.status, "seconds": round(result.seconds, 2), "events": result.events,
                       "explained_events": result.explained_events, "faults": result.faults,
                       "logged_faults": result.logged_faults, "stopped_by": result.stopped_by,
                       "failure": None if failure is None else {"event": f"{failure.event[0]}#{failure.event[1]}",
                                                                "describe": failure.describe,
                                                                "reason": failure.reason}},
        "linearizable": None if verdict is None else {
            "linearizable": verdict.linearizable, "operations": verdict.operations,
            "seconds": round(time.monotonic() - started, 2), "witness": [op.describe() for op in verdict.witness]},
    }
