"""Lamport's distributed mutual exclusion (CACM 1978), transcribed from the TLA+ Examples.

Source: ``specifications/lamport_mutex/LamportMutex.tla`` with the model
``MCLamportMutex.tla`` / ``MCLamportMutex.cfg`` in the TLA+ Examples
repository (github tlaplus/Examples).

Processes ``1..N`` keep a logical clock, the requests they have received
(``req[p][q]``, 0 for none), the acknowledgements of their own request, and
pairwise FIFO channels ``network[p][q]`` (a tuple used as a sequence).  The
actions and their parameters are the spec's: ``Request(p)``, ``Enter(p)``,
``Exit(p)``, and ``ReceiveRequest(p, q)``, ``ReceiveAck(p, q)``,
``ReceiveRelease(p, q)`` for ``q \\in Proc \\ {p}`` (the domain of ``q`` is a
function of ``p``).  Each action says which process takes it (``by="p"``) and
what it leaves ``UNCHANGED``, as the spec does.

Constants (``MCLamportMutex.cfg``): ``N = 3``, ``maxClock = 6``, ``MaxNat = 7``
with ``Nat <- 0..MaxNat`` (so ``Clock`` is ``1..7``): parameters ``n=3``,
``max_clock=6``.  Invariants ``TypeOK``, ``BoundedNetwork``, ``Mutex``; TLC
also checks deadlock, and so do we.

State constraint ``ClockConstraint`` (``\\A p : clock[p] <= maxClock``), a
``@constraint``, applied as TLC applies it: a successor with a clock of 7 is
neither counted nor expanded, but the invariants are evaluated on it
(``TypeOK`` allows clocks up to ``MaxNat`` = 7, which is why the cfg sets it
one above ``maxClock``), and a state whose only steps raise a clock past the
bound (every process waiting, with only requests left to receive and clocks
at 6) is no deadlock.  The distinct-state counts and the deadlock verdict
are TLC's.

Distinct states: TLC 724,274 (manifest, MCLamportMutex.cfg); ours 724,274.
Small configurations (TLC 2.15 runs on MCLamportMutex.tla with ``MaxNat =
maxClock + 1``): ``n=2, max_clock=4``: TLC 401, ours 401; ``n=3, max_clock=3``:
TLC 10,209, ours 10,209.

Variant ``no-ack-wait``: ``Enter(p)`` requires only that p has requested,
not that every process has acknowledged the request; two processes that
have not yet received each other's requests both enter.
"""

from __future__ import annotations

from typing import NamedTuple

from consensuslab import Param, Scenario, Spec, action, always, constraint, message, record, replace_at, sometimes

@message
class Message:
    type: str  # "req", "ack" or "rel"
    clock: int


ACK = Message("ack", 0)
REL = Message("rel", 0)


@record
class MutexState(NamedTuple):
    clock: tuple  # clock[p-1]: local clock of process p
    req: tuple  # req[p-1][q-1]: clock of q's request as p knows it, 0 if none
    ack: tuple  # ack[p-1]: frozenset of processes that acknowledged p's request
    network: tuple  # network[p-1][q-1]: tuple of messages from p to q (FIFO)
    crit: frozenset  # processes in the critical section


class LamportMutex(Spec):
    name = "lamport-mutex"
    summary = "Lamport's mutual exclusion, LamportMutex.tla (TLA+ Examples)"
    params = {
        "n": Param(3, "number of processes", min=1, max=5),
        "max_clock": Param(6, "state constraint: every clock stays <= max_clock", min=1, max=20),
    }
    variants = {"no-ack-wait": "Enter does not wait for every process's acknowledgement"}
    scenarios = (
        Scenario("tiny", "N = 2, maxClock = 4 (TLC: 401)", {"n": 2, "max_clock": 4}, states=401),
        Scenario("small", "N = 3, maxClock = 3 (TLC: 10,209)", {"n": 3, "max_clock": 3}, states=10209),
        Scenario("cfg", "MCLamportMutex.cfg: N = 3, maxClock = 6 (TLC: 724,274)",
                 {"n": 3, "max_clock": 6}, states=724274),
        Scenario("no-ack-wait", "two processes in the critical section", {"n": 2, "max_clock": 4},
                 variant="no-ack-wait", expect="violation", expect_property="Mutex"),
    )

    def setup(self):
        self.Proc = tuple(range(1, self.n + 1))
        self.max_nat = self.max_clock + 1  # MCLamportMutex: MaxNat = 7 with maxClock = 6
        self.Clock = frozenset(range(1, self.max_nat + 1))

    def init(self):
        n = self.n
        yield MutexState((1,) * n, ((0,) * n,) * n, (frozenset(),) * n, (((),) * n,) * n, frozenset())

    @constraint
    def ClockConstraint(self, s):
        return all(c <= self.max_clock for c in s.clock)

    def others(self, p):
        """``Proc \\ {p}``."""
        return [q for q in self.Proc if q != p]

    # -- helpers -----------------------------------------------------------------------
    def beats(self, s, p, q):
        mine = s.req[p - 1]
        return mine[q - 1] == 0 or mine[p - 1] < mine[q - 1] or (mine[p - 1] == mine[q - 1] and p < q)

    def broadcast(self, s, sender, m):
        """network[sender] with m appended to every channel from sender to another process."""
        row = s.network[sender - 1]
        return tuple(ch if r == sender else ch + (m,) for r, ch in zip(self.Proc, row))

    # -- the actions ---------------------------------------------------------------------
    @action(p="Proc", by="p", unchanged=("clock", "crit"))
    def Request(self, s, p):
        i = p - 1
        if s.req[i][i] == 0:
            return s._replace(
                req=replace_at(s.req, i, replace_at(s.req[i], i, s.clock[i])),
                network=replace_at(s.network, i, self.broadcast(s, p, Message("req", s.clock[i]))),
                ack=replace_at(s.ack, i, frozenset({p})))

    @action(p="Proc", q=lambda self, p: self.others(p), by="p", unchanged=("ack", "crit"))
    def ReceiveRequest(self, s, p, q):
        channel = s.network[q - 1][p - 1]
        if not channel or channel[0].type != "req":
            return None
        c = channel[0].clock
        i, j = p - 1, q - 1
        new_clock = c + 1 if c > s.clock[i] else s.clock[i] + 1
        network = replace_at(s.network, j, replace_at(s.network[j], i, channel[1:]))
        network = replace_at(network, i, replace_at(network[i], j, network[i][j] + (ACK,)))
        return s._replace(
            req=replace_at(s.req, i, replace_at(s.req[i], j, c)),
            clock=replace_at(s.clock, i, new_clock),
            network=network)

    @action(p="Proc", q=lambda self, p: self.others(p), by="p", unchanged=("clock", "req", "crit"))
    def ReceiveAck(self, s, p, q):
        channel = s.network[q - 1][p - 1]
        if not channel or channel[0].type != "ack":
            return None
        i, j = p - 1, q - 1
        return s._replace(
            ack=replace_at(s.ack, i, s.ack[i] | {q}),
            network=replace_at(s.network, j, replace_at(s.network[j], i, channel[1:])))

    @action(p="Proc", by="p", unchanged=("clock", "req", "ack", "network"))
    def Enter(self, s, p):
        if self.variant == "no-ack-wait":
            acked = s.req[p - 1][p - 1] != 0  # it has requested, but need not have every ack
        else:
            acked = s.ack[p - 1] == frozenset(self.Proc)
        if acked and all(self.beats(s, p, q) for q in self.Proc if q != p):
            return s._replace(crit=s.crit | {p})

    @action(p="Proc", by="p", unchanged=("clock",))
    def Exit(self, s, p):
        if p in s.crit:
            i = p - 1
            return s._replace(
                crit=s.crit - {p},
                network=replace_at(s.network, i, self.broadcast(s, p, REL)),
                req=replace_at(s.req, i, replace_at(s.req[i], i, 0)),
                ack=replace_at(s.ack, i, frozenset()))

    @action(p="Proc", q=lambda self, p: self.others(p), by="p", unchanged=("clock", "ack", "crit"))
    def ReceiveRelease(self, s, p, q):
        channel = s.network[q - 1][p - 1]
        if not channel or channel[0].type != "rel":
            return None
        i, j = p - 1, q - 1
        return s._replace(
            req=replace_at(s.req, i, replace_at(s.req[i], j, 0)),
            network=replace_at(s.network, j, replace_at(s.network[j], i, channel[1:])))

    # -- properties ----------------------------------------------------------------------
    def is_message(self, m):
        if m.type == "req":
            return m.clock in self.Clock
        return m in (ACK, REL)

    @always
    def TypeOK(self, s):
        n, procs, nat = self.n, frozenset(self.Proc), range(self.max_nat + 1)
        return (len(s.clock) == n and all(c in self.Clock for c in s.clock)
                and len(s.req) == n and all(len(row) == n and all(x in nat for x in row) for row in s.req)
                and len(s.ack) == n and all(a <= procs for a in s.ack)
                and len(s.network) == n
                and all(len(row) == n and all(self.is_message(m) for ch in row for m in ch) for row in s.network)
                and s.crit <= procs)

    @always
    def BoundedNetwork(self, s):
        return all(len(ch) <= 3 for row in s.network for ch in row)

    @always
    def Mutex(self, s):
        return len(s.crit) <= 1

    @sometimes
    def someone_enters(self, s):
        return bool(s.crit)
