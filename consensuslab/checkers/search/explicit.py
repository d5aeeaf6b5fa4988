"""The exhaustive explicit-state checker: breadth-first (shortest counterexamples) or depth-first.

The seen-set holds the states themselves (tuples or frozen records, hashed
and compared in C), never their ``hash()`` alone: CPython's ``hash(-1) ==
hash(-2)``, so two states that differ only there have the same hash of every
tuple that holds them, and a set of hashes would merge them and report ``ok``
over a state it never saw.  Holding the states costs about twice the memory of
a set of 64-bit hashes (measured on paxos ballots=3: 253 MB against 133 MB)
and no time.  Each new state gets an index; per index we keep the parent index
and the action that first reached it, so a counterexample is rebuilt by
re-applying actions from the initial state.

A breadth-first level that outgrows memory spills to disk (``frontier``).
Any limit that stops the search early yields ``incomplete``, never ``ok``.
"""

from __future__ import annotations

import gc
import time
from array import array
from typing import Any

from consensuslab.checkers.search.collector import resume_collection
from consensuslab.checkers.search.ending import CHECK_EVERY, Budget, Stop, finish
from consensuslab.checkers.search.frontier import SpillingFrontier
from consensuslab.checkers.search.limits import STOPS, interrupted_by
from consensuslab.checkers.search.progress import Progress
from consensuslab.models.model import Model
from consensuslab.traces.result import CheckResult, Trace, Violation, rebuild_trace


class Search:
    """One run of the checker over one model; ``run()`` returns the ``CheckResult``."""

    def __init__(self, model: Model, search: str = "bfs", max_states: int | None = None,
                 max_depth: int | None = None, time_limit: float | None = None,
                 progress: bool = True, spill_after: int | None = None):
        if search not in ("bfs", "dfs"):
            raise ValueError("search must be bfs or dfs")
        self.model = model
        self.search = search
        self.max_states = max_states
        self.max_depth = max_depth
        self.time_limit = time_limit
        self.show_progress = progress
        self.frontier = SpillingFrontier(spill_after)
        self.seen: set = set()  # the states themselves: see the module docstring
        self.parents = array("q")
        self.via: list[Any] = []
        self.roots: dict[int, Any] = {}
        self.generated = 0
        self.depth = 0
        self.stopped_by: str | None = None
        self.pending_witnesses = list(model.witnesses)
        self.witnessed: set[str] = set()
        #: with ``keep_levels()``, the breadth-first levels met so far, each a list of ``(state, index)``
        self.levels: list | None = None
        #: where a breadth-first run stopped by its time limit left off, for ``resume`` (None otherwise): the
        #: level's states not expanded yet, the position of the first, the level's size, the next level so far
        self._paused: tuple | None = None

    def keep_levels(self) -> "Search":
        """Keep each level's list (references, no copies): ``reached_in_order`` then lists states as found."""
        self.levels = []
        return self

    def resumable(self) -> bool:
        """Whether the last run stopped at its time limit between two states of a breadth-first level."""
        return self._paused is not None and self.stopped_by == "time-limit"

    def resume(self, time_limit: float | None, keep_levels: bool = False) -> CheckResult:
        """Go on from where a run stopped by its time limit left off, with the same seen-set and counts: an
        interpreted probe handed on (``search/rival.py``) repeats none of its work.  A search not run yet
        starts.  ``keep_levels``: go on keeping them (a probe that goes on in this process)."""
        self.time_limit, self.stopped_by = time_limit, None
        if not keep_levels:
            self.levels = None
        return self.run()

    def seconds_left(self, spent: float) -> float | None:
        """For a breadth-first run paused at its time limit after ``spent`` seconds, about how many more it needs,
        judged by its levels (``keep_levels``) at the rate it expanded states so far: levels that shrink, as a
        geometric series does; levels still growing, at least as long again (they have not reached their
        widest), and at least the rest of this level and the next, projected from the part expanded.  None
        where too little is known."""
        if self._paused is None or not self.levels or len(self.levels) < 2:
            return None
        _, pos, size, ahead = self._paused
        current, before = len(self.levels[-1]), len(self.levels[-2])
        if not pos or size != current:  # nothing of this level expanded yet, or a level that spilled
            return None
        following = len(ahead) * size / pos  # the next level's size, projected from the part expanded
        per_state = spent / (sum(len(level) for level in self.levels[:-1]) + pos)
        if following < current < before:
            return ((size - pos) + following / (1 - following / current)) * per_state
        return max(spent, ((size - pos) + following) * per_state)

    def reached_in_order(self, limit: int) -> list:
        """Up to ``limit`` states of the whole levels kept, in the order the search found them."""
        out: list = []
        for level in self.levels or ():
            out += [s for s, _ in level[:limit - len(out)]]
            if len(out) >= limit:
                break
        return out

    # -- traces -----------------------------------------------------------------
    def trace_to(self, idx: int) -> Trace:
        """Rebuild the path to state ``idx`` by re-applying the recorded actions."""
        return rebuild_trace(self.model, self.roots, self.parents, self.via, idx)

    # -- bookkeeping shared by both orders ------------------------------------------
    def _add(self, state, parent: int, act) -> int | None:
        """Record ``state`` if new; returns its index, or None when seen before."""
        if state in self.seen:
            return None
        self.seen.add(state)
        idx = len(self.via)
        self.parents.append(parent)
        self.via.append(act)
        if parent < 0:
            self.roots[idx] = state
        model = self.model
        if model.invariants:
            broken = model.first_broken_invariant(state)
            if broken is not None:
                raise Stop(Violation(broken.name, "invariant", self.trace_to(idx)))
        if self.pending_witnesses:
            self._witness(state)
        return idx

    def _expand(self, state, idx: int) -> list:
        model = self.model
        out = model.successors(state)
        self.generated += len(out)
        if not out and model.check_deadlock and not model.is_done(state):
            raise Stop(Violation("deadlock", "deadlock", self.trace_to(idx),
                                  message="no action is enabled"))
        if model.step_properties:
            for act, nxt in out:
                broken = model.first_broken_step(state, act, nxt)
                if broken is not None:
                    trace = self.trace_to(idx)
                    trace.steps.append((act, nxt))
                    raise Stop(Violation(broken.name, "transition", trace))
        return out

    def _limits(self, queue: int) -> bool:
        """Read the clock, print progress; True when a limit says stop."""
        self.stopped_by = self.budget.spent(len(self.via), self.depth, queue)
        return self.stopped_by is not None

    # -- the two orders ----------------------------------------------------------
    def _bfs(self) -> None:
        """Breadth-first, level by level: the interpreted search's hot loop, one function so that
        everything it touches is a local name (measured with cProfile on two-phase rm=6: 15% of the
        run in its own lines; the rest is the model's successors and properties it calls)."""
        kept = self.levels
        paused, self._paused = self._paused, None
        if paused is None:
            level = []
            if kept is not None:
                kept.append(level)  # filled below
            for n, s0 in enumerate(self.model.initial_states(), 1):
                if n % CHECK_EVERY == 0 and self._limits(len(level)):  # EWD840 N = 7: 114,688 initial states
                    return
                idx = self._add(s0, -1, None)
                if idx is not None:
                    level.append((s0, idx))
            size, first, carried = len(level), 0, None
        else:
            level, first, size, carried = paused
        frontier = self.frontier
        model = self.model
        # The common case (a state seen before) costs one hash, one set probe and one comparison.
        seen, parents, via = self.seen, self.parents, self.via
        seen_add, parents_append, via_append = seen.add, parents.append, via.append
        successors = model.successors
        invariants = [p.fn for p in model.invariants]
        witnesses = [p.fn for p in self.pending_witnesses]
        checked = bool(invariants or witnesses)  # does a new state need its properties evaluated?
        view = model.view
        identity_view = type(model).view is Model.view
        slow_path = bool(model.step_properties)
        check_deadlock = model.check_deadlock
        max_states = self.max_states if self.max_states is not None else -1
        max_depth = self.max_depth
        count = 0
        generated = 0
        try:
            while size:
                if carried is None:
                    if max_depth is not None and self.depth >= max_depth:
                        if any(successors(s) for s, _ in level):
                            self.stopped_by = "max-depth"
                        return
                    nxt_level = []
                    states = enumerate(level)
                else:  # resumed: the rest of the level a time limit stopped, its successors found so far
                    nxt_level, carried = carried, None
                    states = enumerate(level, first)
                push = nxt_level.append
                for pos, (state, idx) in states:
                    count += 1
                    if count % CHECK_EVERY == 0:
                        if self._limits(size - pos + frontier.spilled + len(nxt_level)):
                            if self.stopped_by == "time-limit" and not frontier.spilled_total:
                                rest = [(state, idx)]  # not expanded yet; a later level is an iterator: drained
                                rest.extend(item for _, item in states)
                                self._paused = (rest, pos, size, nxt_level)
                            return
                        if frontier.due(len(nxt_level)):
                            frontier.spill(nxt_level)  # empties the list that ``push`` appends to
                    if slow_path:
                        out = self._expand(state, idx)
                    else:
                        out = successors(state)
                        generated += len(out)
                        if not out and check_deadlock:
                            self._expand(state, idx)  # raises the deadlock unless the state is done
                    for act, nxt in out:
                        if nxt in seen:
                            continue
                        seen_add(nxt)
                        new = len(via)
                        parents_append(idx)
                        via_append(act)
                        if checked:
                            v = nxt if identity_view else view(nxt)
                            try:
                                for inv in invariants:
                                    if inv(v) is not True:  # False, or not a bool: judged slowly
                                        self._invariant_failed(nxt, new)
                                for fn in witnesses:
                                    if fn(v):
                                        self._witness(nxt)
                                        witnesses = [p.fn for p in self.pending_witnesses]
                                        checked = bool(invariants or witnesses)
                                        break
                            except Stop:
                                raise
                            except Exception:
                                self._property_raised(nxt)
                        push((nxt, new))
                        if new + 1 == max_states:
                            self.stopped_by = "max-states"
                            return
                if kept is not None:
                    kept.append(nxt_level)  # whole unless it spilled (a probe does not spill)
                level, size = frontier.level(nxt_level)
                if size:
                    self.depth += 1
        finally:
            if not slow_path:
                self.generated += generated

    def _property_raised(self, state):
        """Re-evaluate the properties one by one, so that the one that raised is named (ModelError)."""
        self.model.first_broken_invariant(state)
        self._witness(state)
        raise AssertionError("a property raised once and not again: properties must be pure")

    def _invariant_failed(self, state, idx: int):
        """An invariant did not answer ``True``: stop at the one that is false (refusing an answer that is not a
        truth value); a truthy int is a pass."""
        broken = self.model.first_broken_invariant(state)
        if broken is not None:
            raise Stop(Violation(broken.name, "invariant", self.trace_to(idx)))

    def _witness(self, state) -> None:
        for prop in list(self.pending_witnesses):
            if self.model.holds(prop, state):
                self.pending_witnesses.remove(prop)
                self.witnessed.add(prop.name)

    def _dfs(self) -> None:
        stack = []
        for s0 in reversed(self.model.initial_states()):
            idx = self._add(s0, -1, None)
            if idx is not None:
                stack.append((s0, idx, 0))
        max_states, max_depth = self.max_states, self.max_depth
        count = 0
        while stack:
            state, idx, d = stack.pop()
            if d > self.depth:
                self.depth = d
            count += 1
            if count % CHECK_EVERY == 0 and self._limits(len(stack)):
                return
            out = self._expand(state, idx)
            if max_depth is not None and d >= max_depth:
                if out:
                    self.stopped_by = "max-depth"
                continue
            for act, nxt in reversed(out):
                new = self._add(nxt, idx, act)
                if new is not None:
                    stack.append((nxt, new, d + 1))
                    if max_states is not None and len(self.via) >= max_states:
                        self.stopped_by = "max-states"
                        return

    def run(self) -> CheckResult:
        self.budget = Budget(self.time_limit, Progress(enabled=self.show_progress))
        violation = None
        # States are acyclic immutable values: the cyclic garbage collector finds nothing to
        # free during a search, yet its full collections walk every stored state, a cost that
        # grows with the seen-set (measured: two-phase rm=7 took 7.5 s with it, 6.0 s without).
        collecting = gc.isenabled()
        gc.disable()
        try:
            (self._bfs if self.search == "bfs" else self._dfs)()
        except Stop as stop:
            violation = stop.violation
        except STOPS as exc:  # Ctrl-C, SIGTERM, the watchdog, or memory: what was covered is the result
            self.stopped_by = interrupted_by(exc)
            if isinstance(exc, MemoryError):
                self.seen = set()  # room to build the result
        finally:
            if collecting:
                resume_collection()  # without walking every state the search made (``collector.py``)
            self.budget.progress.close()
            self.frontier.close()
        extra = {"frontier_spilled_states": self.frontier.spilled_total} if self.frontier.spilled_total else {}
        return finish(self.model, violation=violation, stopped_by=self.stopped_by, witnessed=self.witnessed,
                      distinct=len(self.via), generated=self.generated, depth=self.depth,
                      seconds=time.monotonic() - self.budget.started, search=self.search, fingerprints=False,
                      extra=extra)
