"""``--reduction por``: partial-order reduction for actor protocols, for safety properties.

What is explored.  ``ReducedModel`` wraps an actor model; its ``successors(s)``
is either every successor, or those of one node's *group*: every enabled action
of node ``i`` (its deliveries, timers and local steps, the losses and copies of
envelopes addressed to it, its crash).  The unchanged explicit checker searches
that graph.  A group is taken alone (an *ample set*) only when:

C0  it is not empty (a state keeps successors exactly when it had some);
C1  it is persistent: nothing outside it, taken first, can depend on it.  Only
    ``i`` changes ``i``'s local state and timers and only ``i``'s group consumes,
    loses or copies envelopes to ``i``; another node's step touches its own state
    and adds envelopes, which commutes with the group (a set union, a multiset
    sum, an append behind a FIFO head).  So other steps can disturb the group
    only by giving ``i`` a *new* action: an envelope to ``i`` not in flight now
    (on a soup or a plain multiset; with duplication or FIFO channels, any
    envelope to ``i``).  ``Futures`` over-approximates what every node may still
    send from its current local state; the group is taken only if no other node,
    and no Byzantine node with forging budget left, may ever send ``i`` such an
    envelope.  Conversely the group must disable nothing outside it: its sends
    do not, except another copy of an in-flight envelope on a duplicating
    network (the copy can reach ``max_copies``), so such a group is not taken.
    Faults: a crash budget ``i`` shares with another node, a drop budget
    (``Omission``), or a ``gst`` step that would switch off the group's losses,
    each make the group dependent, and it is not taken;
C2  it is invisible: none of its steps changes anything a property read
    (``WatchedWorld`` records which nodes' local states and timers, the crashed
    set and the messages in flight the evaluations read).  Judging this on the
    steps themselves is exact here: while the group waits, ``i``'s state does not
    change, so each of its steps changes ``i`` the same way wherever it is taken;
C3  one of its steps leads to a state other than this one that has not been
    expanded yet (so it will be expanded later).  A group whose steps are all
    self-loops or lead back into the expanded part is not taken.  No stack is
    needed, so the checker's breadth-first order is fine.

Why the verdicts are those of the full search.  Let ``R`` be what the
properties read in the final run.  Take a path of the full graph from an
explored state ``s``.  If it contains a step of ``s``'s ample set, the first such
step commutes to its front (C1) and the rest is shorter.  If it contains none,
every step of the ample set is independent of the whole path (C1), so one that
leads to a state expanded after ``s`` (C3) can be prepended; it changes
nothing in ``R`` (C2).  Expansion times strictly increase along such prepended
steps, so this case cannot repeat for ever, and by induction the explored graph
has a path that takes the path's visible steps in the same order, each at a
state that agrees with the original on ``R``.  A property evaluated on an
explored state reads only ``R`` (a run in which it reads more restarts with the
larger ``R``: ``ReadsGrew``), and a pure function reading the same values
returns the same value.  Hence every invariant and ``sometimes`` verdict is
that of the full graph; a transition property is checked on the same visible
steps, and on invisible ones through a probe ``f(s, -, s)`` at every explored
state (its before and after agree on ``R``; a property that reads its action is
not reduced at all); every dead end of the full graph is explored (a path to
it cannot avoid the ample set, whose steps stay enabled), and is judged
``done`` or not on the state itself.  A handler that raises on an input the
abstraction tried is skipped there; if that input is real, the first step
that needs it is reached by this argument and raises as in the full search.

What is not preserved: state counts (that is the point), shortest
counterexamples (breadth-first over a reduced graph), which of several
violations is met first, and liveness (refused).  Where the reduction cannot
argue independence (an unknown network or fault policy, a protocol normal
form or timing guard that reads the whole state, a property that reads the raw
state or the messages in flight) it says so and explores the full graph.
"""

from __future__ import annotations

import dis
import time

from consensuslab.checkers.reduction.futures import ALL, DOWN, NET, Futures, Reads, ReadsGrew, WatchedWorld
from consensuslab.errors import UsageError
from consensuslab.models.actor_model import ActorModel
from consensuslab.models.faults import Byzantine, CrashStop, Omission
from consensuslab.models.model import Model
from consensuslab.models.network import Fifo, MessageSoup, PartialSynchrony, Unordered

#: action kinds that belong to the group of ``action.node`` (a drop or a copy is of an envelope to that node)
GROUPED = frozenset({"deliver", "timer", "local", "drop", "duplicate", "crash", "recover"})
#: the model attributes the checker reads directly
_FIELDS = ("definition", "protocol", "variant", "scenario", "params", "properties", "invariants",
           "step_properties", "witnesses", "liveness", "check_deadlock", "_done")


class NotStutterInvariant(BaseException):
    """A transition property fails on a step that changes nothing it reads: reduce nothing."""

    def __init__(self, name: str):
        super().__init__(name)
        self.name = name


def inactive_reason(model) -> str | None:
    """Why ``model`` cannot be reduced soundly, or None."""
    if not isinstance(model, ActorModel):
        return f"{model.protocol} is a global-state spec; partial-order reduction needs an actor protocol"
    if getattr(model, "normalise", None) is not None or getattr(model, "timing", None) is not None:
        return "the protocol's normal form or timing guard reads the whole state"
    if _network_rule(model.network) is None:
        return f"network {type(model.network).__name__} is not one whose independence is argued"
    for f in model.faults:
        if not isinstance(f, (CrashStop, Omission, Byzantine)):
            return f"fault {type(f).__name__} is not one whose independence is argued"
    for p in model.step_properties:
        if _may_read_action(p.fn):
            return f"transition property {p.name} reads its action"
    return None


def _inner_network(net):
    return net.inner if type(net) is PartialSynchrony else net


def _network_rule(net) -> str | None:
    """How a send to a node interferes with that node's group: 'soup' and 'multiset' only when the
    envelope is new, 'any' always; None for a network the argument does not cover."""
    inner = _inner_network(net)
    if type(inner) is MessageSoup:
        return "soup"
    if type(inner) is Unordered:
        return "any" if inner.duplicating else "multiset"
    if type(inner) is Fifo:
        return "any"
    return None


def _may_read_action(fn) -> bool:
    """Could the transition property ``fn(before, action, after)`` look at ``action``?  Read from its
    bytecode: a parameter that is never loaded, captured or reachable through ``locals()`` is not read."""
    func = getattr(fn, "__func__", fn)
    code = getattr(func, "__code__", None)
    if code is None or code.co_flags & 0x0C:  # not a plain function, or *args / **kwargs
        return True
    params = code.co_varnames[:code.co_argcount][1 if hasattr(fn, "__self__") else 0:]
    if len(params) != 3:
        return True
    name = params[1]
    if name in code.co_cellvars or {"locals", "vars", "eval", "exec", "_getframe", "currentframe"} & set(code.co_names):
        return True
    return any(ins.argval == name or (type(ins.argval) is tuple and name in ins.argval)  # 3.13 pairs loads
               for ins in dis.get_instructions(code) if "FAST" in ins.opname)


class ReducedModel(Model):
    """An actor model whose ``successors`` is an ample set where one is sound (see the module)."""

    def __init__(self, inner: ActorModel, reads: Reads, futures: Futures | None):
        for name in _FIELDS:
            setattr(self, name, getattr(inner, name))
        self.inner, self.reads, self.futures = inner, reads, futures
        self.active = futures is not None and futures.reason is None
        self.rule = _network_rule(inner.network) if self.active else None
        self.copies = bool(inner.network.duplicating) and type(_inner_network(inner.network)) is Unordered
        self.closed: set = set()  # the expanded states themselves (never hash(): hash(-1) == hash(-2))
        self.expanded = self.reduced = 0
        self.omission = [k for k, f in enumerate(inner.faults) if isinstance(f, Omission)]
        self.crashes = [(k, f) for k, f in enumerate(inner.faults) if isinstance(f, CrashStop)]
        self.forging: dict[str, list[int]] = {}  # Byzantine node -> its policies' budget positions
        for k, f in enumerate(inner.faults):
            if isinstance(f, Byzantine):
                for b in f.nodes:
                    self.forging.setdefault(b, []).append(k)
        # what the properties read, fixed for this run (a run in which it grows is restarted)
        self.seen_visible = frozenset(key[1] for key in reads.known if type(key) is tuple and key[0] == "node")
        self.other_visible = any(key == DOWN or (type(key) is tuple and key[0] == "timers") for key in reads.known)

    def __getattr__(self, name):  # anything else (topology, nodes, ...) is the wrapped model's
        if name == "inner":
            raise AttributeError(name)
        return getattr(self.inner, name)

    # -- the Model interface: the wrapped model's, except successors and what properties see ----------
    def initial_states(self) -> list:
        return self.inner.initial_states()

    def apply(self, state, action):
        return self.inner.apply(state, action)

    def view(self, state):
        return WatchedWorld(self.inner, state, self.reads)

    def is_done(self, state) -> bool:  # judged on the dead end itself: not a property read
        return self.inner.is_done(state)

    def encode_state(self, state):
        return self.inner.encode_state(state)

    def meta(self):
        return self.inner.meta()

    def successors(self, gs) -> list:
        out = self.inner.successors(gs)
        for prop in self.step_properties:
            if not self.step_holds(prop, gs, None, gs):
                raise NotStutterInvariant(prop.name)
        self.expanded += 1
        if self.active and len(out) > 1:
            ample = self._ample(gs, out)
            if ample is not None:
                self.reduced += 1
                out = ample
        self.closed.add(gs)
        return out

    # -- choosing the ample set ----------------------------------------------------------------
    def _ample(self, gs, out: list) -> list | None:
        budgets = gs.budgets
        if self.omission and any(budgets[k] > 0 for k in self.omission):
            return None  # drops of envelopes to different nodes compete for one budget
        groups: dict[str, list[int]] = {}
        seen_visible = self.seen_visible
        gst = False
        locals_ = gs.locals
        for k, (act, _) in enumerate(out):
            kind = act.kind
            if kind in GROUPED:
                node = act.node
                ks = groups.get(node)
                if ks is None:
                    ks = groups[node] = []
                ks.append(k)
            elif kind == "gst":
                gst = True
        if len(groups) < 2:
            return None
        inner, closed, index = self.inner, self.closed, self.inner.index
        sends = None
        for node, ks in sorted(groups.items(), key=lambda item: (len(item[1]), index[item[0]])):
            if len(ks) == len(out):
                return None
            if node in inner.byzantine or node in gs.down:
                continue
            i = index[node]
            if i in seen_visible:  # C2: a step that changes a local state a property reads
                mine = locals_[i]
                if any(out[k][1].locals[i] is not mine and out[k][1].locals[i] != mine for k in ks):
                    continue
            if self.other_visible and not self._invisible(gs, out, ks, i):
                continue  # C2: timers or the crashed set
            kinds = {out[k][0].kind for k in ks}
            if gst and "drop" in kinds:
                continue  # GST would switch the group's losses off
            if "crash" in kinds and self._crash_race(gs, node):
                continue
            if sends is None:
                sends = self._sends(gs)
            if self._threatened(gs, i, node, sends):
                continue  # C1: another node may give this one a new action
            if self.copies and self._adds_copy(gs, out, ks, node):
                continue  # C1: a copy it sends could stop the network from copying that envelope
            if not any(nxt != gs and nxt not in closed for nxt in (out[k][1] for k in ks)):
                continue  # C3
            return [out[k] for k in ks]
        return None

    def _invisible(self, gs, out, ks, i) -> bool:
        known = self.reads.known
        watch_timers, watch_down = ("timers", i) in known, DOWN in known
        for k in ks:
            nxt = out[k][1]
            if watch_timers and nxt.timers[i] != gs.timers[i]:
                return False
            if watch_down and nxt.down != gs.down:
                return False
        return True

    def _crash_race(self, gs, node) -> bool:
        """Could another node's crash use up a budget that ``node``'s crash needs?"""
        inner = self.inner
        for k, fault in self.crashes:
            if gs.budgets[k] <= 0 or not _crashable(inner, fault, node):
                continue
            if any(n != node and n not in gs.down and _crashable(inner, fault, n) for n in inner.nodes):
                return True
        return False

    def _sends(self, gs) -> list:
        """Per node: {dst: envelopes} it may still send (None: anything)."""
        inner, futures = self.inner, self.futures
        out = []
        for j, node in enumerate(inner.nodes):
            if node in self.forging:
                forging = any(gs.budgets[k] > 0 for k in self.forging[node])
                out.append(futures.forged.get(node, {}) if forging else {})
            elif node in gs.down and node not in futures.restarting:
                out.append({})
            else:
                out.append(futures.sends_after(node, gs.locals[j]))
        return out

    def _threatened(self, gs, i: int, node: str, sends: list) -> bool:
        """May another node send ``node`` an envelope that would give it a new action?"""
        present = None
        for j, fut in enumerate(sends):
            if j == i:
                continue
            if fut is None:
                return True
            envs = fut.get(node)
            if not envs:
                continue
            if self.rule == "any":
                return True
            if present is None:
                present = self._in_flight(gs.net)
            if not envs <= present:
                return True
        return False

    def _adds_copy(self, gs, out, ks, node) -> bool:
        """Does a step of the group send another copy of an envelope to another node that is in flight?
        (On a duplicating network that copy can reach ``max_copies`` and disable the network's copying.)"""
        partial = type(self.inner.network) is PartialSynchrony
        before = gs.net[1] if partial else gs.net
        counts = None
        for k in ks:
            after = out[k][1].net[1] if partial else out[k][1].net
            for env, _ in after - before:
                if env[1] != node:
                    if counts is None:
                        counts = dict(before)
                    if counts.get(env, 0) >= 1:
                        return True
        return False

    def _in_flight(self, net) -> frozenset:
        if type(self.inner.network) is PartialSynchrony:
            net = net[1]
        return net if self.rule == "soup" else frozenset(env for env, _ in net)


def _crashable(model, fault: CrashStop, node: str) -> bool:
    return node not in model.byzantine and (fault.roles is None or model.role_of[node] in fault.roles)


def _learn_reads(model, reads: Reads) -> None:
    """What the properties read in the initial states (the run adds whatever else they read)."""
    for s0 in model.initial_states():
        w = WatchedWorld(model, s0, reads)
        for prop in model.invariants + model.witnesses:
            prop.fn(w)
        for prop in model.step_properties:
            prop.fn(w, None, w)


def check_reduced(model, run_search, max_states: int | None = None, max_depth: int | None = None,
                  time_limit: float | None = None):
    """Check ``model``'s safety properties over the partial-order-reduced graph (see the module).

    ``run_search(model, max_states=, max_depth=, time_limit=)`` is the search that explores
    a model (the reduced one, or the whole one where the reduction cannot argue independence).
    """
    if not isinstance(model, ActorModel):
        raise UsageError(f"--reduction por needs an actor protocol (nodes with handlers); {model.protocol} is a "
                         f"global-state spec")
    started = time.monotonic()
    reason = inactive_reason(model)
    reads = futures = None
    if reason is None:
        reads = Reads(model)
        try:
            _learn_reads(model, reads)
        except Exception:  # noqa: BLE001 - the search evaluates them again and reports it properly
            pass
        if ALL in reads.known or NET in reads.known:
            reason = "a property reads the messages in flight or the raw state"
        else:
            futures = Futures(model)
            reason = futures.reason
    setup = time.monotonic() - started
    restarts, reduced, result = 0, None, None

    def left():
        return None if time_limit is None else max(time_limit - (time.monotonic() - started), 0.001)

    while reason is None:
        reads.learning, reads.grew = False, False
        reduced = ReducedModel(model, reads, futures)
        try:
            result = run_search(reduced, max_states=max_states, max_depth=max_depth, time_limit=left())
        except ReadsGrew:
            result = None
        except NotStutterInvariant as exc:
            reason = f"transition property {exc.name} can fail on a step that changes nothing it reads"
            break
        found = result is not None and result.violation is not None and result.violation.kind != "sometimes"
        if result is not None and (found or not reads.grew):
            break  # a violation found is real whatever was learnt on the way
        restarts += 1
        if ALL in reads.known or NET in reads.known:
            reason = "a property reads the messages in flight or the raw state"
    if reason is not None:
        result = run_search(model, max_states=max_states, max_depth=max_depth, time_limit=left())
        result.extra.setdefault("warnings", []).append(f"--reduction por is off: {reason}; every state was explored")
    result.seconds = time.monotonic() - started
    result.extra["reduction"] = "por" if reason is None else None
    result.extra["por"] = {"expanded": reduced.expanded if reason is None else result.distinct_states,
                           "ample": reduced.reduced if reason is None else 0, "restarts": restarts,
                           "setup_seconds": round(setup, 3), "off": reason}
    return result
