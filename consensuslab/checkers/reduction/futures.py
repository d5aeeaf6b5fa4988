"""What ``--reduction por`` needs to know beyond one state: who may still send to whom, and
what the properties read.

``Futures`` over-approximates, for every node and every local state it can ever be
in, the envelopes it may send from then on.  It is computed once, before the
search, by a fixpoint over *local* states only (a Cartesian abstraction in which
the network is a grow-only set): every envelope ever sent may be delivered to its
destination in any local state that destination can reach, any number of times;
every timer a node ever sets may fire in any of its local states; every local step
is taken wherever its guard holds; a node under ``CrashRecover`` may restart from
any local state.  Every network policy delivers only envelopes that were sent (or
forged), so each real local transition of a node is a transition of this
abstraction and each real send is one of its sends.  A handler that raises on an
abstract input is skipped: if that input is real, the reduced search reaches it
too (see ``reduction``) and raises there as the full search would.

``Reads`` and ``WatchedWorld`` record which parts of a global state the
properties read (a node's local state, a node's timers, the crashed set, the
messages in flight, or the raw state), so that an action that changes none of
them can be called invisible.
"""

from __future__ import annotations

from collections import deque

from consensuslab.models.actor_model import ActorState
from consensuslab.models.effects import SetTimer
from consensuslab.models.faults import Byzantine, CrashRecover, CrashStop
from consensuslab.models.world import World

#: handler applications the abstraction may spend before it gives up (the search then runs unreduced)
MAX_STEPS = 300_000

NET, DOWN, ALL = "net", "down", "all"


class ReadsGrew(BaseException):
    """A property read something outside the recorded set: the search restarts with it.

    A ``BaseException`` so that a property's own ``except Exception`` cannot swallow it.
    """


class Reads:
    """The parts of a state the properties have read.  Learning mode adds silently; checking
    mode adds, remembers that it grew, and raises ``ReadsGrew``."""

    __slots__ = ("known", "learning", "grew", "roles", "whole")

    def __init__(self, model):
        self.known: set = set()
        self.learning = True
        self.grew = False
        byz = model.byzantine
        #: role -> indices of its non-Byzantine nodes; roles whose every such node is known
        self.roles = {role: tuple(model.index[n] for n in nodes if n not in byz)
                      for role, nodes in model.topology.items()}
        self.whole: set = set()

    def touch(self, key) -> None:
        if key in self.known:
            return
        self.known.add(key)
        if not self.learning:
            self.grew = True
            raise ReadsGrew(key)

    def touch_role(self, role: str) -> tuple:
        idx = self.roles[role]
        if role not in self.whole:
            for i in idx:
                self.touch(("node", i))
            self.whole.add(role)
        return idx


class WatchedWorld(World):
    """``World`` with every read recorded; ``raw`` counts as reading everything."""

    __slots__ = ("_gs", "_reads")

    def __init__(self, model, gs, reads: Reads):
        self.model = model
        self._gs = gs
        self._reads = reads

    @property
    def raw(self):
        self._reads.touch(ALL)
        return self._gs

    def __getitem__(self, node: str):
        i = self.model.index[node]
        self._reads.touch(("node", i))
        return self._gs.locals[i]

    def states(self, role: str) -> list:
        locals_ = self._gs.locals
        return [locals_[i] for i in self._reads.touch_role(role)]

    def items(self, role: str) -> list:
        locals_, nodes = self._gs.locals, self.model.nodes
        return [(nodes[i], locals_[i]) for i in self._reads.touch_role(role)]

    def correct(self, role: str) -> list:
        self._reads.touch(DOWN)
        down, locals_, nodes = self._gs.down, self._gs.locals, self.model.nodes
        return [(nodes[i], locals_[i]) for i in self._reads.touch_role(role) if nodes[i] not in down]

    @property
    def crashed(self) -> frozenset:
        self._reads.touch(DOWN)
        return self._gs.down

    @property
    def in_flight(self) -> list:
        self._reads.touch(NET)
        return self.model.network.in_flight(self._gs.net)

    def timers(self, node: str) -> frozenset:
        i = self.model.index[node]
        self._reads.touch(("timers", i))
        return self._gs.timers[i]


class Futures:
    """Per node and local state: the envelopes the node may send from then on, by destination.

    ``reason`` is set (and nothing is known) when the abstraction exceeded ``limit`` steps.
    """

    def __init__(self, model, limit: int = MAX_STEPS):
        self.model = model
        self.reason: str | None = None
        self.steps = 0
        self.limit = limit
        self.restarting = {n for f in model.faults if isinstance(f, CrashRecover)
                           for n in model.nodes if _eligible(model, f, n)}
        self.forged: dict[str, dict] = {}
        self._graph: dict[str, dict] = {n: {} for n in model.nodes}
        self._by_dst: dict[frozenset, dict] = {}
        self._after: dict[str, dict] = {}
        try:
            self._explore()
        except _GiveUp:
            self.reason = (f"the per-node abstraction needs more than {limit:,} handler steps "
                           f"({sum(len(g) for g in self._graph.values()):,} local states so far)")
            self._graph = {}
            return
        for node, graph in self._graph.items():
            self._after[node] = {local: self._group(envs) for local, envs in _closure(graph).items()}
        self._graph = {}

    def sends_after(self, node: str, local):
        """{dst: frozenset of envelopes} ``node`` may send from ``local`` on; None when unknown."""
        return self._after.get(node, {}).get(local)

    # -- the fixpoint ------------------------------------------------------------------
    def _explore(self) -> None:
        m = self.model
        self._envs = {n: [] for n in m.nodes}
        self._env_seen: set = set()
        self._timer_names = {n: [] for n in m.nodes}
        self._todo: deque = deque()
        for gs in m.initial_states():
            for i, node in enumerate(m.nodes):
                self._add_local(node, gs.locals[i])
                for t in sorted(gs.timers[i]):
                    self._add_timer(node, t)
            for env in m.network.in_flight(gs.net):
                self._add_env(env)
        for f in m.faults:
            if isinstance(f, Byzantine) and f.budget > 0:
                for b in f.nodes:
                    forge = m.forgers.get(m.role_of[b])
                    envs = [(b, dst, msg) for msg in (forge(m.ctx(b)) if forge else ()) for dst in m.nodes if dst != b]
                    self.forged[b] = self._group(frozenset(envs))
                    for env in envs:
                        self._add_env(env)
        todo = self._todo
        while todo:
            item = todo.popleft()
            kind, node = item[0], item[1]
            if kind == "local":
                local = item[2]
                for env in self._envs[node]:
                    self._deliver(node, local, env)
                for t in self._timer_names[node]:
                    self._fire(node, local, t)
                self._locals(node, local)
                if node in self.restarting:
                    self._restart(node, local)
            elif kind == "env":
                for local in list(self._graph[node]):
                    self._deliver(node, local, item[2])
            else:
                for local in list(self._graph[node]):
                    self._fire(node, local, item[2])

    def _add_local(self, node, local) -> None:
        graph = self._graph[node]
        if local not in graph:
            graph[local] = []
            if node not in self.model.byzantine:  # a Byzantine node's handlers never run
                self._todo.append(("local", node, local))

    def _add_env(self, env) -> None:
        if env not in self._env_seen:
            self._env_seen.add(env)
            self._envs[env[1]].append(env)
            if env[1] not in self.model.byzantine:
                self._todo.append(("env", env[1], env))

    def _add_timer(self, node, name) -> None:
        if name not in self._timer_names[node]:
            self._timer_names[node].append(name)
            self._todo.append(("timer", node, name))

    def _step(self):
        self.steps += 1
        if self.steps > self.limit:
            raise _GiveUp

    def _record(self, node, local, after, sends, timer_ops=()) -> None:
        self._graph[node][local].append((after, frozenset(sends)))
        self._add_local(node, after)
        for env in sends:
            self._add_env(env)
        for op in timer_ops:
            if isinstance(op, SetTimer):
                self._add_timer(node, op.name)

    def _deliver(self, node, local, env) -> None:
        self._step()
        try:
            _, res = self.model._deliver(node, env[0], env[2], local)
        except Exception:  # noqa: BLE001 - an abstract input the real system may never produce
            return
        if res is not None:
            self._record(node, local, *res)

    def _fire(self, node, local, timer) -> None:
        self._step()
        try:
            _, res = self.model._timer(node, timer, local)
        except Exception:  # noqa: BLE001
            return
        if res is not None:
            self._record(node, local, *res)

    def _locals(self, node, local) -> None:
        self._step()
        try:
            steps = self.model._local_steps(node, local)
        except Exception:  # noqa: BLE001
            return
        for _, res in steps:
            self._record(node, local, *res)

    def _restart(self, node, local) -> None:
        """A crash and a recovery, on a global state that holds only this node's local state."""
        self._step()
        m = self.model
        i = m.index[node]
        fake = ActorState(tuple(local if k == i else None for k in range(len(m.nodes))),
                          tuple(frozenset() for _ in m.nodes), m.network.empty(), frozenset({node}), ())
        try:
            after = m._recover(fake, node)
        except Exception:  # noqa: BLE001
            return
        self._record(node, local, after.locals[i], m.network.in_flight(after.net))
        for t in sorted(after.timers[i]):
            self._add_timer(node, t)

    def _group(self, envs: frozenset) -> dict:
        out = self._by_dst.get(envs)
        if out is None:
            by: dict = {}
            for env in envs:
                by.setdefault(env[1], set()).add(env)
            out = self._by_dst[envs] = {d: frozenset(e) for d, e in by.items()}
        return out


class _GiveUp(Exception):
    pass


def _eligible(model, fault: CrashStop, node: str) -> bool:
    return node not in model.byzantine and (fault.roles is None or model.role_of[node] in fault.roles)


def _closure(graph: dict) -> dict:
    """For each vertex of ``graph`` (vertex -> [(successor, sends)]), the union of the sends on
    every path from it: Tarjan's strongly connected components, sinks first, iteratively."""
    index: dict = {}
    low: dict = {}
    on_stack: set = set()
    stack: list = []
    result: dict = {}
    counter = 0
    for root in graph:
        if root in index:
            continue
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        work = [(root, iter(graph.get(root, ())))]
        while work:
            v, edges = work[-1]
            descended = False
            for w, _ in edges:
                if w not in index:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(graph.get(w, ()))))
                    descended = True
                    break
                if w in on_stack and index[w] < low[v]:
                    low[v] = index[w]
            if descended:
                continue
            work.pop()
            if work and low[v] < low[work[-1][0]]:
                low[work[-1][0]] = low[v]
            if low[v] == index[v]:
                component = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    component.append(w)
                    if w == v:
                        break
                members = set(component)
                envs: set = set()
                for x in component:
                    for w, sends in graph.get(x, ()):
                        envs.update(sends)
                        if w not in members:
                            envs.update(result[w])
                frozen = frozenset(envs)
                for x in component:
                    result[x] = frozen
    return result
