"""What the state-machine-replication models share: the key-value machine, clients, the ghost history.

A replicated service is correct when it behaves like one machine to its clients, so
the properties are stated on what replicas *applied* and on what clients *saw*, not on
the consensus protocol underneath; ``SmrSpec`` subclasses (Raft, Multi-Paxos, Lamport's
clocks) only say, per replica, which log prefix it has applied.

Clients follow Raft's section 8: each has a fixed script, one operation at a time,
identified by (client, request id); on a timeout it resends the *same* request to a
replica it picks (any one, as Raft's clients do). Replicas execute commands through a
session table (last request id and result per client), so a command that reaches the log
twice takes effect once. The history of
invocations and completions is ghost state in Jepsen's shape, checked by
``checkers.linearizability``.
"""

from __future__ import annotations

from functools import lru_cache

from consensuslab.histories.linearizability import is_linearizable
from consensuslab.models.messages import Channel, Participants
from consensuslab.models.params import Param
from consensuslab.models.properties import always, always_step, sometimes
from consensuslab.models.records import replace_at
from consensuslab.models.spec import Spec, action

KEYS = ("x", "y")
# Client c runs SCRIPTS[c][:ops] on key KEYS[c % keys]: writes, a read, a compare-and-set,
# with two values, so a stale read or a repeated write shows in the history.
SCRIPTS = ((("write", 1), ("cas", (1, 2))), (("read", None), ("write", 2)), (("read", None), ("cas", (2, 1))))

COMMON_PARAMS = {
    "clients": Param(2, "number of clients", min=1, max=3),
    "ops": Param(1, "operations per client", min=1, max=2),
    "keys": Param(1, "keys of the store", min=1, max=2),
}


def script_of(clients: int, ops: int, keys: int) -> tuple:
    """Per client, its operations as (f, key, value)."""
    return tuple(tuple((f, KEYS[c % keys], v) for f, v in SCRIPTS[c][:ops]) for c in range(clients))


@lru_cache(maxsize=1 << 14)
def execute(script: tuple, cmds: tuple, dedup: bool = True) -> tuple[tuple, tuple, dict]:
    """Run ``cmds`` ((client, rid) or None for a no-op) on an empty store, in order.

    Returns (store as sorted (key, value) pairs, the commands that took effect, the
    result of each (client, rid)). With ``dedup`` a request id at or below the client's
    last executed one is skipped and answered from the session table (Raft, section 8).
    """
    store: dict = {}
    last: dict = {}
    effected, results = [], {}
    for cmd in cmds:
        if cmd is None:
            continue
        c, rid = cmd
        if dedup and last.get(c, -1) >= rid:
            continue
        f, key, value = script[c][rid]
        if f == "read":
            result = store.get(key)
        elif f == "write":
            store[key], result = value, True
        else:
            result = store.get(key) == value[0]
            if result:
                store[key] = value[1]
        last[c] = rid
        effected.append(cmd)
        results[cmd] = result
    return tuple(sorted(store.items())), tuple(effected), results


@lru_cache(maxsize=1 << 14)
def executed_once(script: tuple, log: tuple, dedup: bool) -> bool:
    effected = execute(script, tuple(e[1] for e in log), dedup)[1]
    return len(set(effected)) == len(effected)


def event(c: int, kind: str, op: tuple, value=None) -> tuple:
    """A Jepsen event as a hashable tuple: (process, type, f, key, value)."""
    f, key, arg = op
    return (c, kind, f, key, value if f == "read" else arg)


@lru_cache(maxsize=1 << 16)
def history_linearizable(hist: tuple) -> bool:
    """Memoised: one history recurs in many states (same client view, different replicas)."""
    events = [{"process": c, "type": t, "f": f, "key": k, "value": list(v) if isinstance(v, tuple) else v}
              for c, t, f, k, v in hist]
    return is_linearizable(events, "kv")


#: every property but the retry witness, for scenarios without retries
NO_RETRY_WITNESS = ("applied_prefix_agreement", "applied_entries_immutable", "exactly_once", "linearizable",
                    "all_completed")


def is_prefix(a: tuple, b: tuple) -> bool:
    return len(a) <= len(b) and b[:len(a)] == a


class SmrSpec(Spec):
    """Clients, history and properties; subclasses supply replicas and ``applied_logs``.

    States are NamedTuples with at least ``clients`` (per client: next op index, pending,
    guessed leader, retries used), ``net`` (requests in flight: (client, rid, replica)) and
    ``hist``; a subclass also keeps its replicas.
    """

    params = {**COMMON_PARAMS, "replicas": Param(3, "number of replicas", min=1, max=3),
              "retries": Param(1, "resends per operation after a timeout", min=0, max=2)}
    variants = {
        "read-from-follower": "any replica answers a read from its own applied state; clients read from a follower",
        "no-dedup": "replicas execute every log entry, with no session table: a retried write takes effect twice",
        "apply-uncommitted": "replicas apply entries as soon as they hold them, before they are committed",
    }
    replica_field = "reps"  # the state's per-replica tuple
    #: replicas r1..rn and clients c1..ck; a request (client, rid, replica) goes from its client to the replica
    participants = Participants(
        "N", "C", per_node={"reps": "N", "clients": "C"}, label=lambda self, i: f"r{i + 1}",
        channels=(Channel("net", sender=lambda self, m: self.C[m[0]], receiver=lambda self, m: m[2],
                          label=lambda self, m: f"{self.script[m[0]][m[1]][0]} #{m[1]} of {self.C[m[0]]}"),))
    check_deadlock = False  # bounded clients and terms: a stopped run is the end of the bound, not a bug

    def setup(self):
        self.script = script_of(self.clients, self.ops, self.keys)
        self.N = tuple(range(self.replicas))
        self.C = tuple(f"c{c + 1}" for c in range(self.clients))
        self.quorum = self.replicas // 2 + 1
        self.dedup = self.variant != "no-dedup"
        self.rids = tuple(range(self.ops))

    def applied_of(self, rep) -> tuple:
        """The entries replica ``rep`` has applied, in order: (tag, (client, rid) or None) pairs."""
        raise NotImplementedError

    def applied_logs(self, s) -> tuple:
        return tuple(map(self.applied_of, getattr(s, self.replica_field)))

    # -- clients ---------------------------------------------------------------------------
    def _target(self, c: int, rid: int, guess: int) -> int:
        if self.variant == "read-from-follower" and self.script[c][rid][0] == "read" and self.replicas > 1:
            return 1 + c % (self.replicas - 1)  # spread reads over the followers
        return guess

    def invoke(self, s, c):
        """Client c starts its next operation and sends it to the replica it takes for the leader."""
        nxt, pending, guess, _ = s.clients[c]
        if pending or nxt >= self.ops:
            return None
        return s._replace(clients=replace_at(s.clients, c, (nxt, True, guess, 0)),
                          net=s.net | {(c, nxt, self._target(c, nxt, guess))},
                          hist=s.hist + (event(c, "invoke", self.script[c][nxt]),))

    def timeout(self, s, c, i):
        """No answer in time: resend the same request (same id) to replica i (Raft: any server)."""
        nxt, pending, _, tries = s.clients[c]
        if not pending or tries >= self.retries:
            return None
        return s._replace(clients=replace_at(s.clients, c, (nxt, True, i, tries + 1)),
                          net=s.net | {(c, nxt, i)})

    def complete(self, clients: tuple, hist: tuple, c: int, rid: int, result, leader: int | None = None):
        """Client c receives the answer to ``rid`` (ignored unless it is the one pending)."""
        nxt, pending, guess, _ = clients[c]
        if not pending or nxt != rid:
            return clients, hist
        op = self.script[c][rid]
        kind = "fail" if op[0] == "cas" and not result else "ok"
        guess = guess if leader is None else leader
        return (replace_at(clients, c, (nxt + 1, False, guess, 0)),
                hist + (event(c, kind, op, result),))

    def reply_applied(self, clients, hist, old: tuple, new: tuple, leader: int):
        """The leader answers every command of ``new`` that it had not applied before."""
        if new == old:
            return clients, hist
        start = len(old) if is_prefix(old, new) else 0
        _, _, results = execute(self.script, tuple(e[1] for e in new), self.dedup)
        for entry in new[start:]:
            cmd = entry[1]
            if cmd is not None:  # a duplicate is answered from the session table: the same result
                result = results.get(cmd)
                clients, hist = self.complete(clients, hist, cmd[0], cmd[1], result, leader)
        return clients, hist

    def local_read(self, applied: tuple, c: int, rid: int):
        store, _, _ = execute(self.script, tuple(e[1] for e in applied), self.dedup)
        return dict(store).get(self.script[c][rid][1])

    # -- explanation ------------------------------------------------------------------------
    def explain(self, trace, violation=None) -> list[str]:
        """What each replica applied and what the clients saw, in the store's terms."""
        s, name = trace.states[-1], self.participants.label
        lines = [f"{name(self, i)} applied: {', '.join(self.command(e[1]) for e in log) or 'nothing'}"
                 for i, log in enumerate(self.applied_logs(s))]
        seen = "; ".join(f"{self.C[c]} {kind} {f} {key}" + (f" -> {value}" if f == "read" and kind == "ok" else
                                                             "" if f == "read" else f" {value}")
                         for c, kind, f, key, value in s.hist)
        lines.append(f"the clients saw: {seen or 'nothing'}")
        if not history_linearizable(s.hist):
            lines.append("no order of these operations, each taking effect between its invocation and its answer, "
                         "gives every answer they saw: the history is not linearizable")
        return lines

    def command(self, cmd) -> str:
        """A log entry's command: ``write x=1 (c1 #0)``, or a no-op."""
        if cmd is None:
            return "no-op"
        c, rid = cmd
        f, key, value = self.script[c][rid]
        arg = f" {key}" if f == "read" else f" {key}={value}" if f == "write" else f" {key}: {value[0]}->{value[1]}"
        return f"{f}{arg} ({self.C[c]} #{rid})"

    # -- properties -------------------------------------------------------------------------
    @always
    def applied_prefix_agreement(self, s):
        """Any two replicas' applied logs are prefixes of one another."""
        logs = sorted(self.applied_logs(s), key=len)
        return all(is_prefix(a, b) for a, b in zip(logs, logs[1:]))

    @always_step
    def applied_entries_immutable(self, before, action, after):
        """What a replica has applied never changes, it only grows."""
        field = self.replica_field
        return all(b is a or is_prefix(self.applied_of(b), self.applied_of(a))
                   for b, a in zip(getattr(before, field), getattr(after, field)))

    @always
    def exactly_once(self, s):
        """No replica's state machine executes a request twice, however often it was retried."""
        return all(executed_once(self.script, log, self.dedup) for log in self.applied_logs(s))

    @always
    def linearizable(self, s):
        """The clients' history has a linearization consistent with the key-value store."""
        return history_linearizable(s.hist)

    @sometimes
    def all_completed(self, s):
        """Every client completes every operation (the model is not vacuous)."""
        return all(not pending and nxt == self.ops for nxt, pending, _, _ in s.clients)

    @sometimes
    def retry_applied_once(self, s):
        """Some replica's log holds one request twice (a retry got through) and executed it once."""
        return any(len({e[1] for e in log if e[1]}) < sum(1 for e in log if e[1]) for log in self.applied_logs(s))


class LeaderClients:
    """The client actions of the leader-based stores: issue the next operation, or resend it.

    A mixin, so that smr-raft and smr-multipaxos share one definition of what a client does.
    """

    @action(c=lambda self: range(self.clients), by=lambda self, c: self.C[c])
    def ClientRequest(self, s, c):
        return self.invoke(s, c)

    @action(c=lambda self: range(self.clients), i="N", by=lambda self, c, i: self.C[c])
    def ClientTimeout(self, s, c, i):
        return self.timeout(s, c, i)
