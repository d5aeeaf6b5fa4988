"""The search for a behaviour that explains a log: over model states constrained by the log, fewest faults first.

A search node is a model state and, per node of the log, how many of its
expectations are taken.  From a node the search takes a *ready* expectation
(its node's earlier ones taken, its receive's send taken) by the model steps
that match it (``take``), or an unlogged step the mapping allows (``silent``),
at most ``silent_steps`` in a row.  Faults cost one, everything else nothing:
a best-first search on (faults, events still to take) pops nodes in order of
faults, so the first node that has taken the whole log was reached with the
fewest faults any explanation needs (Dijkstra on 0/1 costs), and between equal
costs it runs depth-first along the log.  Nodes are deduplicated on (state,
positions), keeping the fewest unlogged steps in a row.

Unlogged steps are tried only where one can be needed: where no ready
expectation can be taken, runs of them after which one can (a loss that frees
a bounded network, a crash and restart that a node's next event shows, a step
of a node that keeps no log); while a message that several receives link to is
in flight, the network's copies (anywhere between its send and its last
receive: a bounded network may have room for a copy only at some of those
points); and just before an unlinked receive, steps of the message it got.  A
fault needed nowhere else commutes with the steps that do not depend on it,
so an explanation with the fewest faults can be rearranged to put it just
before the first event that needs it: the restriction keeps the fewest-faults
answer and spares the search every other placement.  Even there they are
pushed as a token behind the node and expanded only if the search comes back
to it: on a log that needs no fault, no state's full successor list is
computed for exact expectations.

**Orders.**  The log fixes each node's order and send-before-receive; the
search chooses how to interleave the rest (``order``):

* ``clock`` (``auto``'s choice where every event has a clock): ready
  expectations are taken strictly in clock order, ties by node: the clocks are
  read as one real order of the run, and unlogged steps fill its gaps.  Exact
  where the clocks order events as they happened (a behaviour exported from the
  model; processes of one machine sharing CLOCK_MONOTONIC), and linear in the log;
* ``canonical`` (``auto``'s choice otherwise): the first ready expectation in
  (node, position) order that can be taken.  Where the mapping's
  ``independent`` holds (steps of different nodes commute: neither enables,
  disables or changes the other, and an expectation's fields observe only its
  own node), any explanation can be reordered to take it first, so none is lost;
* ``all``: every ready expectation; exact for any model, but over the log's
  interleavings (exponential in how much the nodes run concurrently).

An explained verdict never depends on the order (the behaviour is replayed);
a not-explained one is stated under the order used.
"""

from __future__ import annotations

import heapq
import itertools
import time

from consensuslab.checkers.search.ending import CHECK_EVERY, Budget
from consensuslab.checkers.search.limits import held_memory
from consensuslab.checkers.search.progress import Progress
from consensuslab.checkers.validation.diagnose import diagnose
from consensuslab.checkers.validation.mapping import FREE
from consensuslab.checkers.validation.native import NativeMapping
from consensuslab.checkers.validation.plan import Plan, mapping_error
from consensuslab.checkers.validation.result import (
    EXPLAINED,
    INCOMPLETE,
    NOT_EXPLAINED,
    ValidationResult,
)
from consensuslab.checkers.validation.take import Taker
from consensuslab.errors import ConsensuslabError
from consensuslab.logs.event import Log
from consensuslab.traces.result import Trace

NODE, SILENT = 0, 1
ORDERS = ("auto", "clock", "canonical", "all")


def _member(value, values: frozenset) -> bool:
    try:
        return value in values
    except TypeError:  # an unhashable argument involves nothing
        return False


def validate(model, log: Log, mapping=None, *, silent_steps: int = 2, time_limit: float | None = None,
             memory_limit: float | None = None, order: str = "auto", progress: bool = False) -> ValidationResult:
    """Find a behaviour of ``model`` that explains ``log`` through ``mapping`` (the native one by default)."""
    if order not in ORDERS:
        raise ValueError(f"order {order!r}: valid: {', '.join(ORDERS)}")
    if order == "auto":
        order = "clock" if all(e.clock is not None for e in log) else "canonical"
    search = Search(model, log, mapping if mapping is not None else NativeMapping(), silent_steps, order)
    cap = None if memory_limit is None else held_memory() + memory_limit  # bytes on top of what is held now
    budget = Budget(time_limit, Progress(enabled=progress), memory_limit=cap)
    try:
        return search.run(budget)
    finally:
        budget.progress.close()


class Search:
    def __init__(self, model, log: Log, mapping, silent_steps: int, order: str):
        self.model, self.log, self.mapping = model, log, mapping
        self.plan = Plan(model, log, mapping)
        self.taker = Taker(model, mapping)
        self.silent_steps, self.order = silent_steps, order
        self.logged = frozenset(self.plan.nodes)
        self._classes: dict = {}
        # the search nodes, by id: state, positions, faults, unlogged steps in a row, parent, steps from it
        self.state: list = []
        self.pos: list[tuple[int, ...]] = []
        self.cost: list[int] = []
        self.silent: list[int] = []
        self.parent: list[int] = []
        self.steps: list[tuple] = []
        self.heap: list = []
        self.seen: dict = {}
        self.tick = itertools.count()
        self.involving: dict[int, tuple | None] = {}  # per silent token: which unlogged steps it may take
        self.expanded = 0
        self.furthest = -1
        self.frontier: list[int] = []

    # -- the queue ---------------------------------------------------------------------
    def push(self, state, pos, cost: int, silent: int, parent: int, steps: tuple) -> None:
        if self.seen.get((state, pos), silent + 1) <= silent:
            return  # a node already expanded with no more faults and no more unlogged steps in a row
        rid = len(self.state)
        self.state.append(state)
        self.pos.append(pos)
        self.cost.append(cost)
        self.silent.append(silent)
        self.parent.append(parent)
        self.steps.append(steps)
        heapq.heappush(self.heap, (cost, -sum(pos), NODE, next(self.tick), rid))

    def silent_class(self, action) -> str | None:
        got = self._classes.get(action, self)
        if got is self:
            try:
                got = self.mapping.silent(self.model, action, self.logged)
            except ConsensuslabError:
                raise
            except Exception as exc:
                raise mapping_error(self.mapping, exc, f"silent({action})") from None
            self._classes[action] = got
        return got

    # -- the loop ----------------------------------------------------------------------
    def run(self, budget: Budget) -> ValidationResult:
        started = time.monotonic()
        zero = (0,) * len(self.plan.nodes)
        for init in self.model.initial_states():
            self.push(init, zero, 0, 0, -1, ())
        stopped, done = None, None
        try:
            while self.heap:
                _, _, kind, tick, rid = heapq.heappop(self.heap)
                if kind == SILENT:
                    self.expand_silent(rid, self.involving.pop(tick))
                    continue
                key = (self.state[rid], self.pos[rid])
                if self.seen.get(key, self.silent[rid] + 1) <= self.silent[rid]:
                    continue
                self.seen[key] = self.silent[rid]
                self.expanded += 1
                if self.expanded % CHECK_EVERY == 0:
                    stopped = budget.spent(self.expanded, self.furthest, len(self.heap))
                    if stopped:
                        break
                if self.expand(rid):
                    done = rid
                    break
        except KeyboardInterrupt:
            stopped = "interrupted"
        return self.result(done, stopped, time.monotonic() - started)

    def expand(self, rid: int) -> bool:
        """Take the next expectation(s) from node ``rid``; True when the whole log is taken."""
        pos, state = self.pos[rid], self.state[rid]
        plan = self.plan
        progress = sum(pos)
        if progress > self.furthest:
            self.furthest, self.frontier = progress, []
        if progress == self.furthest and len(self.frontier) < 16:
            self.frontier.append(rid)
        if progress == plan.total:
            return True
        successors, took, received = None, False, set()
        heads = plan.heads(pos)
        for k, x in heads[:1] if self.order == "clock" else heads:
            expect = plan.expects[k][x]
            if not expect.exact and expect.takes_step and successors is None:
                successors = self.model.successors(state)
            results = self.taker.take(expect, state, successors)
            if results:
                took = True
                after_pos = pos[:k] + (x + 1,) + pos[k + 1:]
                for path, t in results:
                    self.push(t, after_pos, self.cost[rid], 0, rid, path)
                    if plan.receives[k][x]:
                        received.update(a.args[-1] for a, _ in path if a.args)
                if self.order != "all":
                    break
        copies = plan.copies_pending(pos)
        if self.silent[rid] < self.silent_steps and (received or copies or not took):
            tick = next(self.tick)
            self.involving[tick] = (frozenset(received), copies) if took else None
            heapq.heappush(self.heap, (self.cost[rid], -progress, SILENT, tick, rid))
        return False

    def expand_silent(self, rid: int, involving: tuple | None) -> None:
        """Push the runs of unlogged steps (at most the budget left) the mapping allows from node ``rid`` that
        can be needed here: where nothing could be taken (``involving`` None), runs after which some ready
        expectation can be; otherwise runs ending in a step of a message an unlinked receive got, or, while
        a message received more than once is in flight, in a copy (after losses that make room for it)."""
        cost, silent, pos = self.cost[rid], self.silent[rid], self.pos[rid]
        heads = [self.plan.expects[k][x] for k, x in self.plan.heads(pos)] if involving is None else ()
        messages, copies = involving if involving is not None else (frozenset(), False)

        def wanted(action, t) -> bool:
            if involving is None:
                return any(self.taker.take(h, t) for h in heads)
            return (copies and self.silent_class(action) == "duplication") or bool(
                action.args and _member(action.args[-1], messages))

        frontier, seen = [(self.state[rid], (), 0)], {self.state[rid]}
        for depth in range(1, self.silent_steps - silent + 1):
            grown = []
            for state, path, c in frontier:
                for action, t, more in self.silent_steps_from(state):
                    if t in seen:
                        continue
                    seen.add(t)
                    steps = path + ((action, t),)
                    if wanted(action, t):
                        self.push(t, pos, cost + c + more, silent + depth, rid, steps)
                    grown.append((t, steps, c + more))
            frontier = grown

    def silent_steps_from(self, state):
        """(action, next state, cost) of every unlogged step the mapping allows from ``state``."""
        for action, t in self.model.successors(state):
            cls = self.silent_class(action)
            if cls is not None:
                yield action, t, int(cls != FREE)

    # -- the result --------------------------------------------------------------------
    def path_to(self, rid: int) -> Trace:
        chain = []
        while self.parent[rid] >= 0:
            chain.append(self.steps[rid])
            rid = self.parent[rid]
        trace = Trace(self.state[rid])
        for steps in reversed(chain):
            trace.steps.extend(steps)
        return trace

    def result(self, done: int | None, stopped: str | None, seconds: float) -> ValidationResult:
        plan = self.plan
        if done is not None:
            status, pos = EXPLAINED, self.pos[done]
        else:
            status = INCOMPLETE if stopped else NOT_EXPLAINED
            pos = self.pos[self.frontier[0]] if self.frontier else (0,) * len(plan.nodes)
        out = ValidationResult(
            status=status, model_meta=self.model.meta(), nodes=plan.nodes, events=len(self.log),
            expectations=plan.total, explained_events=0, prefix={}, stopped_by=stopped,
            search_nodes=self.expanded, distinct=len(self.seen), seconds=seconds,
            order=self.order, warnings=self.warnings())
        out.prefix, out.explained_events = self.prefix(pos)
        if done is not None:
            out.trace = self.path_to(done)
            self.count_faults(out, done)
        elif status == NOT_EXPLAINED and self.frontier:
            same = [r for r in self.frontier if self.pos[r] == pos]
            out.failure = diagnose(self.model, plan, self.taker, self.mapping, pos, [self.state[r] for r in same],
                                   tried_all=self.order != "clock")
        return out

    def prefix(self, pos: tuple[int, ...]) -> tuple[dict, int]:
        """Per node, the last event explained at ``pos``; and how many events that is."""
        out, count = {}, 0
        for k, node in enumerate(self.plan.nodes):
            events = self.log.of(node)
            if pos[k] >= self.plan.lengths[k]:
                bound = float("inf")
            else:
                bound = self.plan.expects[k][pos[k]].event[1]
            explained = [e for e in events if e.seq < bound]
            out[node] = explained[-1].seq if explained else None
            count += len(explained)
        return out, count

    def count_faults(self, out: ValidationResult, rid: int) -> None:
        while self.parent[rid] >= 0:
            steps = self.steps[rid]
            silent = self.silent[rid] > 0
            for action, _ in steps:
                if silent:
                    cls = self.silent_class(action)
                    if cls == FREE:
                        out.unlogged_steps += 1
                    else:
                        out.faults[cls] = out.faults.get(cls, 0) + 1
                else:
                    cls = self.mapping.fault(self.model, action)
                    if cls is not None:
                        out.logged_faults[cls] = out.logged_faults.get(cls, 0) + 1
            rid = self.parent[rid]

    def warnings(self) -> list[str]:
        out = []
        dangling = self.log.dangling_links()
        if dangling:
            out.append(f"{len(dangling)} receives link to events not in the log (first: {dangling[0].describe()} "
                       f"at {dangling[0].where}); they are matched by content only")
        gaps = self.log.gaps()
        if gaps:
            out.append("seq numbers missing (events not logged?): " +
                       ", ".join(f"{n} {k}" for n, k in sorted(gaps.items())))
        return out
