"""Primary-backup replication, as a TLA+-style spec written from the README.

A primary takes client writes into its log and replicates each entry to the
backups with a ``Replicate(n, v)`` message; a backup appends the entry it
expects next and acknowledges it with ``Ack(n, v)``; the primary commits
entry ``n`` once every backup has acknowledged it.  Messages stay in ``msgs``
once sent.  The property: a committed entry is in every backup's log.

The messages are ``@record`` NamedTuples, the way the README declares
states: ``Ack(1, "v1")`` and ``Replicate(1, "v1")`` are different values, so
a backup's acknowledgement is not taken for the primary's request.

Variant ``commit-on-first-ack``: the primary commits once *one* backup has
acknowledged the entry; another backup may not have it yet.

    consensuslab check tests/protocols/newcomer/primary_backup.py
    consensuslab check tests/protocols/newcomer/primary_backup.py --variant commit-on-first-ack
"""

from __future__ import annotations

from typing import NamedTuple

from consensuslab import (
    Param, Scenario, Spec, action, always, constraint, initially, record, replace_at, sometimes,
)


@record
class Replicate(NamedTuple):
    n: int
    v: str


@record
class Ack(NamedTuple):
    n: int
    v: str
    backup: str


@record
class PBState(NamedTuple):
    log: tuple  # the primary's log of values
    backups: tuple  # backups[k]: backup k's log
    committed: int  # entries 1..committed are committed
    msgs: frozenset


class PrimaryBackup(Spec):
    name = "primary-backup"
    summary = "Primary-backup replication: commit once every backup has the entry"
    params = {"backups": Param(("b1", "b2"), "the backups", min=1, max=3),
              "values": Param(("v1", "v2"), "values clients write", min=1),
              "writes": Param(2, "state constraint: at most this many writes", min=1, max=3)}
    variants = {"commit-on-first-ack": "the primary commits once one backup has acknowledged"}
    scenarios = (
        Scenario("default", "2 backups, 2 values, up to 2 writes", {}, states=97),
        Scenario("commit-on-first-ack", "a committed entry one backup lacks", {}, variant="commit-on-first-ack",
                 expect="violation", expect_property="committed_everywhere"),
    )

    def setup(self):
        self.Backup = self.backups
        self.index = {b: k for k, b in enumerate(self.backups)}

    def init(self):
        yield PBState((), ((),) * len(self.backups), 0, frozenset())

    @constraint
    def bounded_writes(self, s):
        return len(s.log) <= self.writes

    @action(v="values", by="primary", unchanged=("backups", "committed", "msgs"))
    def ClientWrite(self, s, v):
        return s._replace(log=s.log + (v,))

    @action(n=lambda self, s: range(1, len(s.log) + 1), by="primary", unchanged=("log", "backups", "committed"))
    def SendReplicate(self, s, n):
        m = Replicate(n, s.log[n - 1])
        if m not in s.msgs:
            return s._replace(msgs=s.msgs | {m})

    @action(b="Backup", m=lambda self, s: [m for m in s.msgs if type(m) is Replicate], by="b",
            unchanged=("log", "committed"))
    def BackupApply(self, s, b, m):
        k = self.index[b]
        if m.n == len(s.backups[k]) + 1:
            return s._replace(backups=replace_at(s.backups, k, s.backups[k] + (m.v,)),
                              msgs=s.msgs | {Ack(m.n, m.v, b)})

    @action(by="primary", unchanged=("log", "backups", "msgs"))
    def Commit(self, s):
        n = s.committed + 1
        if n > len(s.log):
            return None
        acks = {b for b in self.backups if Ack(n, s.log[n - 1], b) in s.msgs}
        enough = acks if self.variant == "commit-on-first-ack" else acks == set(self.backups)
        if enough:
            return s._replace(committed=n)

    @initially
    def nothing_committed(self, s):
        return s.committed == 0 and not s.msgs

    @always
    def committed_everywhere(self, s):
        """Every committed entry is in every backup's log, with the primary's value."""
        return all(len(log) >= s.committed and log[:s.committed] == s.log[:s.committed] for log in s.backups)

    @sometimes
    def something_committed(self, s):
        return s.committed > 0
