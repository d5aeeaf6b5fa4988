"""Jepsen-style clients against a running cluster, and the history they leave (``consensuslab linearizable``).

Each client thread picks a node and a key at random and reads or writes
(write values are unique, so a read names the write it saw).  Events go into
one list under one lock, so the list order is real time.  Outcomes follow
Jepsen: ``fail`` only where the operation surely did not happen (the node was
down or refused, or PySyncObj said it never ran), ``info`` where it may have
(a timeout, a leader change, a lost connection); a process whose operation
ended ``info`` is retired and its client goes on as a new process.  Faults are
``process: "nemesis"`` events, which the history parser skips.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections import Counter
from pathlib import Path

NEMESIS = "nemesis"


class Recorder:
    """The history: events in real-time order, each with ``time`` in ns since the recorder began."""

    def __init__(self):
        self.events: list[dict] = []
        self.lock = threading.Lock()
        self.start = time.monotonic_ns()

    def add(self, **event) -> None:
        with self.lock:
            event["time"] = time.monotonic_ns() - self.start
            self.events.append(event)

    def save(self, path: str | Path) -> None:
        with self.lock:
            Path(path).write_text("[\n" + ",\n".join(json.dumps(e) for e in self.events) + "\n]\n")


class Values:
    """Unique write values, shared by the clients' threads."""

    def __init__(self):
        self.last, self.lock = 0, threading.Lock()

    def __call__(self) -> int:
        with self.lock:
            self.last += 1
            return self.last


def client(cluster, recorder: Recorder, process: int, clients: int, end: float, keys, values: Values,
           read_f: str, rng: random.Random) -> None:
    """One client until ``end``: random reads and writes at random nodes."""
    while time.monotonic() < end:
        node, key = rng.choice(cluster.names), rng.choice(keys)
        if rng.random() < 0.5:
            op, request = {"f": "read", "key": key}, {"f": read_f, "key": key}
        else:
            value = values()
            op, request = {"f": "write", "key": key, "value": value}, {"f": "write", "key": key, "value": value}
        recorder.add(process=process, type="invoke", node=node, **op)
        reply = cluster.request(node, {**request, "process": process})
        done = {**op, "type": reply["type"], "node": node}
        if op["f"] == "read":
            done["value"] = reply.get("value") if reply["type"] == "ok" else None
        if "error" in reply:
            done["error"] = reply["error"]
        recorder.add(process=process, **done)
        if reply["type"] == "info":
            process += clients
        time.sleep(rng.uniform(0, 0.05))


def run_clients(cluster, seconds: float, nemesis=(), clients: int = 4, keys=("x", "y", "z"),
                read_f: str = "read", seed: int | None = None) -> Recorder:
    """Clients for ``seconds``, while ``nemesis`` ([(at seconds, name, fn)]) acts; the history."""
    recorder, rng, shared = Recorder(), random.Random(seed), Values()
    end = time.monotonic() + seconds
    threads = [threading.Thread(target=client, daemon=True, args=(
        cluster, recorder, p, clients, end, keys, shared, read_f, random.Random(rng.random())))
        for p in range(clients)]
    for t in threads:
        t.start()
    start = time.monotonic()
    for at, name, act in sorted(nemesis, key=lambda x: x[0]):
        time.sleep(max(0.0, start + at - time.monotonic()))
        recorder.add(process=NEMESIS, type="invoke", f=name, value=None)
        recorder.add(process=NEMESIS, type="info", f=name, value=act())
    for t in threads:
        t.join(max(0.0, end - time.monotonic()) + cluster.op_timeout + 5.0)
    return recorder


def history_stats(events: list[dict]) -> dict:
    """Operations, outcomes, errors and ok latencies (ms) of a history."""
    ops = [e for e in events if e["process"] != NEMESIS]
    invoked, latency = {}, []
    for e in ops:
        if e["type"] == "invoke":
            invoked[e["process"]] = e["time"]
        elif e["type"] == "ok":
            latency.append((e["time"] - invoked[e["process"]]) / 1e6)
    latency.sort()

    def pick(q):
        return round(latency[min(len(latency) - 1, int(q * len(latency)))], 1) if latency else None
    done = [e for e in ops if e["type"] != "invoke"]
    return {"ops": sum(e["type"] == "invoke" for e in ops),
            "outcomes": dict(Counter(f"{e['f']} {e['type']}" for e in done)),
            "errors": dict(Counter(e["error"] for e in done if "error" in e)),
            "ok_latency_ms": {"p50": pick(0.5), "p99": pick(0.99)}}
