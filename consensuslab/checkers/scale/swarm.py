"""``--swarm N``: Holzmann's swarm verification, for spaces too large for any seen-set.

N independent depth-first searches, each with its own seed, successor order
and depth bound, and its own bounded seen-set (a search stops at
``max_states``); nothing is shared, so the searches could run anywhere.  A
search's seen-set holds its states, never ``hash()`` values, which would
merge states that differ only by -1 against -2 (``hash(-1) == hash(-2)``).  Diversity finds bugs that one big
search, stuck in one corner of the space, would not reach in the time given.

A swarm can only find violations: finding none is ``incomplete``, never
``ok``.  The counterexample is the DFS path itself (so it replays as is, but
is not the shortest), and the coverage figures say how much was explored:
states per search and the union of their states (by ``stable_fingerprint``).
Deterministic for a given ``--seed`` (``random.Random`` seeded by a string,
which does not depend on the per-process hash salt).
"""

from __future__ import annotations

import random
import time

from consensuslab.checkers.scale.partition import Checks, finish, stable_fingerprint
from consensuslab.checkers.search.limits import STOPS, MemoryCeiling, interrupted_by
from consensuslab.traces.result import Trace, Violation

DEFAULT_DEPTH = 10_000
DEFAULT_STATES = 200_000  # per search
ORDERS = ("sorted", "reversed", "shuffled", "shuffled")


def _order(i: int, seed: int) -> str:
    """One search in four keeps the checker's order, one reverses it, the rest shuffle at every state."""
    return ORDERS[(i + seed) % len(ORDERS)]


class _Found(Exception):
    def __init__(self, violation: Violation):
        self.violation = violation


def _path_trace(path: list) -> Trace:
    return Trace(path[0][1], [(a, s) for a, s in path[1:]])


def one_search(model, rng: random.Random, order: str, depth_bound: int, max_states: int,
               deadline: float | None, checks: Checks, seen: set, stats: dict) -> dict:
    """One randomised DFS filling ``stats``; raises ``_Found`` with a violation."""
    stats.update({"order": order, "depth_bound": depth_bound, "states": 0, "generated": 0,
                  "max_depth": 0, "truncated": False})
    successors = model.successors
    count = 0
    for s0 in model.initial_states():
        if s0 in seen:
            continue
        seen.add(s0)
        path = [(None, s0)]
        if checks.new_state(s0, 0):
            raise _Found(Violation(model.first_broken_invariant(s0).name, "invariant", _path_trace(path)))
        stack = [iter(_ordered(successors(s0), order, rng, stats, model, checks, path))]
        while stack:
            count += 1
            if deadline is not None and count % 1024 == 0 and time.monotonic() >= deadline:
                stats["truncated"] = True
                return stats
            step = next(stack[-1], None)
            if step is None:
                stack.pop()
                path.pop()
                continue
            act, nxt = step
            if nxt in seen:
                continue
            if len(seen) >= max_states:
                stats["truncated"] = True
                return stats
            seen.add(nxt)
            stats["states"] += 1
            path.append((act, nxt))
            stats["max_depth"] = max(stats["max_depth"], len(path) - 1)
            if checks.new_state(nxt, 0):
                raise _Found(Violation(model.first_broken_invariant(nxt).name, "invariant", _path_trace(path)))
            if len(path) - 1 >= depth_bound:
                stats["truncated"] = stats["truncated"] or bool(successors(nxt))
                path.pop()
                continue
            stack.append(iter(_ordered(successors(nxt), order, rng, stats, model, checks, path)))
    return stats


def _ordered(out: list, order: str, rng: random.Random, stats: dict, model, checks: Checks, path: list) -> list:
    """Check the expanded state (deadlock, transition properties), then order its successors."""
    stats["generated"] += len(out)
    state = path[-1][1]
    finding = checks.expanded(state, 0, out)
    if finding is not None:
        trace = _path_trace(path)
        if finding[0] == "deadlock":
            raise _Found(Violation("deadlock", "deadlock", trace, message="no action is enabled"))
        trace.steps.append(out[finding[3]])
        raise _Found(Violation(finding[1], "transition", trace))
    if order == "sorted":
        return out
    if order == "reversed":
        return out[::-1]
    out = list(out)
    rng.shuffle(out)
    return out


_JOB: tuple = ()  # (model, seed, depth cap, states per search, deadline): inherited by forked workers


def _quiet() -> None:
    """A pool worker leaves Ctrl-C and the watchdog to the parent, and ends at SIGTERM (how the parent's
    ``Pool.terminate`` ends it) without a traceback."""
    import signal

    for s in (signal.SIGINT, signal.SIGALRM):
        signal.signal(s, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.setitimer(signal.ITIMER_REAL, 0)


def _run(i: int) -> tuple:
    """Search ``i`` of the swarm: (stats, violation or None, fingerprints of the states seen, witnesses)."""
    model, seed, depth_cap, per_search, deadline = _JOB
    rng = random.Random(f"consensuslab-swarm:{seed}:{i}")
    # Vary the depth bound too (Holzmann): half the searches dive, half stay shallow.
    bound = depth_cap if i % 2 == 0 else max(1, rng.randint(depth_cap // 4 or 1, depth_cap))
    seen: set = set()
    stats: dict = {}
    checks = Checks(model)
    violation = None
    try:
        one_search(model, rng, _order(i, seed), bound, per_search, deadline, checks, seen, stats)
    except _Found as found:
        violation = found.violation
        stats.update(states=len(seen), found=violation.property)
    stats["seed"] = f"{seed}:{i}"
    return stats, violation, {stable_fingerprint(s) for s in seen}, checks.witnessed


def check_swarm(model, searches: int = 8, seed: int = 0, max_depth: int | None = None,
                max_states: int | None = None, time_limit: float | None = None, workers: int = 1):
    """Run ``searches`` diverse bounded DFSs (``workers`` at a time, forked); the first violation wins.

    Results are taken in search order and the swarm stops at the first search
    that found something, so the answer is the same for any ``workers``.
    """
    global _JOB
    started = time.monotonic()
    deadline = started + time_limit if time_limit is not None else None
    _JOB = (model, seed, max_depth if max_depth is not None else DEFAULT_DEPTH,
            max_states if max_states is not None else DEFAULT_STATES, deadline)
    union: set[int] = set()
    witnessed: set[str] = set()
    runs, violation, generated, stopped = [], None, 0, None
    memory = MemoryCeiling()
    pool = None
    if workers > 1:
        import multiprocessing as mp
        pool = mp.get_context("fork").Pool(workers, initializer=_quiet)  # fork: the compiled model is inherited
    try:
        results = pool.imap(_run, range(searches)) if pool else map(_run, range(searches))
        for stats, found, seen, seen_witnesses in results:
            runs.append(stats)
            generated += stats.get("generated", 0)
            union |= seen
            witnessed |= seen_witnesses
            violation = found
            if violation is not None or (deadline is not None and time.monotonic() >= deadline):
                break
            if memory.reached():
                stopped = "memory-limit"
                break
    except STOPS as exc:  # Ctrl-C, SIGTERM, the watchdog, memory: the searches finished so far are the result
        stopped = interrupted_by(exc)
    finally:
        if pool is not None:
            pool.terminate()
            pool.join()
    depth = len(violation.trace) if violation is not None and violation.trace else max(
        (r.get("max_depth", 0) for r in runs), default=0)
    coverage = {"searches_run": len(runs), "searches": searches, "seed": seed,
                "union_states": len(union), "per_search": runs}
    return finish(model, status_hint=stopped or "swarm", violation=violation, distinct=len(union), generated=generated,
                  depth=depth, seconds=time.monotonic() - started, witnessed=witnessed, workers=workers,
                  symmetry=False, reduction=None, search="swarm", extra={"swarm": coverage})
