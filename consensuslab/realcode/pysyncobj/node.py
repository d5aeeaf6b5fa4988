"""One traced PySyncObj node, a process of its own: ``python -m consensuslab.realcode.pysyncobj.node SPEC NAME``.

The node replicates a small key-value store (``KVStore``), logs its Raft events
to ``DIR/NAME.jsonl`` (``tracing``), keeps its journal in ``DIR/NAME.journal``
(so a SIGKILLed node restarts with its log, term and vote) and answers
clients on a loopback port it writes to ``DIR/NAME.ready``: one JSON request
line, one JSON reply line per connection.  It exits by itself at the
cluster's deadline (CLOCK_MONOTONIC, shared by the processes of one machine),
whatever the orchestrator does.
"""

from __future__ import annotations

import json
import os
import random
import signal
import socketserver
import sys
import threading
import time
from pathlib import Path

from pysyncobj import FAIL_REASON, SyncObj, SyncObjConf, SyncObjException, replicated
from pysyncobj.node import TCPNode

from consensuslab.realcode.pysyncobj.tracing import LogWriter, Tracer

#: PySyncObj's failures that say the command may still take effect (Jepsen's "info")
UNKNOWN = {"Timeout", FAIL_REASON.LEADER_CHANGED, FAIL_REASON.UNKNOWN_OUTCOME}
ERRORS = {v: k for k, v in vars(FAIL_REASON).items() if not k.startswith("_")}


class KVStore(SyncObj):
    """A replicated dict.  ``read`` goes through the log (linearizable); ``local_read`` reads this copy."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._data = {}  # set after SyncObj.__init__: only such attributes are the replicated state

    @replicated
    def write(self, key, value):
        self._data[key] = value

    @replicated
    def read(self, key):
        return self._data.get(key)

    def local_read(self, key):
        return self._data.get(key)


class ProxiedNode(TCPNode):
    """A peer known by its real address (its id) but reached through a proxy at ``via``."""

    def __init__(self, address: str, via: str):
        super().__init__(address)
        self.via = via

    @property
    def ip(self):
        return self.via.rsplit(":", 1)[0]

    @property
    def port(self):
        return int(self.via.rsplit(":", 1)[1])


class ClientServer(socketserver.ThreadingTCPServer):
    """Clients' requests: one JSON line in, one out, per connection; each logged as a ``client`` event."""

    daemon_threads = True
    allow_reuse_address = True  # a restarted node binds its client port again

    def __init__(self, kv: KVStore, tracer: Tracer, op_timeout: float, port: int = 0):
        self.kv, self.tracer, self.op_timeout = kv, tracer, op_timeout
        super().__init__(("127.0.0.1", port), _Handler)
        self.port = self.server_address[1]
        threading.Thread(target=self.serve_forever, args=(0.1,), daemon=True).start()

    def execute(self, req: dict) -> dict:
        f, key = req.get("f"), req.get("key")
        if f == "status":
            return {"type": "ok", "state": self.tracer.state()}
        self.tracer.event("client", {"type": "request", **req})
        try:
            if f == "write":
                self.kv.write(key, req.get("value"), sync=True, timeout=self.op_timeout)
                reply = {"type": "ok"}
            elif f == "read":
                reply = {"type": "ok", "value": self.kv.read(key, sync=True, timeout=self.op_timeout)}
            elif f == "local_read":
                reply = {"type": "ok", "value": self.kv.local_read(key)}
            else:
                reply = {"type": "fail", "error": f"unknown f {f!r}"}
        except SyncObjException as exc:
            code = exc.errorCode
            reply = {"type": "info" if code in UNKNOWN else "fail", "error": ERRORS.get(code, code)}
        self.tracer.event("client", {"type": "reply", "process": req.get("process"), **reply})
        return reply


class _Handler(socketserver.StreamRequestHandler):
    def handle(self):
        try:
            request = json.loads(self.rfile.readline(65536))
        except ValueError:
            return
        self.wfile.write((json.dumps(self.server.execute(request)) + "\n").encode())


def run_node(spec_path: str, name: str) -> None:
    spec = json.loads(Path(spec_path).read_text())
    workdir, addrs = Path(spec["dir"]), spec["addrs"]
    log = workdir / f"{name}.jsonl"
    first_boot = not log.exists()
    tracer = Tracer(LogWriter(log, name), {addr: n for n, addr in addrs.items()})
    via = spec.get("via", {}).get(name, {})
    peers = [ProxiedNode(addrs[p], via[p]) if p in via else TCPNode(addrs[p]) for p in addrs if p != name]
    conf = SyncObjConf(autoTick=False, bindAddress=addrs[name], useFork=False,
                       journalFile=str(workdir / f"{name}.journal"), fullDumpFile=str(workdir / f"{name}.dump"),
                       **spec["conf"])
    if spec.get("seed") is not None:  # PySyncObj draws its election timeouts from `random`
        random.seed(f"{spec['seed']}-{name}-{first_boot}")
    kv = KVStore(addrs[name], peers, conf, transportClass=tracer.transport_class())
    tracer.attach(kv)
    tracer.event("restart", {"type": "restart", "first_boot": first_boot})
    server = ClientServer(kv, tracer, spec["op_timeout"], spec.get("clients", {}).get(name, 0))
    ready = workdir / f"{name}.ready"
    ready.with_suffix(".tmp").write_text(json.dumps({"pid": os.getpid(), "client_port": server.port}))
    ready.with_suffix(".tmp").replace(ready)
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    while not stopping.is_set() and time.monotonic() < spec["deadline"]:
        kv.doTick(0.05)
    server.shutdown()
    kv.destroy()


if __name__ == "__main__":
    run_node(sys.argv[1], sys.argv[2])
