"""Compiles an actor ``Protocol`` under a scenario's network and faults into a ``Model``.

The global state is a tuple: every node's local state, its set timers, the
network value, the crashed nodes and the fault budgets.  Handlers are pure,
so each distinct (node, input, local state) is computed once and memoised;
revisiting it is a dictionary look-up.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from consensuslab.errors import ModelError
from consensuslab.models.action import Action
from consensuslab.models.context import Ctx
from consensuslab.models.effects import Send, SetTimer, flatten
from consensuslab.models.faults import Byzantine, CrashRecover, CrashStop, Omission
from consensuslab.models.model import Model
from consensuslab.models.network import Network
from consensuslab.models.world import World


class ActorState(NamedTuple):
    locals: tuple
    timers: tuple  # per node: frozenset of timer names
    net: Any
    down: frozenset  # crashed nodes
    budgets: tuple  # per fault policy


class ActorModel(Model):
    def __init__(self, protocol):
        super().__init__(protocol)
        self.proto = protocol
        scenario = protocol.scenario
        self.network: Network = (scenario.network if scenario is not None and scenario.network is not None
                                 else protocol.network)
        self.faults = tuple(scenario.faults) if scenario is not None else tuple(protocol.faults)
        self.topology = _topology(protocol)
        self.nodes = tuple(n for nodes in self.topology.values() for n in nodes)
        self.index = {n: i for i, n in enumerate(self.nodes)}
        self.role_of = {n: role for role, nodes in self.topology.items() for n in nodes}
        self.byzantine = frozenset(n for f in self.faults if isinstance(f, Byzantine) for n in f.nodes)
        unknown = sorted(self.byzantine - set(self.nodes))
        if unknown:
            raise ModelError(f"{self.protocol}: Byzantine node {unknown[0]} is not a node; nodes: {', '.join(self.nodes)}")
        self._collect_handlers()
        # optional protocol hooks for unbounded data (see models.renaming): a normal form applied to
        # every state the model produces, and a timing guard over the whole state on spontaneous steps
        self.normalise = getattr(protocol, "normal_form", None)
        self.timing = getattr(protocol, "timing", None)
        self._ctx: dict[tuple[str, str | None], Any] = {}
        self._memo: dict[tuple, Any] = {}
        self._actions: dict[tuple, Action] = {}

    # -- compile ------------------------------------------------------------------
    def _collect_handlers(self) -> None:
        self.initials: dict[str, tuple[str, Any]] = {}
        self.handlers: dict[tuple[str, type], tuple[str, Any]] = {}
        self.timer_handlers: dict[tuple[str, str], tuple[str, Any]] = {}
        self.locals_by_role: dict[str, list[tuple[str, Any, Any]]] = {}
        self.forgers: dict[str, Any] = {}
        seen: set[str] = set()
        for klass in type(self.proto).__mro__:
            for name, member in vars(klass).items():
                if name in seen:
                    continue
                seen.add(name)
                mark = getattr(member, "__consensuslab_actor__", None)
                if mark is None:
                    continue
                kind, role, extra = mark
                if role not in self.topology:
                    raise ModelError(f"{self.protocol}: {name} is declared for role {role!r}, "
                                     f"which is not in the topology ({', '.join(self.topology)})")
                bound = getattr(self.proto, name)
                if kind == "initial":
                    self.initials[role] = (name, bound)
                elif kind == "handles":
                    self.handlers[(role, extra)] = (name, bound)
                elif kind == "timer":
                    self.timer_handlers[(role, extra)] = (name, bound)
                elif kind == "local":
                    self.locals_by_role.setdefault(role, []).append((name, bound, extra))
                elif kind == "forgeable":
                    self.forgers[role] = bound
        for role in self.topology:
            if role not in self.initials:
                raise ModelError(f"{self.protocol}: role {role} has no @initial method")

    def ctx(self, me: str, src: str | None = None):
        key = (me, src)
        c = self._ctx.get(key)
        if c is None:

            c = self._ctx[key] = Ctx(me, self.role_of[me], src, self.topology)
        return c

    def action(self, kind: str, name: str, node: str | None, args: tuple) -> Action:
        key = (kind, name, node, args)
        a = self._actions.get(key)
        if a is None:
            a = self._actions[key] = Action(kind, name, node, args)
        return a

    # -- running handlers ---------------------------------------------------------------
    def _checked(self, where: str, node: str, result, *, initial: bool = False):
        """Validate a handler's result shape once, when it is first computed."""
        if result is None:
            return None
        if initial and not isinstance(result, tuple):
            result = (result, ())
        if not (isinstance(result, tuple) and len(result) == 2):
            raise ModelError(f"{self.protocol}: role {self.role_of[node]}, method {where}: expected "
                             f"(new_state, effects) or None, got {type(result).__name__}")
        state, effects = result
        try:
            hash(state)
        except TypeError:
            raise ModelError(f"{self.protocol}: role {self.role_of[node]}, method {where}: state "
                             f"{type(state).__name__} is mutable or unhashable; use @state (frozen attrs) "
                             f"with tuple/frozenset fields") from None
        sends, timer_ops = [], []
        for e in flatten(effects):
            if isinstance(e, Send):
                if e.dst not in self.index:
                    raise ModelError(f"{self.protocol}: role {self.role_of[node]}, method {where}: "
                                     f"sends to unknown node {e.dst!r}")
                try:
                    hash(e.msg)
                except TypeError:
                    raise ModelError(f"{self.protocol}: role {self.role_of[node]}, method {where}: "
                                     f"message {type(e.msg).__name__} is mutable; use @message") from None
                sends.append((node, e.dst, e.msg))
            else:
                timer_ops.append(e)
        return state, tuple(sends), tuple(timer_ops)

    def _deliver(self, node: str, src: str, msg, local):
        key = ("d", node, src, msg, local)
        memo = self._memo
        if key in memo:
            return memo[key]
        out = memo[key] = self.run_delivery(node, src, msg, local)
        return out

    def _timer(self, node: str, timer: str, local):
        key = ("t", node, timer, local)
        memo = self._memo
        if key in memo:
            return memo[key]
        out = memo[key] = self.run_timer(node, timer, local)
        return out

    def _local_steps(self, node: str, local) -> list:
        key = ("l", node, local)
        memo = self._memo
        if key in memo:
            return memo[key]
        steps = memo[key] = self.run_local_steps(node, local)
        return steps

    # -- one node's step, computed afresh: the memo above, and engines that memoise their own way ----------
    def run_delivery(self, node: str, src: str, msg, local) -> tuple[str, Any]:
        """``(handler name, (state, sends, timer ops) or None)`` of ``node`` receiving ``msg`` from ``src``."""
        role = self.role_of[node]
        entry = self.handlers.get((role, type(msg)))
        if entry is None:
            raise ModelError(f"{self.protocol}: role {role} has no handler for {type(msg).__name__} "
                             f"(declare @handles({role!r}, {type(msg).__name__}))")
        name, fn = entry
        return name, self._checked(name, node, fn(local, msg, self.ctx(node, src)))

    def run_timer(self, node: str, timer: str, local) -> tuple[str, Any]:
        """``(handler name, (state, sends, timer ops) or None)`` of ``timer`` firing at ``node``."""
        entry = self.timer_handlers.get((self.role_of[node], timer))
        if entry is None:
            raise ModelError(f"{self.protocol}: role {self.role_of[node]} sets timer {timer!r} but has no @on_timer for it")
        name, fn = entry
        return name, self._checked(name, node, fn(local, self.ctx(node)))

    def run_local_steps(self, node: str, local) -> list:
        """``(action, (state, sends, timer ops))`` of every enabled spontaneous step of ``node``."""
        steps = []
        ctx = self.ctx(node)
        for name, fn, choices in self.locals_by_role.get(self.role_of[node], ()):
            if choices is None:
                res = self._checked(name, node, fn(local, ctx))
                if res is not None:
                    steps.append((self.action("local", name, node, ()), res))
                continue
            if isinstance(choices, str):
                options = getattr(self.proto, choices)
            elif callable(choices):
                options = choices(self.proto, local, ctx)
            else:
                options = choices
            for choice in options:
                res = self._checked(name, node, fn(local, ctx, choice))
                if res is not None:
                    steps.append((self.action("local", name, node, (choice,)), res))
        return steps

    def _after(self, gs: ActorState, i: int, result, net, timers_i=None) -> ActorState:
        """The global state after node ``i`` took a step with ``result`` on network ``net``."""
        state, sends, timer_ops = result
        if sends:
            net = self.network.add(net, sends)
        timers = gs.timers
        mine = timers[i] if timers_i is None else timers_i
        if timer_ops:
            mine = set(mine)
            for op in timer_ops:
                (mine.add if isinstance(op, SetTimer) else mine.discard)(op.name)
            mine = frozenset(mine)
        if mine is not timers[i]:
            timers = timers[:i] + (mine,) + timers[i + 1:]
        locals_ = gs.locals
        if state is not locals_[i]:
            locals_ = locals_[:i] + (state,) + locals_[i + 1:]
        return ActorState(locals_, timers, net, gs.down, gs.budgets)

    # -- the Model interface ------------------------------------------------------------
    def initial_states(self) -> list:
        locals_, timers, sends = [], [], []
        for node in self.nodes:
            name, fn = self.initials[self.role_of[node]]
            state, out, timer_ops = self._checked(name, node, fn(self.ctx(node)), initial=True)
            locals_.append(state)
            timers.append(frozenset(op.name for op in timer_ops if isinstance(op, SetTimer)))
            sends.extend(out)
        net = self.network.add(self.network.empty(), sends)
        budgets = tuple(getattr(f, "budget", 0) for f in self.faults)
        gs = ActorState(tuple(locals_), tuple(timers), net, frozenset(), budgets)
        return [gs if self.normalise is None else self.normalise(World(self, gs))]

    def successors(self, gs: ActorState) -> list[tuple[Action, ActorState]]:
        out = self.successors_before_normal_form(gs)
        if self.normalise is not None:
            normalise = self.normalise
            out = [(act, normalise(World(self, nxt))) for act, nxt in out]
        return out

    def successors_before_normal_form(self, gs: ActorState) -> list[tuple[Action, ActorState]]:
        """The successors as the handlers make them (``successors`` then applies the normal form, if any)."""
        out: list[tuple[Action, ActorState]] = []
        down, byz, index, locals_ = gs.down, self.byzantine, self.index, gs.locals
        action = self.action
        timing = self.timing
        view = None if timing is None else World(self, gs)
        for env, net_after in self.network.deliverable(gs.net):
            src, dst, msg = env
            if dst in down or dst in byz:
                continue
            i = index[dst]
            name, res = self._deliver(dst, src, msg, locals_[i])
            if res is not None:
                out.append((action("deliver", name, dst, (src, msg)), self._after(gs, i, res, net_after)))
        for i, node in enumerate(self.nodes):
            if node in down or node in byz:
                continue
            for timer in sorted(gs.timers[i]):
                name, res = self._timer(node, timer, locals_[i])
                if res is not None and (timing is None or timing(view, action("timer", name, node, (timer,)))):
                    out.append((action("timer", name, node, (timer,)),
                                self._after(gs, i, res, gs.net, gs.timers[i] - {timer})))
            for act, res in self._local_steps(node, locals_[i]):
                if timing is None or timing(view, act):
                    out.append((act, self._after(gs, i, res, gs.net)))
        self._network_faults(gs, out)
        self._node_faults(gs, out)
        out.sort(key=_by_action)
        return out

    def _network_faults(self, gs: ActorState, out: list) -> None:
        net = self.network
        stabilised = net.gst_step(gs.net)
        if stabilised is not None:  # partial synchrony: the adversary chooses when GST comes
            out.append((self.action("gst", "gst", None, ()), gs._replace(net=stabilised)))
        for env, after in net.duplicable(gs.net):
            out.append((self.action("duplicate", "duplicate", env[1], (env[0], env[2])), gs._replace(net=after)))
        if net.lossy:
            for env, after in net.removable(gs.net):
                out.append((self.action("drop", "drop", env[1], (env[0], env[2])), gs._replace(net=after)))
            return
        for k, fault in enumerate(self.faults):
            if isinstance(fault, Omission) and gs.budgets[k] > 0:
                budgets = _spend(gs.budgets, k)
                for env, after in net.deliverable(gs.net):
                    out.append((self.action("drop", "drop", env[1], (env[0], env[2])),
                                gs._replace(net=after, budgets=budgets)))

    def _node_faults(self, gs: ActorState, out: list) -> None:
        for k, fault in enumerate(self.faults):
            if isinstance(fault, CrashStop):  # CrashRecover is a CrashStop that may also recover
                if gs.budgets[k] > 0:
                    budgets = _spend(gs.budgets, k)
                    for i, node in enumerate(self.nodes):
                        if node in gs.down or node in self.byzantine:
                            continue
                        if fault.roles is not None and self.role_of[node] not in fault.roles:
                            continue
                        timers = gs.timers[:i] + (frozenset(),) + gs.timers[i + 1:]
                        out.append((self.action("crash", "crash", node, ()),
                                    gs._replace(down=gs.down | {node}, timers=timers, budgets=budgets)))
                if isinstance(fault, CrashRecover):
                    for node in sorted(gs.down):
                        out.append((self.action("recover", "recover", node, ()), self._recover(gs, node)))
            elif isinstance(fault, Byzantine) and gs.budgets[k] > 0:
                budgets = _spend(gs.budgets, k)
                for node in fault.nodes:
                    forge = self.forgers.get(self.role_of[node])
                    if forge is None:
                        continue
                    for msg in forge(self.ctx(node)):
                        for dst in self.nodes:
                            if dst == node:
                                continue
                            net = self.network.add(gs.net, ((node, dst, msg),))
                            out.append((self.action("forge", "forge", node, (dst, msg)),
                                        gs._replace(net=net, budgets=budgets)))

    def restart(self, node: str, old) -> tuple[Any, tuple, frozenset]:
        """``(state, sends, timers)`` of ``node`` restarting from its initial state, keeping ``old``'s durable fields."""
        import attrs

        name, fn = self.initials[self.role_of[node]]
        fresh, sends, timer_ops = self._checked(name, node, fn(self.ctx(node)), initial=True)
        if attrs.has(type(old)):
            kept = {f.name: getattr(old, f.name) for f in attrs.fields(type(old)) if f.metadata.get("durable")}
            if kept:
                fresh = attrs.evolve(fresh, **kept)
        return fresh, sends, frozenset(op.name for op in timer_ops if isinstance(op, SetTimer))

    def _recover(self, gs: ActorState, node: str) -> ActorState:
        """Restart ``node`` from its initial state, keeping the fields marked durable."""
        i = self.index[node]
        fresh, sends, timers = self.restart(node, gs.locals[i])
        net = self.network.add(gs.net, sends)
        return ActorState(gs.locals[:i] + (fresh,) + gs.locals[i + 1:],
                          gs.timers[:i] + (timers,) + gs.timers[i + 1:], net, gs.down - {node}, gs.budgets)

    # -- views and encodings ------------------------------------------------------------
    def view(self, gs: ActorState) -> World:
        return World(self, gs)

    def encode_state(self, gs: ActorState) -> dict[str, Any]:
        from consensuslab.models.values import canon

        out: dict[str, Any] = {"nodes": {n: gs.locals[i] for i, n in enumerate(self.nodes)},
                               "network": tuple(sorted(self.network.in_flight(gs.net), key=canon))}
        if self.network.gst_step(self.network.empty()) is not None:
            out["gst"] = self.network.fair_delivery(gs.net)
        if any(gs.timers):
            out["timers"] = {n: gs.timers[i] for i, n in enumerate(self.nodes)}
        if self.faults:
            out["crashed"] = gs.down
            out["budgets"] = {type(f).__name__: b for f, b in zip(self.faults, gs.budgets)}
        return out

    def meta(self) -> dict[str, Any]:
        out = super().meta()
        out["network"] = self.network.describe()
        out["faults"] = [repr(f) for f in self.faults]
        return out


def _topology(protocol) -> dict[str, tuple[str, ...]]:
    """The protocol's ``topology()``, checked: role name -> node names, every node named once."""
    from consensuslab.models.blame import call_hook

    def shape(out) -> bool:
        return (isinstance(out, dict) and all(isinstance(r, str) and isinstance(ns, (tuple, list))
                                              and all(isinstance(n, str) and n for n in ns)
                                              for r, ns in out.items()))

    found = call_hook(protocol.name, "topology", "a dict of role name -> tuple of node names", protocol.topology,
                      check=shape)
    out = {role: tuple(nodes) for role, nodes in found.items()}
    names = [n for nodes in out.values() for n in nodes]
    if len(set(names)) != len(names):
        twice = sorted(n for n in set(names) if names.count(n) > 1)[0]
        raise ModelError(f"{protocol.name}: hook topology names node {twice!r} twice; node names must be unique")
    return out


def _spend(budgets: tuple, k: int) -> tuple:
    return budgets[:k] + (budgets[k] - 1,) + budgets[k + 1:]


def _by_action(pair):
    return pair[0].key
