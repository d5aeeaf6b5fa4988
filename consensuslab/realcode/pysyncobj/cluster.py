"""A PySyncObj cluster on 127.0.0.1, one traced process per node, every run bounded in time.

``Cluster`` starts the nodes (``node.py``), kills one with SIGKILL (and logs the
crash in its log), restarts it, stops them all, and talks to them as a client.
With proxies (the default) every pair of nodes talks through ``ProxyNet``, so
faults can be injected from outside.  Ports are chosen free by the kernel;
a node is known by its address, so a restarted node takes its old port again.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import consensuslab
from consensuslab.realcode.pysyncobj.proxy import ProxyNet
from consensuslab.realcode.pysyncobj.tracing import LogWriter

#: PySyncObj's defaults, except: reconnect after 1 s instead of 5 s, so a restarted node rejoins quickly
CONF = {"connectionRetryTime": 1.0}
OP_TIMEOUT = 2.0  # default seconds a node waits for a client's command to commit


@contextlib.contextmanager
def held_ports(count: int):
    """Ports the kernel says are free, held (bound) until the block ends: the proxies made inside it cannot be
    given one of them (a proxy once listened on a node's port, and that node never started)."""
    socks = [socket.socket() for _ in range(count)]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        yield [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


class Cluster:
    """``n`` nodes in ``workdir``; every node exits by itself ``seconds`` after the cluster is made."""

    def __init__(self, workdir: str | Path, n: int = 3, seconds: float = 30.0, proxies: bool = True,
                 conf: dict | None = None, seed: int | None = None, op_timeout: float = OP_TIMEOUT):
        self.dir = Path(workdir).resolve()
        self.dir.mkdir(parents=True, exist_ok=True)
        self.names = [f"n{i + 1}" for i in range(n)]
        self.net = ProxyNet(seed) if proxies else None
        via: dict[str, dict[str, str]] = {name: {} for name in self.names}
        with held_ports(2 * n) as ports:  # each node's Raft port and client port
            self.addrs = {name: f"127.0.0.1:{port}" for name, port in zip(self.names, ports[:n], strict=True)}
            clients = dict(zip(self.names, ports[n:], strict=True))
            if self.net:
                for i, a in enumerate(self.names):
                    for b in self.names[i + 1:]:
                        client, server = (a, b) if self.addrs[a] > self.addrs[b] else (b, a)
                        via[client][server] = via[server][client] = self.net.add_link(client, server,
                                                                                      self.addrs[server])
        self.deadline, self.op_timeout = time.monotonic() + seconds, op_timeout
        self.spec = self.dir / "cluster.json"
        self.spec.write_text(json.dumps({"dir": str(self.dir), "addrs": self.addrs, "via": via,
                                         "clients": clients, "conf": {**CONF, **(conf or {})}, "seed": seed,
                                         "op_timeout": op_timeout,
                                         "deadline": self.deadline}, indent=1))
        self.procs: dict[str, subprocess.Popen] = {}
        self.ports: dict[str, int] = {}

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    def start(self, name: str | None = None, wait: float = 15.0) -> None:
        """Start one node (or all); return once it serves clients."""
        root = str(Path(consensuslab.__file__).resolve().parent.parent)
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))}
        for node in [name] if name else self.names:
            (self.dir / f"{node}.ready").unlink(missing_ok=True)
            with open(self.dir / f"{node}.out", "ab") as out:
                self.procs[node] = subprocess.Popen(
                    [sys.executable, "-m", "consensuslab.realcode.pysyncobj.node", str(self.spec), node],
                    stdout=out, stderr=out, env=env)
        for node in [name] if name else self.names:
            self.wait_ready(node, wait)

    restart = start

    def wait_ready(self, name: str, wait: float) -> None:
        end = time.monotonic() + wait
        ready = self.dir / f"{name}.ready"
        while not ready.exists():
            if time.monotonic() > end or self.procs[name].poll() is not None:
                raise RuntimeError(f"PySyncObj node {name} did not start (see {self.dir / name}.out)")
            time.sleep(0.02)
        self.ports[name] = json.loads(ready.read_text())["client_port"]

    def kill(self, name: str) -> None:
        """SIGKILL a node and log the crash in its log."""
        proc = self.procs[name]
        proc.kill()
        proc.wait()
        self.ports.pop(name, None)
        writer = LogWriter(self.dir / f"{name}.jsonl", name)
        writer.write("crash", {"type": "crash", "signal": "SIGKILL"})
        writer.close()

    def alive(self, name: str) -> bool:
        return name in self.procs and self.procs[name].poll() is None

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs.values():
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if self.net:
            self.net.stop()
            self.net = None

    def request(self, name: str, req: dict, timeout: float | None = None) -> dict:
        """One client request.  ``fail``: it surely did not happen; ``info``: its outcome is unknown."""
        timeout = self.op_timeout + 1.0 if timeout is None else timeout
        port = self.ports.get(name)
        if port is None:
            return {"type": "fail", "error": "node down"}
        try:
            sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        except OSError:
            return {"type": "fail", "error": "refused"}
        try:
            with sock, sock.makefile("rwb") as stream:
                stream.write((json.dumps(req) + "\n").encode())
                stream.flush()
                line = stream.readline()
            return json.loads(line) if line else {"type": "info", "error": "connection closed"}
        except OSError as exc:
            return {"type": "info", "error": type(exc).__name__}

    def transfer(self, name: str, wait: float = 3.0) -> str:
        """Ask leader ``name`` to hand over leadership (PySyncObj's admin command ``transfer``), until it agrees."""
        from pysyncobj.utility import TcpUtility, UtilityException

        end, reply = time.monotonic() + wait, None
        while time.monotonic() < end:
            try:
                reply = TcpUtility(timeout=1.0).executeCommand(self.addrs[name], ["transfer", ""])
            except UtilityException as exc:
                reply = f"failed: {exc}"
            if str(reply).startswith("SUCCESS"):
                break
            time.sleep(0.01)
        return str(reply)

    def status(self) -> dict[str, dict | None]:
        return {name: (self.request(name, {"f": "status"}, 1.0).get("state") if self.alive(name) else None)
                for name in self.names}

    def leader(self) -> str | None:
        """The node that says it leads in the highest term, if any."""
        leaders = [(s["term"], n) for n, s in self.status().items() if s and s["role"] == "leader"]
        return max(leaders)[1] if leaders else None

    def wait_leader(self, wait: float = 10.0) -> str | None:
        end = time.monotonic() + wait
        while time.monotonic() < end:
            leader = self.leader()
            if leader:
                return leader
            time.sleep(0.1)
        return None
