"""Readers and writers served fairly through one queue, transcribed from the TLA+ Examples.

Source: ``specifications/ReadersWriters/ReadersWriters.tla`` with ``MC.tla`` and
``MC.cfg`` in the TLA+ Examples repository (github tlaplus/Examples).

Actors ``1..NumActors`` ask to read or to write by joining the queue
``waiting`` (a tuple of ``("read" | "write", actor)`` pairs; an actor is in it
at most once per kind).  The head of the queue is served when no one writes: a
reader joins ``readers``; a writer joins ``writers`` once no one reads.  Anyone
reading or writing may stop.  Variables ``readers``, ``writers`` (frozensets)
and ``waiting``.  ``Stop`` is ``\\E actor \\in readers \\cup writers``: an
argument whose domain reads the state.

Constants (``MC.tla``): ``NumActors = 3``, parameter ``n``.  Invariants ``TypeOK``
and ``Safety``; TLC checks deadlock.  ``Liveness`` under the spec's fairness
(weak fairness of ``TryRead(actor)`` and ``TryWrite(actor)`` for each actor, of
``ReadOrWrite`` and of ``Stop``): every actor reads, writes and stops reading
infinitely often, one property for each of its three conjuncts per actor
(written for actors 1 to 3; an actor above ``n`` holds them trivially).

Distinct states: TLC 21,527 (manifest, MC.cfg, n = 3); ours 21,527.  With
``n = 2``: TLC 2.20 on ReadersWriters.tla, 390; ours 390.

Variant ``no-reader-check``: a writer is served while others read.  The checker
finds ``Safety`` broken: a reader and a writer at once.
"""

from __future__ import annotations

from typing import NamedTuple

from consensuslab import Fair, Param, Scenario, Spec, action, always, always_eventually, record

READ, WRITE = "read", "write"


@record
class RWState(NamedTuple):
    readers: frozenset  # actors reading now
    writers: frozenset  # actors writing now
    waiting: tuple  # the queue of (READ | WRITE, actor) requests


class ReadersWriters(Spec):
    name = "readers-writers"
    summary = "Readers and writers served through a fair queue, ReadersWriters.tla (TLA+ Examples)"
    params = {"n": Param(3, "number of actors (NumActors)", min=1, max=4)}
    variants = {"no-reader-check": "a writer is served while others read"}
    fairness = (
        Fair("step", "TryRead"),  # WF_vars(TryRead(actor)), for each actor
        Fair("step", "TryWrite"),
        Fair("step", "ReadOrWrite"),
        Fair("step", "Stop", per="all"),  # WF_vars(\E actor : StopActivity(actor))
    )
    scenarios = (
        Scenario("small", "NumActors = 2 (TLC: 390)", {"n": 2}, states=390),
        Scenario("mc", "MC.cfg: NumActors = 3 (TLC: 21,527)", {"n": 3}, states=21527),
        Scenario("live", "every actor reads, writes and stops reading infinitely often", {"n": 2},
                 properties=("reads_1", "reads_2", "writes_1", "writes_2", "stops_reading_1",
                             "stops_reading_2")),
        Scenario("no-reader-check", "a writer is served while others read", {"n": 2}, variant="no-reader-check",
                 expect="violation", expect_property="Safety"),
    )

    def setup(self):
        self.Actors = tuple(range(1, self.n + 1))

    def init(self):
        yield RWState(frozenset(), frozenset(), ())

    def waiting_to(self, s, kind):
        """WaitingToRead / WaitingToWrite: the actors with a request of ``kind`` in the queue."""
        return {actor for k, actor in s.waiting if k == kind}

    # -- actions --------------------------------------------------------------------------
    @action(actor="Actors")
    def TryRead(self, s, actor):
        if actor not in self.waiting_to(s, READ):
            return s._replace(waiting=s.waiting + ((READ, actor),))

    @action(actor="Actors")
    def TryWrite(self, s, actor):
        if actor not in self.waiting_to(s, WRITE):
            return s._replace(waiting=s.waiting + ((WRITE, actor),))

    @action
    def ReadOrWrite(self, s):
        if s.waiting and not s.writers:
            kind, actor = s.waiting[0]
            if kind == READ:
                return s._replace(readers=s.readers | {actor}, waiting=s.waiting[1:])
            if not s.readers or self.variant == "no-reader-check":
                return s._replace(writers=s.writers | {actor}, waiting=s.waiting[1:])

    @action(actor=lambda self, s: sorted(s.readers | s.writers))
    def Stop(self, s, actor):
        if actor in s.readers:
            return s._replace(readers=s.readers - {actor})
        return s._replace(writers=s.writers - {actor})

    # -- properties -----------------------------------------------------------------------
    @always
    def TypeOK(self, s):
        actors = frozenset(self.Actors)
        return (s.readers <= actors and s.writers <= actors
                and all(kind in (READ, WRITE) and actor in actors for kind, actor in s.waiting))

    @always
    def Safety(self, s):
        return not (s.readers and s.writers) and len(s.writers) <= 1

    def _reads(self, s, actor):
        return actor > self.n or actor in s.readers

    def _writes(self, s, actor):
        return actor > self.n or actor in s.writers

    reads_1 = always_eventually(lambda self, s: self._reads(s, 1))
    reads_2 = always_eventually(lambda self, s: self._reads(s, 2))
    reads_3 = always_eventually(lambda self, s: self._reads(s, 3))
    writes_1 = always_eventually(lambda self, s: self._writes(s, 1))
    writes_2 = always_eventually(lambda self, s: self._writes(s, 2))
    writes_3 = always_eventually(lambda self, s: self._writes(s, 3))
    stops_reading_1 = always_eventually(lambda self, s: 1 not in s.readers)
    stops_reading_2 = always_eventually(lambda self, s: 2 not in s.readers)
    stops_reading_3 = always_eventually(lambda self, s: 3 not in s.readers)
