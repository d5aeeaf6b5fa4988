"""Exploring the model with the implementation in tow: breadth-first within bounds, or random walks.

Breadth-first search carries each frontier state's implementation nodes (copied
only where a step changes one) and deduplicates on the model state (and the
adapter's ``key`` of hidden implementation state), so the first divergence it
finds is one of the shortest.  Random walks reach deeper configurations; a
divergent walk is shrunk by deleting steps while the model still takes the
rest and the implementation still diverges.  Either way the divergent trace is
run once more from the start to collect, per step, the implementation's view
of the node that took it (``beside``), so what is reported is reproduced.
"""

from __future__ import annotations

import random
import time
from collections import deque

from consensuslab.checkers.conformance.lockstep import Lockstep
from consensuslab.checkers.conformance.result import ConformanceResult, Divergence
from consensuslab.checkers.search.ending import CHECK_EVERY, Budget
from consensuslab.checkers.search.limits import held_memory
from consensuslab.checkers.search.progress import Progress
from consensuslab.traces.result import Trace


def conform(model, adapter, *, search: str = "bfs", max_states: int | None = None, max_depth: int | None = None,
            time_limit: float | None = None, memory_limit: float | None = None, walks: int = 1000, steps: int = 50,
            seed: int = 0, progress: bool = False) -> ConformanceResult:
    """Drive ``adapter``'s implementation along ``model``'s behaviours; the first divergence, or ok.
    ``memory_limit``: bytes on top of what the process holds at the call, read with the clock; above it
    the search ends incomplete."""
    lock = Lockstep(model, adapter)
    cap = None if memory_limit is None else held_memory() + memory_limit  # bytes on top of what is held now
    budget = Budget(time_limit, Progress(enabled=progress), memory_limit=cap)
    started = time.monotonic()
    try:
        if search == "walks":
            result = _walks(model, lock, budget, walks, steps, seed)
        else:
            result = _bfs(model, lock, budget, max_states, max_depth)
    except KeyboardInterrupt:
        result = ConformanceResult("incomplete", model.meta(), search, stopped_by="interrupted")
    finally:
        budget.progress.close()
    result.seconds = time.monotonic() - started
    if result.divergence is not None:
        if search == "walks":
            result.divergence = shrink(lock, result.divergence)
        result.divergence = rerun(lock, result.divergence.trace)
    return result


def _bfs(model, lock: Lockstep, budget: Budget, max_states, max_depth) -> ConformanceResult:
    out = ConformanceResult("ok", model.meta(), "bfs")
    parents: list[tuple[int, object, object]] = []  # (parent, action, state) per discovered state
    seen: set = set()
    queue: deque = deque()
    for init in model.initial_states():
        impls, bad = lock.start(init)
        if bad is not None:
            out.status, out.divergence = "violation", _with_trace(bad, Trace(init), 0)
            return out
        seen.add((init, lock.adapter.key(impls)))
        parents.append((-1, None, init))
        queue.append((len(parents) - 1, init, impls, 0))
    popped = 0
    while queue:
        rid, state, impls, depth = queue.popleft()
        out.states, out.depth = len(seen), max(out.depth, depth)
        popped += 1
        if popped % CHECK_EVERY == 0:
            stopped = budget.spent(len(seen), depth, len(queue))
            if stopped:
                out.status, out.stopped_by = "incomplete", stopped
                return out
        if max_depth is not None and depth >= max_depth:
            out.stopped_by = out.stopped_by or "max-depth"
            continue
        successors = model.successors(state)
        bad = lock.compare_enabled(impls, state, successors)
        if bad is not None:
            out.status, out.divergence = "violation", _with_trace(bad, _path(parents, rid), depth)
            return out
        for action, after in successors:
            out.steps += 1
            nxt, bad = lock.step(impls, state, action, after)
            if bad is not None:
                trace = _path(parents, rid)
                trace.steps.append((action, after))
                out.status, out.divergence = "violation", _with_trace(bad, trace, len(trace))
                out.stopped_by = None
                return out
            key = (after, lock.adapter.key(nxt))
            if key in seen:
                continue
            seen.add(key)
            parents.append((rid, action, after))
            queue.append((len(parents) - 1, after, nxt, depth + 1))
            if max_states is not None and len(seen) >= max_states:
                out.status, out.stopped_by, out.states = "incomplete", "max-states", len(seen)
                return out
    if out.stopped_by:
        out.status = "incomplete"
    return out


def _walks(model, lock: Lockstep, budget: Budget, walks: int, steps: int, seed: int) -> ConformanceResult:
    out = ConformanceResult("ok", model.meta(), "walks")
    rng = random.Random(seed)
    inits = model.initial_states()
    for walk in range(walks):
        state = inits[rng.randrange(len(inits))]
        trace = Trace(state)
        impls, bad = lock.start(state)
        for _ in range(steps if bad is None else 0):
            options = model.successors(state)
            bad = lock.compare_enabled(impls, state, options)
            if bad is not None or not options:
                break
            action, after = options[rng.randrange(len(options))]
            trace.steps.append((action, after))
            out.steps += 1
            impls, bad = lock.step(impls, state, action, after)
            if bad is not None:
                break
            state = after
        out.walks, out.depth = walk + 1, max(out.depth, len(trace))
        if bad is not None:
            out.status, out.divergence = "violation", _with_trace(bad, trace, len(trace))
            return out
        stopped = budget.spent(out.steps, out.depth, walks - walk) if walk % 64 == 63 else None
        if stopped:
            out.status, out.stopped_by = "incomplete", stopped
            return out
    return out


def _path(parents, rid: int) -> Trace:
    chain = []
    while parents[rid][0] >= 0:
        chain.append(parents[rid][1:])
        rid = parents[rid][0]
    trace = Trace(parents[rid][2])
    trace.steps.extend(reversed(chain))
    return trace


def _with_trace(divergence: Divergence, trace: Trace, step: int) -> Divergence:
    divergence.trace, divergence.step = trace, step
    return divergence


def run_along(lock: Lockstep, trace: Trace) -> tuple[Divergence | None, list[dict]]:
    """Run the implementation along ``trace`` from the start: its first divergence, and per step its view."""
    impls, bad = lock.start(trace.initial)
    beside: list[dict] = []
    if bad is None:
        bad = lock.compare_enabled(impls, trace.initial, lock.model.successors(trace.initial))
    if bad is not None:
        return _with_trace(bad, Trace(trace.initial), 0), beside
    state = trace.initial
    for k, (action, after) in enumerate(trace.steps, start=1):
        impls, bad = lock.step(impls, state, action, after)
        if bad is None:
            bad = lock.compare_enabled(impls, after, lock.model.successors(after))
        node = action.node
        if node in impls and action.kind not in ("drop", "duplicate", "crash"):
            expected = lock.adapter.expected(after.locals[lock.model.index[node]], node)
            try:
                beside.append({"node": node, **lock.adapter.observe(impls[node], node, list(expected))})
            except Exception:  # noqa: BLE001 - the view is for the report only
                beside.append({"node": node})
        else:
            beside.append({})
        if bad is not None:
            cut = Trace(trace.initial)
            cut.steps.extend(trace.steps[:k])
            return _with_trace(bad, cut, k), beside
        state = after
    return None, beside


def rerun(lock: Lockstep, trace: Trace) -> Divergence:
    bad, beside = run_along(lock, trace)
    if bad is None:
        raise AssertionError("a divergence that does not reproduce: is the implementation deterministic?")
    bad.beside = beside
    return bad


def shrink(lock: Lockstep, divergence: Divergence) -> Divergence:
    """Delete steps while the model still takes the rest (by action values) and the implementation still diverges."""
    model, trace = lock.model, divergence.trace
    actions = list(trace.actions)
    changed = True
    while changed:
        changed = False
        for k in range(len(actions) - 1, -1, -1):
            candidate = _replayed(model, trace.initial, actions[:k] + actions[k + 1:])
            if candidate is not None:
                bad, _ = run_along(lock, candidate)
                if bad is not None:
                    actions, trace, changed = list(bad.trace.actions), bad.trace, True
                    break
    out, _ = run_along(lock, trace)
    return out if out is not None else divergence


def _replayed(model, initial, actions) -> Trace | None:
    trace, state = Trace(initial), initial
    for action in actions:
        nxt = next((t for a, t in model.successors(state) if a == action), None)
        if nxt is None:
            return None
        trace.steps.append((action, nxt))
        state = nxt
    return trace
