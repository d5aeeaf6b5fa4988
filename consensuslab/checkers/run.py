"""The one entry of every check: ``check(model, **options)`` picks the engine; safety, then liveness.

Which engine runs is decided here and nowhere else:

* ``swarm``, ``cluster``, ``checkpoint``: the scaling searches (``scale/``);
* ``reduction="por"``: the interpreted search over the partial-order-reduced
  model (``reduction/por.py``);
* ``symmetry``: the partitioned search over orbit representatives, in this
  process or in ``workers`` forked ones;
* actor protocols: the packed actor search (``actors/``), else the interpreted;
* otherwise the compiled engine where the model is a spec it can compile
  (``compiled/``), else the interpreted search (``search/``), in ``workers``
  forked processes when asked; under ``auto``, which of the two answers is
  ``engine_choice.py``'s to decide (the probe, the race, the hand-over).

Liveness properties (those the scenario names) are checked after safety, over the
stored graph (``liveness/``); the scaling and reducing options preserve
safety only and are refused with them.
"""

from __future__ import annotations

import time

from consensuslab.checkers.engine_choice import compiled_or_interpreted, interpreted, interpreted_instead
from consensuslab.checkers.search.ending import Budget, finish
from consensuslab.checkers.search.limits import (
    STOPS,
    interrupted_by,
    signals_received,
    watchdog,
    watchdog_fired,
)
from consensuslab.checkers.search.limits import memory_cap
from consensuslab.checkers.search.limits import memory_limit as capped
from consensuslab.errors import UsageError
from consensuslab.traces.result import CheckResult

ENGINES = ("auto", "compiled", "interpreted")

def check(model, search: str = "bfs", max_states: int | None = None, max_depth: int | None = None,
          time_limit: float | None = None, progress: bool = True, spill_after: int | None = None,
          engine: str = "auto", workers: int = 1, *, symmetry: bool = False, reduction: str | None = None,
          cluster: str | None = None, swarm: int | None = None, seed: int = 0,
          checkpoint: str | None = None, liveness: bool = True, memory_limit: int | None = None) -> CheckResult:
    """Explore every reachable state of ``model`` within the limits and check its properties.

    Safety first (shortest counterexamples in breadth-first order), then the
    liveness properties the scenario names (``Model.liveness_to_check``); the
    others are listed in the result's ``liveness_not_checked``.  ``liveness=False``
    checks safety properties only.  ``engine``: ``compiled``
    packs states and memoises a spec's actions, ``interpreted`` calls them on
    every state, ``auto`` compiles what it can.  ``workers``: threads of the
    compiled search, or else forked processes.  ``spill_after``: states of a
    BFS level kept in memory before the rest go to disk.

    Limits: ``time_limit`` seconds and ``memory_limit`` bytes on top of what the
    process holds (default: the process's cap, which the command line sets) for the whole check, safety
    and liveness together; each engine stops by its ``Budget``, and a
    watchdog (``search/limits.py``) ends a step of the user's code that
    overruns, so either way the result is ``incomplete`` with what was covered.
    """
    if search not in ("bfs", "dfs"):
        raise UsageError(f"search must be bfs or dfs, not {search!r}")
    if engine not in ENGINES:
        raise UsageError(f"engine must be one of {', '.join(ENGINES)}, not {engine!r}")
    options = dict(search=search, max_states=max_states, max_depth=max_depth, progress=progress,
                   spill_after=spill_after, engine=engine, workers=workers, symmetry=symmetry, reduction=reduction,
                   cluster=cluster, swarm=swarm, seed=seed, checkpoint=checkpoint)
    live, skipped = model.liveness_to_check()
    if not liveness:
        live, skipped = [], skipped + [p.name for p in live]
    _refuse_combinations(model, live, **options)
    started, fired, signalled = time.monotonic(), watchdog_fired(), signals_received()
    try:
        # a checkpointed search arms its own watchdog once its checkpoint is loaded (resuming is not searching)
        with capped(None if memory_limit is None else memory_cap(memory_limit)), \
                watchdog(None if checkpoint else time_limit):
            if live:
                result = _safety_then_liveness(model, live, time_limit, options)
            else:
                result = _safety(model, time_limit=time_limit, **options)
    except STOPS as exc:  # stopped outside any engine's own handling: nothing counted, nothing found
        result = finish(model, violation=None, stopped_by=interrupted_by(exc), witnessed=set(), distinct=0,
                        generated=0, depth=0, seconds=time.monotonic() - started, fingerprints=False)
    if result.stopped_by == "interrupted" and watchdog_fired() > fired and signals_received() == signalled:
        result.stopped_by = "time-limit"  # an engine that does not tell the watchdog from Ctrl-C
    if skipped:
        result.extra["liveness_not_checked"] = skipped
    return result


def _refuse_combinations(model, liveness: list, *, search, workers, symmetry, reduction, cluster, swarm, checkpoint,
                         **_) -> None:
    """One line for each pair of options that cannot be combined, before anything runs."""
    scaling = [n for n, on in (("--cluster", cluster), ("--checkpoint", checkpoint), ("--swarm", swarm),
                               ("--workers", workers > 1 and not swarm)) if on]
    if reduction is not None:
        if reduction != "por":
            raise UsageError(f"unknown reduction {reduction!r}; valid: por")
        if scaling or symmetry:
            raise UsageError("--reduction por cannot be combined with --symmetry, --workers, --cluster, --swarm "
                             "or --checkpoint")
    if liveness:
        if symmetry:
            raise UsageError("symmetry reduction is unsound for liveness; check liveness without --symmetry")
        if scaling:
            raise UsageError("--workers/--cluster/--swarm/--checkpoint check safety only; "
                             "drop them (or pick safety properties with --property) to check liveness")
        if reduction is not None:
            names = ", ".join(p.name for p in liveness)
            raise UsageError(f"--reduction por preserves safety only; it cannot check liveness ({names}): "
                             f"drop it, or pick safety properties with --property")
    if search == "dfs" and (symmetry or cluster or checkpoint or (workers > 1 and not swarm)):
        raise UsageError("--symmetry/--workers/--cluster/--checkpoint search breadth-first; drop --search dfs")
    if len(scaling) > 1:
        raise UsageError(f"{scaling[0]} and {scaling[1]} cannot be combined")
    if swarm and symmetry:
        raise UsageError("--swarm and --symmetry cannot be combined")


def _safety(model, *, search, max_states, max_depth, time_limit, progress, spill_after, engine, workers,
            symmetry, reduction, cluster, swarm, seed, checkpoint) -> CheckResult:
    """The safety search the options ask for; its result always says which engine ran and why."""
    limits = dict(max_states=max_states, max_depth=max_depth, time_limit=time_limit)
    scaled = _scaled(model, search, progress, spill_after, engine, workers, symmetry, reduction, cluster, swarm,
                     seed, checkpoint, limits)
    if scaled is None:
        if engine != "interpreted" and _is_actor_model(model):
            return _actors_or_interpreted(model, search, progress, spill_after, engine, workers, **limits)
        return compiled_or_interpreted(model, search, progress, spill_after, engine, workers, **limits)
    result, why = scaled
    if engine == "compiled":
        raise UsageError(f"--engine compiled: {why}")
    result.extra["engine"] = "interpreted"
    result.extra["engine_reason"] = why
    return result


def _scaled(model, search, progress, spill_after, engine, workers, symmetry, reduction, cluster, swarm, seed,
            checkpoint, limits) -> tuple[CheckResult, str] | None:
    """The result of a scaling or reducing search and why it runs the model's own code, or None (neither asked)."""
    if engine == "compiled" and (swarm or cluster or reduction or symmetry or checkpoint):
        raise UsageError("--engine compiled: --swarm, --cluster, --reduction, --symmetry and --checkpoint "
                         "run the model's own successors (drop them, or use --engine auto)")
    if swarm:
        from consensuslab.checkers.scale.swarm import check_swarm
        return (check_swarm(model, swarm, seed=seed, workers=workers, **limits),
                "--swarm: randomised depth-first searches of the model's own successors")
    if cluster:
        from consensuslab.checkers.scale.cluster import check_distributed
        return (check_distributed(model, cluster, symmetry=symmetry, **limits),
                "--cluster: workers of a dask cluster run the model's own successors")
    if reduction == "por":
        from consensuslab.checkers.reduction.por import check_reduced
        return (check_reduced(model, lambda m, **lim: interpreted(m, search, progress, spill_after, 1, **lim),
                              **limits),
                "--reduction por: the interpreted search over the reduced model")
    canon, label = None, None
    if symmetry:
        from consensuslab.checkers.reduction.symmetry import canonicaliser
        canon, label = canonicaliser(model)
    if checkpoint:
        from consensuslab.checkers.scale.checkpoint import check_checkpointed
        return (_told(check_checkpointed(model, checkpoint, canon, reduction=label, progress=progress, **limits),
                      canon),
                "--checkpoint: the partitioned search, which saves fingerprints and successor positions")
    if canon is None:
        return None
    from consensuslab.checkers.scale.partition import check_local
    from consensuslab.checkers.scale.workers import check_parallel
    why = "--symmetry: the partitioned search over orbit representatives (canonicalising runs on real states)"
    if workers > 1:
        return check_parallel(model, workers, canon, progress=progress, reduction=label, **limits), why
    return _told(check_local(model, canon, reduction=label, progress=progress, **limits), canon), why


def _told(result: CheckResult, canon) -> CheckResult:
    """The result, with what the canonicaliser has to tell the user (why a ``permute`` was not learnt)."""
    if canon is not None:
        result.extra.setdefault("warnings", []).extend(getattr(canon, "warnings", list)())
    return result


def _is_actor_model(model) -> bool:
    from consensuslab.checkers.actors.engine import is_actor_model
    return is_actor_model(model)


def _actors_or_interpreted(model, search, progress, spill_after, engine, workers, *, max_states, max_depth,
                           time_limit) -> CheckResult:
    """Actor protocols: the packed actor search (``actors/``) where it supports the model, else the interpreted."""
    from consensuslab.checkers.actors.engine import ActorSearch, unsupported_reason

    budget = Budget(time_limit)
    declined = None
    not_packed = unsupported_reason(model, search)
    if not_packed is None and spill_after is not None:
        not_packed = "--spill-after: the packed actor search keeps its levels in memory"
    if not_packed is None:
        packed = ActorSearch(model, max_states, max_depth, time_limit, progress)
        result = packed.run()
        if result is not None:
            result.extra["engine_reason"] = (("--engine compiled: " if engine == "compiled" else "an actor model: ")
                                             + "the packed actor search (states packed into ints, handler steps "
                                               "memoised)")
            if workers > 1:
                result.extra["engine_reason"] += "; it runs in one process, whatever --workers says"
            return result
        declined = packed.declined
    why = f"not compiled: {not_packed}" if declined is None else f"the packed actor search handed over: {declined}"
    if engine == "compiled":
        raise UsageError(f"--engine compiled: {why}")
    return interpreted_instead(model, search, progress, spill_after, workers, budget, why, declined,
                               max_states=max_states, max_depth=max_depth)


def _safety_then_liveness(model, liveness: list, time_limit: float | None, options: dict) -> CheckResult:
    """Safety first (shortest counterexamples, no graph kept), then liveness over the stored graph.

    Dead ends are judged by the liveness pass: one where a goal never held is a
    liveness counterexample (the more precise verdict), any other one that is
    not ``done`` is still reported as a deadlock.
    """
    from consensuslab.checkers.liveness.check import check_liveness

    budget = Budget(time_limit)
    deadlock, model.check_deadlock = model.check_deadlock, False
    try:
        safety = _safety(model, time_limit=time_limit, **options)
    finally:
        model.check_deadlock = deadlock
    if safety.status != "ok":
        safety.properties.update({p.name: "unknown" for p in liveness})
        safety.extra.update({"incomplete": safety.status == "incomplete", "warnings": [],
                             "liveness_checked": False})
        return safety
    result = check_liveness(model, max_states=options["max_states"], max_depth=options["max_depth"],
                            time_limit=budget.left(), props=liveness)
    result.properties = {**safety.properties, **result.properties}
    result.extra["liveness_checked"] = True
    result.extra["engine"] = safety.extra.get("engine")
    result.extra["engine_reason"] = (f"safety: {safety.extra.get('engine_reason')}; liveness: the fair-cycle "
                                     f"search over the graph of the model's own successors")
    if "compiled_declined" in safety.extra:
        result.extra["compiled_declined"] = safety.extra["compiled_declined"]
    result.extra["safety_seconds"] = round(safety.seconds, 3)
    result.extra["liveness_seconds"] = round(result.seconds, 3)
    result.seconds += safety.seconds
    return result
