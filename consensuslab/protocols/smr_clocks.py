"""State machine replication ordered by logical clocks (Lamport 1978; "Using Time Instead of Timeout", 1984).

Every process keeps a Lamport clock and a copy of the state machine. A request is stamped
with the requester's clock and broadcast; every process that receives one acknowledges it to
all with a later timestamp. Channels are FIFO, so once process i has heard a timestamp
later than T from every other process, no request stamped before T can still arrive: i
executes its queued requests in (timestamp, process) order up to that point. There is no
leader and no vote; agreement follows from the total order alone.

The construction assumes that no process fails: a crashed process never sends the later
timestamp the others wait for, so from then on nothing is executed (scenario ``crash``, a
liveness violation of ``requests_executed``). That is the paper's point: only time -- a
bound on message delay, or a timeout -- lets the others stop waiting.

Abstracted: the requester's own acknowledgement is sent right behind its request (the
"later timestamp" the rule needs from it too); processes execute as soon as they may, within
the step that made it possible; ``crashes`` bounds crash-stop failures.
"""

from __future__ import annotations

from typing import NamedTuple

from consensuslab.errors import UsageError
from consensuslab.models.fairness import Fair
from consensuslab.models.messages import Channel, Participants
from consensuslab.models.params import Param
from consensuslab.models.properties import eventually
from consensuslab.models.records import record, replace_at
from consensuslab.models.scenario import Scenario
from consensuslab.models.spec import action
from consensuslab.protocols.smr_common import COMMON_PARAMS, NO_RETRY_WITNESS, SmrSpec, event, execute

WITH_LIVENESS = NO_RETRY_WITNESS + ("requests_executed",)


@record
class Proc(NamedTuple):
    clock: int
    queue: frozenset   # requests received or made: (timestamp, process, rid)
    heard: tuple       # per process, the latest timestamp received from it
    executed: tuple    # requests executed, in order


@record
class SmrClocksState(NamedTuple):
    procs: tuple
    chans: tuple       # chans[i][j]: FIFO channel from i to j of ("req", ts, rid) / ("ack", ts, -1)
    clients: tuple     # per process (as a client): next op, pending, -, -
    down: frozenset    # crashed processes
    hist: tuple


class SmrClocks(SmrSpec):
    name = "smr-clocks"
    summary = "Replicated key-value store ordered by Lamport clocks; blocks forever if a process crashes"
    params = {**COMMON_PARAMS, "procs": Param(3, "number of processes", min=2, max=3),
              "crashes": Param(0, "processes that may crash", min=0, max=1)}
    variants = {}
    replica_field = "procs"
    disabled_properties = ("retry_applied_once",)  # no retries: every request is sent once
    fairness = (Fair("step", "Request"), Fair("step", "Receive"))
    #: unlike the other SMR specs, a run that stops is a deadlock (``done`` says when it is finished)
    check_deadlock = True
    #: processes p1..pn, each its own client; chans[i][j] is the FIFO channel from i to j
    participants = Participants(
        "N", per_node={"procs": "N", "clients": "N"}, per_pair={"chans": "N"}, label=lambda self, i: f"p{i + 1}",
        channels=(Channel(lambda self, s: [(i, j, m) for i, row in enumerate(s.chans) for j, q in enumerate(row)
                                           for m in q], sender=lambda self, m: m[0], receiver=lambda self, m: m[1],
                          label=lambda self, m: f"{m[2][0]} t={m[2][1]}"),))
    scenarios = (
        Scenario("default", "2 processes, each a client with 2 requests; nobody fails",
                 {"procs": 2, "ops": 2}, states=5279, properties=WITH_LIVENESS),
        Scenario("three", "3 processes, one client with 2 requests; nobody fails",
                 {"procs": 3, "clients": 1, "ops": 2}, states=3190, properties=WITH_LIVENESS),
        Scenario("crash", "3 processes, one may crash: agreement holds, but nothing is executed any more",
                 {"procs": 3, "clients": 1, "crashes": 1}, expect="liveness", expect_property="requests_executed",
                 properties=WITH_LIVENESS),
    )

    def setup(self):
        if self.clients > self.procs:
            raise UsageError(f"{self.name}: clients={self.clients} exceeds procs={self.procs} (clients are processes)")
        self.replicas = self.procs
        self.retries = 0
        super().setup()
        self.C = tuple(f"p{i + 1}" for i in range(self.clients))  # each process is its own client

    def init(self):
        n = self.procs
        proc = Proc(0, frozenset(), (0,) * n, ())
        yield SmrClocksState((proc,) * n, (((),) * n,) * n, ((0, False, 0, 0),) * self.clients, frozenset(), ())

    def applied_of(self, p: Proc) -> tuple:
        return tuple(((ts, pid), (pid, rid)) for ts, pid, rid in p.executed)

    @staticmethod
    def _send(chans: tuple, i: int, msgs: tuple, dests) -> tuple:
        row = list(chans[i])
        for j in dests:
            row[j] = row[j] + msgs
        return replace_at(chans, i, tuple(row))

    def _execute(self, s, i: int, p: Proc):
        """Execute, in order, every queued request that nobody can still precede."""
        clients, hist = s.clients, s.hist
        others = [j for j in self.N if j != i]
        done = set(p.executed)
        for req in sorted(p.queue - done):
            if not all(p.heard[j] > req[0] for j in others):
                break
            p = p._replace(executed=p.executed + (req,))
            if req[1] == i:
                _, _, results = execute(self.script, tuple(e[1] for e in self.applied_of(p)), True)
                clients, hist = self.complete(clients, hist, i, req[2], results[(i, req[2])])
        return s._replace(procs=replace_at(s.procs, i, p), clients=clients, hist=hist)

    @action(i="N", by="i")
    def Request(self, s, i):
        """Process i stamps its next request, queues it, broadcasts it and its own later timestamp."""
        if i in s.down or i >= self.clients:
            return None
        nxt, pending, _, _ = s.clients[i]
        if pending or nxt >= self.ops:
            return None
        p = s.procs[i]
        t = p.clock + 1
        chans = self._send(s.chans, i, (("req", t, nxt), ("ack", t + 1, -1)), [j for j in self.N if j != i])
        s = s._replace(clients=replace_at(s.clients, i, (nxt, True, 0, 0)), chans=chans,
                       hist=s.hist + (event(i, "invoke", self.script[i][nxt]),))
        return self._execute(s, i, p._replace(clock=t + 1, queue=p.queue | {(t, i, nxt)}))

    @action(i="N", j="N", by="i")
    def Receive(self, s, i, j):
        """Process i takes the next message from j; a request is queued and acknowledged to all."""
        if i in s.down or not s.chans[j][i]:
            return None
        (kind, t, rid), rest = s.chans[j][i][0], s.chans[j][i][1:]
        chans = replace_at(s.chans, j, replace_at(s.chans[j], i, rest))
        p = s.procs[i]
        clock = max(p.clock, t) + 1
        p = p._replace(clock=clock, heard=replace_at(p.heard, j, t))
        if kind == "req":
            p = p._replace(queue=p.queue | {(t, j, rid)})
            chans = self._send(chans, i, (("ack", clock, -1),), [k for k in self.N if k != i])
        return self._execute(s._replace(chans=chans), i, p)

    @action(i="N", by="i", fault=True)
    def Crash(self, s, i):
        if i in s.down or len(s.down) >= self.crashes:
            return None
        return s._replace(down=s.down | {i})

    # -- liveness ------------------------------------------------------------------------------
    @eventually
    def requests_executed(self, s):
        """Every live process's client has completed all its operations."""
        return all(c in s.down or (not pending and nxt == self.ops) for c, (nxt, pending, _, _) in enumerate(s.clients))

    def done(self, s):
        return self.requests_executed(s)
