"""Tracing a running PySyncObj node into consensuslab's log format: one JSON line per Raft event.

Hooks (nothing of PySyncObj is copied or patched in place):

* messages sent and received: a ``TCPTransport`` subclass overriding ``send`` and
  ``_onMessageReceived``.  The sender writes its event's seq into the message
  (key ``_trace``), which the receiver removes before PySyncObj sees it and logs
  as the receive's ``link``: exact, where matching by content is ambiguous (a
  leader sends identical heartbeats ten times a second).  A send PySyncObj
  drops because the connection is down is logged ``unsent``;
* log, term and vote, commit index: the node's journal is wrapped after
  ``SyncObj.__init__``; every change goes through it, so events come at the
  moment of the change;
* role changes: ``SyncObjConf.onStateChanged``.

Run the node with ``autoTick=False`` and tick it yourself: the tick thread
would otherwise start inside ``__init__``, before the hooks are in place.  A
receive's ``state`` is the node's state before it is handled; every other
event's, after.  Each event is one ``os.write`` on an ``O_APPEND`` descriptor,
so a SIGKILL loses no event already written.  The node's private state is read
through SyncObj's name-mangled attributes (``PRIVATE``): the one place to
revisit when PySyncObj changes (this was written against 0.3.17).
"""

from __future__ import annotations

import functools
import json
import os
import re
import sys
import threading
import time
import traceback
from pathlib import Path

from pysyncobj import pickle
from pysyncobj.tcp_connection import CONNECTION_STATE
from pysyncobj.transport import TCPTransport

ROLES = {0: "follower", 1: "candidate", 2: "leader"}
COMMANDS = {0: "regular", 1: "noop", 2: "membership", 3: "version"}
TRACE_KEY = "_trace"
PRIVATE = {"log": "_SyncObj__raftLog", "role": "_SyncObj__raftState",
           "voted_for": "_SyncObj__votedForNodeId", "leader": "_SyncObj__raftLeader"}


def last_seq(path: Path) -> int:
    """The seq of a log file's last complete line (0 for none): a restarted node continues from it."""
    try:
        lines = path.read_bytes().splitlines()
    except FileNotFoundError:
        return 0
    for line in reversed(lines):
        try:
            return int(json.loads(line)["seq"])
        except (ValueError, KeyError, TypeError):
            continue
    return 0


class LogWriter:
    """Appends one node's events, one ``os.write`` each."""

    def __init__(self, path: str | Path, node: str):
        self.path, self.node = Path(path), node
        self.seq = last_seq(self.path)
        self.fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        self.lock = threading.RLock()

    def write(self, kind: str, msg: dict | None = None, state: dict | None = None, **extra) -> int:
        with self.lock:
            self.seq += 1
            event = {"node": self.node, "seq": self.seq, "kind": kind, "msg": msg, "state": state, **extra,
                     "clock": time.monotonic_ns()}
            os.write(self.fd, (json.dumps(event, default=repr) + "\n").encode())
            return self.seq

    def close(self) -> None:
        os.close(self.fd)


class Tracer:
    """Ties one SyncObj to its LogWriter; ``names`` maps node ids ("host:port") to log names ("n1")."""

    def __init__(self, writer: LogWriter, names: dict[str, str]):
        self.writer, self.names, self.obj = writer, names, None
        self.commit = None

    def transport_class(self):
        """The ``transportClass`` argument of SyncObj."""
        return functools.partial(TracingTransport, tracer=self)

    def attach(self, obj) -> None:
        """Install the hooks: right after ``SyncObj.__init__``, before the first tick."""
        self.obj = obj
        setattr(obj, PRIVATE["log"], TracingJournal(getattr(obj, PRIVATE["log"]), self))
        obj.conf.onStateChanged = lambda old, new: self.event("role", {"type": "role", "from": ROLES[old],
                                                                       "to": ROLES[new]})
        self.commit = obj.raftCommitIndex

    def name(self, node) -> str:
        node_id = getattr(node, "id", node)
        return self.names.get(node_id, str(node_id))

    def state(self) -> dict:
        obj = self.obj
        log = getattr(obj, PRIVATE["log"])
        voted, leader = getattr(obj, PRIVATE["voted_for"]), getattr(obj, PRIVATE["leader"])
        first, last = (log[0], log[-1]) if len(log) else ((None, None, None),) * 2  # empty while a snapshot loads
        return {"role": ROLES[getattr(obj, PRIVATE["role"])], "term": obj.raftCurrentTerm,
                "voted_for": None if voted is None else self.name(voted),
                "leader": None if leader is None else self.name(leader),
                "commit_index": obj.raftCommitIndex, "last_applied": obj.raftLastApplied,
                "log_len": len(log), "first_log_index": first[1], "last_log_index": last[1],
                "last_log_term": last[2]}

    def event(self, kind: str, msg: dict | None = None, **extra) -> int:
        """Write one event.  Tracing must not change PySyncObj (its broad ``except`` clauses would turn a
        tracer bug into a node failure), so an error is written as a ``trace_error`` event instead."""
        with self.writer.lock:
            try:
                return self.writer.write(kind, msg, self.state(), **extra)
            except Exception as exc:  # noqa: BLE001
                traceback.print_exc(file=sys.stderr)
                return self.writer.write("trace_error", {"type": kind, "error": repr(exc)}, None, **extra)

    # -- PySyncObj's values as JSON ---------------------------------------------------------
    def command(self, command: bytes):
        """A journal command: "noop", or {"op", "args"} for a replicated method call."""
        kind = COMMANDS.get(command[0], command[0])
        if kind == "noop":
            return "noop"
        body = pickle.loads(command[1:])
        if kind == "membership":
            return ["membership", body[0], self.name(body[1])]
        if kind != "regular":
            return [kind, repr(body)]
        func, args = (body, ()) if not isinstance(body, tuple) else (body[0], body[1] if len(body) > 1 else ())
        method = self.obj._idToMethod.get(func) if self.obj is not None else None
        return {"op": re.sub(r"_v\d+$", "", method.__name__) if method is not None else func, "args": list(args)}

    def entry(self, entry) -> dict:
        command, index, term = entry
        return {"index": index, "term": term, "cmd": self.command(command)}

    def message(self, message: dict, sender, receiver) -> dict:
        out = {"type": message.get("type"), "from": self.name(sender), "to": self.name(receiver)}
        for key, value in message.items():
            if key in ("type", TRACE_KEY):
                continue
            if key == "entries":
                value = [self.entry(e) for e in value]
            elif key == "command":
                value = self.command(value)
            elif key == "data":  # a chunk of one big entry
                value = {"bytes": len(value)}
            elif key == "serialized":  # a snapshot chunk: (data, is_first, is_last)
                value = None if value is None else {"bytes": len(value[0]), "first": value[1], "last": value[2]}
            out[key] = value
        return out

    def on_commit(self, index: int) -> None:
        if index != self.commit:
            self.event("commit", {"type": "commit", "from": self.commit, "to": index})
            self.commit = index


class TracingTransport(TCPTransport):
    """PySyncObj's TCP transport, logging every message sent and received."""

    def __init__(self, syncObj, selfNode, otherNodes, tracer: Tracer):
        self._tracer = tracer
        super().__init__(syncObj, selfNode, otherNodes)

    def send(self, node, message):
        tracer = self._tracer
        conn = self._connections.get(node)
        unsent = conn is None or conn.state != CONNECTION_STATE.CONNECTED
        with tracer.writer.lock:  # the seq written into the message must be the one its event gets
            seq = tracer.writer.seq + 1
            tracer.event("send", tracer.message(message, self._selfNode, node), **({"unsent": True} if unsent else {}))
        return super().send(node, {**message, TRACE_KEY: seq})

    def _onMessageReceived(self, node, message):
        tracer, link = self._tracer, None
        if isinstance(message, dict) and TRACE_KEY in message:
            message = dict(message)
            link = {"node": tracer.name(node), "seq": message.pop(TRACE_KEY)}
        tracer.event("receive", tracer.message(message, node, self._selfNode), **({"link": link} if link else {}))
        super()._onMessageReceived(node, message)


class TracingJournal:
    """Delegates to PySyncObj's journal, logging every change of the log, the term and vote, the commit index."""

    def __init__(self, inner, tracer: Tracer):
        self._inner, self._tracer = inner, tracer

    def __getattr__(self, name):
        return getattr(self._inner, name)

    def __getitem__(self, item):
        return self._inner[item]

    def __len__(self):
        return len(self._inner)

    def add(self, command, idx, term):
        self._inner.add(command, idx, term)
        self._tracer.event("log", {"type": "append", "entry": self._tracer.entry((command, idx, term))})

    def deleteEntriesFrom(self, entryFrom):  # a position in the journal, not a Raft index
        index = self._inner[0][1] + entryFrom
        self._inner.deleteEntriesFrom(entryFrom)
        self._tracer.event("log", {"type": "truncate", "from_index": index})

    def deleteEntriesTo(self, entryTo):
        index = self._inner[0][1] + entryTo
        self._inner.deleteEntriesTo(entryTo)
        self._tracer.event("log", {"type": "compact", "first_kept_index": index})

    def clear(self):
        self._inner.clear()
        self._tracer.event("log", {"type": "clear"})

    def setCurrentTerm(self, term, votedForNodeId):
        self._inner.setCurrentTerm(term, votedForNodeId)
        voted = None if votedForNodeId is None else self._tracer.name(votedForNodeId)
        self._tracer.event("term", {"type": "term", "term": term, "voted_for": voted})

    def setRaftCommitIndex(self, raftCommitIndex):
        self._inner.setRaftCommitIndex(raftCommitIndex)
        self._tracer.on_commit(raftCommitIndex)
