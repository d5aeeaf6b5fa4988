"""A key-value store with snapshot isolation, transcribed from the TLA+ Examples.

Source: ``specifications/KeyValueStore/KeyValueStore.tla`` and
``MCKVSSafetySmall.cfg`` in the TLA+ Examples repository (github
tlaplus/Examples).

Transactions ``t`` of ``TxId`` open a snapshot of the store, add, update and
remove keys in it, and either roll back or close.  Closing merges the
transaction's writes into the store unless another transaction wrote one of
the same keys since the snapshot was taken (a write-write conflict: the key is
in both ``missed[t]`` and ``written[t]``); the writes it merges are recorded as
missed by every other open transaction.  Variables: ``store`` (a tuple over
keys), ``tx`` (the open transactions, a frozenset), ``snapshotStore`` (a tuple
over transactions of tuples over keys), ``written`` and ``missed`` (tuples over
transactions of frozensets of keys).  ``NoVal`` marks an absent value.

Constants (``MCKVSSafetySmall.cfg``): ``Key = {k1, k2}``, ``Val = {v1, v2}``,
``TxId = {t1, t2, t3}``; parameters ``keys``, ``vals``, ``txs``.  Invariants
``TypeInvariant`` and ``TxLifecycle``; no deadlock check (the spec's ``Next``
is always enabled: a transaction can always be opened or acted in).  The
configuration's ``SYMMETRY`` is not used (``MCKVSSafetySmall.cfg`` has none).

Distinct states (the manifest records none): TLC 2.20 on KeyValueStore.tla with
the constants above, one worker: 3,409,605 (56,349,379 generated, 159 s);
with ``TxId = {t1, t2}``: 28,305; with ``TxId = {t1}``: 153.  Ours: the same.

Variant ``no-missed``: closing a transaction does not record its writes as
missed by the other open transactions.  A transaction that took its snapshot
before then sees a store that differs from its snapshot on a key it neither
wrote nor knows it missed: ``TxLifecycle`` breaks (and a later close would merge
over the other transaction's write).
"""

from __future__ import annotations

from typing import NamedTuple

from consensuslab import Param, Scenario, Spec, action, always, record, replace_at

NOVAL = "NoVal"


@record
class KVState(NamedTuple):
    store: tuple  # store[k]: a value of Val, or NoVal
    tx: frozenset  # the open transactions
    snapshotStore: tuple  # snapshotStore[t][k]
    written: tuple  # written[t]: the keys t wrote
    missed: tuple  # missed[t]: the keys others merged since t's snapshot


class KeyValueStore(Spec):
    name = "key-value-store"
    summary = "Snapshot isolation in a key-value store, KeyValueStore.tla (TLA+ Examples)"
    params = {
        "keys": Param(2, "number of keys", min=1, max=4),
        "vals": Param(2, "number of values", min=1, max=4),
        "txs": Param(3, "number of transaction ids", min=1, max=4),
    }
    variants = {"no-missed": "CloseTx does not record its writes as missed by the other open transactions"}
    scenarios = (
        Scenario("tx1", "one transaction id (TLC: 153)", {"txs": 1}, states=153),
        Scenario("tx2", "two transaction ids (TLC: 28,305)", {"txs": 2}, states=28305),
        Scenario("small", "MCKVSSafetySmall.cfg: 2 keys, 2 values, 3 transaction ids (TLC: 3,409,605)",
                 {"txs": 3}, states=3409605),
        Scenario("no-missed", "merged writes are not recorded as missed", {"txs": 2}, variant="no-missed",
                 expect="violation", expect_property="TxLifecycle"),
    )
    check_deadlock = False

    def setup(self):
        self.Key = tuple(range(self.keys))
        self.Val = tuple(f"v{i + 1}" for i in range(self.vals))
        self.TxId = tuple(range(self.txs))
        self.no_values = tuple(NOVAL for _ in self.Key)  # [k \in Key |-> NoVal]

    def init(self):
        nothing = tuple(frozenset() for _ in self.TxId)
        yield KVState(self.no_values, frozenset(), tuple(self.no_values for _ in self.TxId), nothing, nothing)

    # -- properties -----------------------------------------------------------------------
    @always
    def TypeInvariant(self, s):
        values = set(self.Val) | {NOVAL}
        keys = frozenset(self.Key)
        return (len(s.store) == self.keys and all(v in values for v in s.store)
                and s.tx <= frozenset(self.TxId)
                and len(s.snapshotStore) == self.txs
                and all(len(snap) == self.keys and all(v in values for v in snap) for snap in s.snapshotStore)
                and all(w <= keys for w in s.written)
                and all(m <= keys for m in s.missed))

    @always
    def TxLifecycle(self, s):
        for t in s.tx:  # store != snapshot on a key t did not write: t must have missed a write to it
            for k in self.Key:
                if s.store[k] != s.snapshotStore[t][k] and k not in s.written[t] and k not in s.missed[t]:
                    return False
        for t in self.TxId:  # a closed transaction has been cleaned up
            if t in s.tx:
                continue
            if any(v != NOVAL for v in s.snapshotStore[t]) or s.written[t] or s.missed[t]:
                return False
        return True

    # -- actions --------------------------------------------------------------------------
    @action(t="TxId")
    def OpenTx(self, s, t):
        if t not in s.tx:
            return s._replace(tx=s.tx | {t}, snapshotStore=replace_at(s.snapshotStore, t, s.store))

    def write(self, s, t, k, v):
        """snapshotStore[t][k] := v and k joins written[t] (Add, Update and Remove all end so)."""
        snapshot = replace_at(s.snapshotStore, t, replace_at(s.snapshotStore[t], k, v))
        return s._replace(snapshotStore=snapshot, written=replace_at(s.written, t, s.written[t] | {k}))

    @action(t="TxId", k="Key", v="Val")
    def Add(self, s, t, k, v):
        if t in s.tx and s.snapshotStore[t][k] == NOVAL:
            return self.write(s, t, k, v)

    @action(t="TxId", k="Key", v="Val")
    def Update(self, s, t, k, v):
        if t in s.tx and s.snapshotStore[t][k] not in (NOVAL, v):
            return self.write(s, t, k, v)

    @action(t="TxId", k="Key")
    def Remove(self, s, t, k):
        if t in s.tx and s.snapshotStore[t][k] != NOVAL:
            return self.write(s, t, k, NOVAL)

    @action(t="TxId")
    def RollbackTx(self, s, t):
        if t in s.tx:
            return s._replace(tx=s.tx - {t}, snapshotStore=replace_at(s.snapshotStore, t, self.no_values),
                              written=replace_at(s.written, t, frozenset()),
                              missed=replace_at(s.missed, t, frozenset()))

    @action(t="TxId")
    def CloseTx(self, s, t):
        if t in s.tx and not (s.missed[t] & s.written[t]):  # no write-write conflict
            written = s.written[t]
            store = tuple(s.snapshotStore[t][k] if k in written else s.store[k] for k in self.Key)
            tx = s.tx - {t}
            if self.variant == "no-missed":
                missed = tuple(s.missed[o] if o in tx else frozenset() for o in self.TxId)
            else:
                missed = tuple(s.missed[o] | written if o in tx else frozenset() for o in self.TxId)
            return KVState(store, tx, replace_at(s.snapshotStore, t, self.no_values),
                           replace_at(s.written, t, frozenset()), missed)
