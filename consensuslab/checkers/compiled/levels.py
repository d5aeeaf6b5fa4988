"""Whole breadth-first levels at a time, in numpy: the compiled search for states that fit in 64 bits.

Why: with memoised actions (``checkers/compiled/memo.py``) what is left of a search is
set membership, and on this kind of machine a Python set of a few million
ints spends most of its time waiting on cache misses (measured on two-phase
rm=8: 7 to 9 s of a 15 to 19 s run in the bare successor-and-seen loop).  Sorting is
cache-friendly, so a level is expanded as arrays (``level_kernels.py``), a
block of states at a time:

- each memo group's row for each state is found by direct indexing
  (``keyindex.py``); a state whose key a table lacks is deferred;
- every step of every state becomes ``state & keep | bits``; the block's
  steps are sorted, their repeats dropped, and looked up in the seen-set
  (``sorted_runs.py``: a base of sorted arrays and the recent levels);
- the new states of all blocks become the next level, sorted and cut into
  value ranges; the seen-set takes the level in as it is, and merges its
  recent levels into the base once they hold a quarter as many states.

Deferred states are handled on this thread, for the whole level at once:
the keys they lack are traced in Python, least state per key first, and the
states expanded then.  So what is traced, and therefore the whole result,
is the same however a level is cut, and for every number of workers.

``--workers N`` runs the kernels in N threads (numpy releases the GIL) over
4N parts of each level and 4N value ranges, and the Python tracing shares
its property traces with a forked helper process (``trace_helper.py``).

No parent links are kept: where a level has a deadlock, a failing step or
a state that breaks an invariant, the one the interpreted search would meet
first is found by regenerating the earlier levels' steps, with its
counterexample and the interpreted search's counts (``discovery.py``).  Memory is about 16 bytes a
state (the levels, and the base of the seen-set), plus the buffer of the
base before last, which the next merge writes over.
"""

from __future__ import annotations

import time

import numpy as np

from consensuslab.checkers.compiled.audit import AUDITED_PER_LEVEL, CROSS_CHECKED
from consensuslab.checkers.compiled.discovery import Events, stop_at_first_event, stop_at_first_initial
from consensuslab.checkers.compiled.helper import TraceHelper
from consensuslab.checkers.compiled.bundles import plan_for
from consensuslab.checkers.compiled.kernels import BLOCK, Steps, expand_part, judge_part, with_origin
from consensuslab.checkers.compiled.evidence import SAMPLED
from consensuslab.checkers.compiled.coverage import cover_arguments
from consensuslab.checkers.compiled.filling import failing_in, fill, settle, tables_for
from consensuslab.checkers.compiled.grouping import reached_sample
from consensuslab.checkers.compiled.packing import Unsupported
from consensuslab.checkers.compiled.sorted_runs import Run, Seen, balanced, sorted_level
from consensuslab.checkers.compiled.words import (
    as_row,
    distinct_sorted,
    equal_to,
    from_ints,
    least,
    sort_states,
    to_ints,
    words_for,
)
from consensuslab.checkers.search.ending import Stop
from consensuslab.traces.result import Trace


class Workers:
    """``--workers N``: N threads over the numpy kernels, which release the GIL (or none, for N = 1)."""

    #: tasks per thread a level is cut into: threads that finish early take another, so one slow part
    #: does not leave the other threads idle
    TASKS_PER_THREAD = 4

    def __init__(self, n: int):
        self.n = n
        self.tasks = n * self.TASKS_PER_THREAD if n > 1 else 1
        self.pool = None
        if n > 1:
            from concurrent.futures import ThreadPoolExecutor
            self.pool = ThreadPoolExecutor(max_workers=n, thread_name_prefix="consensuslab-level")

    def parts(self, level: Run) -> list[list[np.ndarray]]:
        """The level cut into tasks of at least a block each (a task's fixed cost is a fraction of a
        millisecond: eight of them for a level of a thousand states made the tail levels slower than
        one thread)."""
        tasks = max(1, min(self.tasks, -(-level.size // BLOCK)))
        return balanced(level.pieces, tasks)

    def map(self, fn, items):
        items = list(items)
        if self.pool is None or len(items) < 2:
            return [fn(x) for x in items]
        return list(self.pool.map(fn, items))

    def close(self):
        if self.pool is not None:
            self.pool.shutdown(wait=True)


# -- one level ------------------------------------------------------------------------------------------
def expand_level(search, parts: list[list[np.ndarray]], workers, want_dead: bool, seen: Seen):
    """The successors of a level not seen before (sorted runs), steps counted, and the dead states (sorted)."""
    groups, constraint = search.groups, search.constraint
    before = search.wholesale.before(search.actions)
    steps = Steps(tables_for(search, groups), constraint_table(search))
    runs = seen.runs()
    found = workers.map(lambda part: expand_part(part, steps, want_dead, seen, runs), parts)

    def again(states, tabs):
        if constraint is not None:  # the successors of these states, each traced where the constraint lacks it
            constraint.fill_successors(search, states[0], tabs)
        return expand_part(states, Steps(tabs, constraint_table(search)), want_dead, seen, runs)

    later = settle(search, groups, [d for e in found for d in e.deferred], again)
    fresh = [f for e in found + later for f in e.fresh]
    generated = sum(e.generated for e in found + later)
    dead = [d for e in found + later for d in e.dead if len(d)]
    outside = [o for e in found + later for o in e.outside if len(o)]
    if outside:
        kept = escaping(search, distinct_sorted(np.concatenate(outside)), workers)
        if len(kept):
            fresh.append(seen.unseen(kept, runs))
    search.wholesale.learn(search.actions, before, _size(parts))  # the next levels' keys (``wholesale.py``)
    return fresh, generated, (sort_states(np.concatenate(dead)) if dead else None)


def constraint_table(search):
    """The state constraint's table, current (None: the spec has none, or it is folded into the actions)."""
    return tables_for(search, [search.constraint.group])[0] if search.constraint is not None else None


def escaping(search, outside: np.ndarray, workers) -> np.ndarray:
    """The sorted successors outside the state constraint that break an invariant: TLC keeps them, and the
    search stops at them once they are judged with the next level (``constraint.py``)."""
    try:
        failing = set(_with_direct(search, search.direct, failing_in(search, search.inv_groups, [[outside]], workers),
                                   [[outside]]))
    except Stop:
        raise Unsupported("an invariant raised on a state outside the constraint: the interpreted search "
                          "reports it") from None
    search.constraint.escaped.update(failing)
    return sort_states(from_ints(sorted(failing), words_for(search.layout.bits))) if failing else outside[:0]


def judge_level(search, parts: list[list[np.ndarray]], workers) -> tuple[list[int], list[bool]]:
    """Pending witnesses and invariants over a new level, in one pass: the states where an invariant fails, and
    whether each pending witness holds somewhere (marked by the caller once no event stops the search)."""
    search.judged_depth = len(search.levels) - 1  # the level judged is the last found
    cover_arguments(search, parts, workers)
    witnesses, invariants = list(search.witness_groups), search.inv_groups
    direct = search.direct
    failing, held = [], []
    if witnesses or invariants:
        watched = None if search.grouped else direct.before(invariants)
        groups = witnesses + invariants
        tables = tables_for(search, groups)
        first = len(witnesses)
        plan = plan_for(search, tables, first)
        found = workers.map(lambda part: judge_part(part, tables, first, plan), parts)
        later = settle(search, groups, [d for j in found for d in j.deferred],
                       lambda states, tabs: judge_part(states, tabs, first, plan_for(search, tabs, first)))
        held = [any(j.held[k] for j in found + later) for k in range(first)]
        failing = [f for j in found + later for f in j.failing if len(f)]
        failing = to_ints(np.concatenate(failing)) if failing else []
        if watched is not None:
            search.inv_groups = direct.learn(invariants, watched, _size(parts))
    return _with_direct(search, direct, failing, parts), held


def _size(parts: list[list[np.ndarray]]) -> int:
    return sum(len(p) for part in parts for p in part)


def _with_direct(search, direct, failing: list[int], parts: list[list[np.ndarray]]) -> list[int]:
    """``failing`` and the states of ``parts`` where one of the pieces ``direct`` calls directly fails."""
    if not direct:
        return failing
    states = np.concatenate([p for part in parts for p in part])
    return sorted(set(failing).union(direct.failing(search.layout, states, search.helper)))


def witnesses_in(search, states: np.ndarray) -> list[bool]:
    """Whether each pending witness holds somewhere in the sorted ``states``."""
    groups = list(search.witness_groups)
    tables = tables_for(search, groups)
    n = len(groups)
    found = [judge_part([states], tables, n)]
    found += settle(search, groups, found[0].deferred, lambda s, tabs: judge_part(s, tabs, n))
    return [any(j.held[k] for j in found) for k in range(n)]


def mark_witnessed(search, held: list[bool]) -> None:
    for group, seen_holding in zip(list(search.witness_groups), held):
        if seen_holding:
            search.witnessed_group(group)


def judge_steps(search, parts: list[list[np.ndarray]], workers) -> list[int]:
    """Transition properties over the steps of a level just expanded: the states with a failing step.  Each is
    judged over all the steps at once (``step_pairs.py``), or by rows (``steps.py``; one missing nearly always is
    called on the decoded state: ``direct.py``); a refinement maps each state once (``refinement_steps.py``)."""
    search.judged_depth, states = search.depth, [p for part in parts for p in part]
    failing = set(search.step_pairs.failing(search, states))  # a property handed back joins the step groups
    groups, direct = search.step_groups, search.direct_steps
    watched = direct.before(groups)  # after the warm-up too: rows a domain adds later have groups of their own
    failing.update(_with_direct(search, direct, failing_in(search, groups, parts, workers), parts))
    search.step_groups = direct.learn(groups, watched, _size(parts))
    if search.refinement_steps:
        failing.update(search.refinement_steps.failing(search, states))
    return sorted(failing)


def audit(search, level: Run) -> None:
    """The first states in full, then a few of every level: memo answers compared with the real model.

    The model's side is computed by the helper when there is one (the answer
    is compared when it is read, and always before the search gives a result);
    the memo's side is computed here, now, since it may trace.
    """
    count = max(CROSS_CHECKED - search.count, AUDITED_PER_LEVEL)
    states = to_ints(level.states()[:count])  # a level is sorted: its least states
    helper = search.helper
    if helper is not None:
        compiled = [search.compiled_steps(s) for s in states]
        if helper.audit(states, compiled, search.audited):
            return
    for s in states:
        search.cross_check(s)


def new_level(search, fresh: list[np.ndarray], workers) -> Run:
    """The distinct states of the fresh runs, cut to ``max_states`` (the least kept)."""
    level = sorted_level(fresh, workers.tasks, workers)
    limit = search.max_states
    if limit is not None and level.size and search.seen_count + level.size >= limit:
        keep, kept = limit - search.seen_count, []
        for piece in level.pieces:
            kept.append(piece[:max(keep, 0)])
            keep -= len(piece)
        level = Run(kept)
        search.stopped_by = "max-states"
    return level


def dead_ends(search, dead: np.ndarray | None) -> list[int]:
    """The states of ``dead`` (no step) that are deadlocks: checked for deadlocks and not ``done``."""
    model = search.model
    if not model.check_deadlock or dead is None:
        return []
    return [s for s in to_ints(dead) if not model.is_done(search.layout.decode(s))]


def stop_at_any_event(search, dead: list[int], stepping: list[int], failing: list[int]) -> None:
    """Where the level just expanded had an event, stop at the one the interpreted search meets first."""
    events = Events(search.depth, dead, stepping, failing)
    if events:
        stop_at_first_event(search, events, lambda s: fill(search, search.groups, s),
                            lambda s: witnesses_in(search, s))


# -- the search -------------------------------------------------------------------------------------
def level_search(search, packed_initial: list[int], initial: list) -> None:
    """The breadth-first search of ``search`` (a ``CompiledSearch``), level by level."""
    search.tables = {}
    search.label_ids = {u.label: i for i, u in enumerate(search.actions)}
    search.roots = {}
    search.initial_order = packed_initial
    for p, s in zip(packed_initial, initial):
        search.roots.setdefault(p, s)
    first = Run([distinct_sorted(from_ints(packed_initial, words_for(search.layout.bits)))])
    search.helper = _helper(search) if search.workers > 1 else None
    workers = Workers(search.workers)
    seen = Seen(workers.tasks)
    level = first
    search.levels = [level]
    search.seen_count = level.size
    model = search.model
    max_depth = search.max_depth
    generated = 0
    owed = True
    try:
        parts = workers.parts(level)
        failing, held = judge_level(search, parts, workers)
        if failing:
            stop_at_first_initial(search, packed_initial, set(failing), lambda s: witnesses_in(search, s))
        mark_witnessed(search, held)
        while level.size:
            if search.helper is None and search.freed_core():  # the overtaken rival's core: the helper's now
                search.helper = _helper(search)
            search.sample_interpreted(to_ints(level.states()[:SAMPLED]))
            started = time.perf_counter()
            seen.add(level, workers)
            search.stopped_by = search.budget.spent(search.seen_count, search.depth, level.size)
            if search.stopped_by:
                return
            audited_from = time.perf_counter()
            audit(search, level)
            started += time.perf_counter() - audited_from  # a fixed cost of the first levels, not a rate
            at_limit = max_depth is not None and search.depth >= max_depth
            grouped = search.grouped  # whether this level's cost is the memo's warm-up (regrouped below)
            fresh, steps, dead = expand_level(search, parts, workers, model.check_deadlock or at_limit, seen)
            stepping = [] if at_limit else judge_steps(search, parts, workers)  # after: its actions' memos know
            if at_limit:
                if dead is None or len(dead) < level.size:
                    search.stopped_by = "max-depth"
                return
            search.count += level.size
            expanded = level.size
            if search.count >= search.warmup and not search.grouped:
                search._regroup(reached_sample(search.levels))  # before the new level's invariants: they use
                # the planned groups too
            level = new_level(search, fresh, workers)
            del fresh
            failing, held = [], []
            if level.size:
                search.levels.append(level)
                parts = workers.parts(level)
                failing, held = judge_level(search, parts, workers)
            stop_at_any_event(search, dead_ends(search, dead), stepping, failing)
            generated += steps
            if not level.size:
                return
            mark_witnessed(search, held)
            search.depth += 1
            search.seen_count += level.size
            search.judge_speed(expanded, time.perf_counter() - started, grouped)
            if search.stopped_by:
                return
    except (Stop, Unsupported):
        raise
    except BaseException:  # a restart, Ctrl-C: what the helper still owes is not waited for
        owed = False
        raise
    finally:
        search.generated += generated
        workers.close()
        if search.helper is not None:
            helper, search.helper = search.helper, None
            helper.close(drain=owed)  # an audit that fails here still hands the search over


def _helper(search) -> TraceHelper:
    """The process that traces properties and audits beside the level search (two workers or more, or the core
    of a rival the search overtook)."""
    return TraceHelper(search.actions + search.invariant_units + search.witness_units + search.step_units
                       + [u for g in search.domain_groups for u in g.units], search.layout, search.model)


def trace_back(search, target: int, depth: int) -> Trace:
    """A shortest path to ``target`` (found at ``depth``): the least parent in each earlier level (for an invariant
    whose traced conjunct raised where the real one fails; every other stop is ``discovery.py``'s)."""
    labels = []
    x = target
    k = words_for(search.layout.bits)
    for d in range(depth - 1, -1, -1):
        level = search.levels[d].states()
        found, via = [], []
        for succ, parents, label in with_origin(level, fill(search, search.groups, level)):
            hits = np.flatnonzero(equal_to(succ, as_row(x, k)))
            found.append(parents[hits])
            via += label[hits].tolist()
        if not via:
            raise AssertionError(f"no predecessor of a depth-{d + 1} state in level {d}")
        candidates = np.concatenate(found)
        best = least(candidates)
        first = int(np.flatnonzero(equal_to(candidates, as_row(best, k)))[0])
        x = best
        labels.append(search.actions[via[first]].label)
    trace = Trace(search.roots[int(x)])
    state = trace.initial
    for act in reversed(labels):
        state = search.model.apply(state, act)
        trace.steps.append((act, state))
    return trace
