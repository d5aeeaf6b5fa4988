"""``--cluster tcp://HOST:PORT`` or ``--cluster local:N``: the level-synchronous search on Dask.

Each level's frontier is cut into partitions by fingerprint; one task per
partition is a pure function of (model recipe, its frontier states): it
checks each state's invariants (every state is expanded once, so checked
once), expands it, and returns the successors' fingerprints, states and
parent links, deduplicated within the task.  The driver merges results into
the seen-set only when a task has completed, so when a worker dies its tasks
are simply run again elsewhere by the scheduler and nothing is lost or
counted twice.  The seen-set and parent links stay on the driver.

Workers rebuild the model from a recipe (protocol class, parameters, variant,
scenario, options), since compiled models hold generated code that does not
pickle.  Fingerprints must agree across processes and machines, so they are
``stable_fingerprint`` (a hash of the canonical encoding); never ``hash()``,
which differs between processes (str salts, the address of ``None``) and
merges states that differ only by -1 against -2 (``hash(-1) == hash(-2)``).

Dask is an optional extra: ``pip install -e ".[distributed]"``.
"""

from __future__ import annotations

import functools
import time
from typing import Any, Callable

from consensuslab.checkers.scale.partition import Checks, Store, finish, pick, stable_fingerprint, violation_for
from consensuslab.checkers.search.limits import STOPS, MemoryCeiling, interrupted_by
from consensuslab.errors import UsageError

CHUNK = 5_000  # frontier states per task
MAX_LOCAL = 64  # local worker processes at most


def recipe(model, symmetry: bool) -> tuple:
    return (type(model.definition), tuple(sorted(model.params.items())), model.variant, model.scenario,
            model.check_deadlock, tuple(p.name for p in model.properties), symmetry)


@functools.lru_cache(maxsize=4)
def _built(rec: tuple):
    """The model and canonicaliser a recipe describes, built once per worker process."""
    cls, params, variant, scenario, deadlock, props, symmetry = rec
    model = cls.configure(dict(params), variant, scenario).compile()
    model.check_deadlock = deadlock
    if props:
        model.select_properties(list(props))
    canon = None
    if symmetry:
        from consensuslab.checkers.reduction.symmetry import canonicaliser
        canon = canonicaliser(model)[0]
    return model, canon


def expand_task(rec: tuple, chunk: list) -> dict:
    """Pure: check and expand ``chunk`` = [(gid, state)]; returns successors and findings."""
    model, canon = _built(rec)
    fpf = stable_fingerprint
    checks = Checks(model)
    out, seen, findings, generated = [], set(), [], 0
    for gid, state in chunk:
        finding = checks.new_state(state, gid)
        if finding is None:
            succ = model.successors(state)
            generated += len(succ)
            finding = checks.expanded(state, gid, succ)
        if finding is not None:
            findings.append(finding)
            continue
        for k, (_act, nxt) in enumerate(succ):
            rep = canon(nxt) if canon else nxt
            fp = fpf(rep)
            if fp not in seen:
                seen.add(fp)
                out.append((fp, rep, gid, k))
    return {"out": out, "findings": findings, "generated": generated, "witnessed": sorted(checks.witnessed)}


def roots_task(rec: tuple) -> list:
    model, canon = _built(rec)
    fpf = stable_fingerprint
    reps = [canon(s) if canon else s for s in model.initial_states()]
    return [(fpf(r), r, -1, k) for k, r in enumerate(reps)]


def connect(address: str, workers_env: dict | None = None):
    """(client, cluster or None) for ``tcp://...`` or ``local:N``."""
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        raise UsageError('--cluster needs dask: pip install -e ".[distributed]"') from None
    if address.startswith("local:"):
        try:
            n = int(address.split(":", 1)[1])
        except ValueError:
            raise UsageError(f"--cluster {address}: expected local:N with N a number") from None
        if not 1 <= n <= MAX_LOCAL:  # local:0 would wait for ever for a worker that never comes
            raise UsageError(f"--cluster {address}: N must be between 1 and {MAX_LOCAL} local worker processes")
        cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, host="127.0.0.1",
                               dashboard_address=":0", env=workers_env or {})
        return Client(cluster), cluster
    if not address.startswith(("tcp://", "tls://")):
        raise UsageError(f"--cluster {address}: expected tcp://HOST:PORT or local:N")
    return Client(address), None


def check_distributed(model, address: str = "local:2", symmetry: bool = False,
                      max_states: int | None = None, max_depth: int | None = None, time_limit: float | None = None,
                      client=None, on_level: Callable[[int, Any], None] | None = None, chunk: int = CHUNK):
    """Partitioned BFS on a Dask cluster; the same distinct-state count as the local search."""
    canon, reduction = None, None
    if symmetry:
        from consensuslab.checkers.reduction.symmetry import canonicaliser
        canon, reduction = canonicaliser(model)
    started = time.monotonic()
    deadline = started + time_limit if time_limit is not None else None
    own = None
    if client is None:
        client, own = connect(address)
    rec = recipe(model, symmetry)
    store = Store()
    workers = 0
    try:
        workers = len(client.scheduler_info()["workers"])
        depth, generated, witnessed, findings, stopped_by = _levels(
            client, rec, store, max(1, 2 * workers), chunk, deadline, max_states, max_depth, on_level)
        violation = None
        if findings:
            violation = violation_for(model, pick(findings), store.link, canon)
            depth = len(violation.trace) - (1 if violation.kind == "transition" else 0)
    finally:
        if own is not None:
            client.close()
            own.close()
    return finish(model, status_hint=stopped_by, violation=violation, distinct=len(store), generated=generated,
                  depth=depth, seconds=time.monotonic() - started, witnessed=witnessed, workers=workers,
                  symmetry=symmetry, reduction=reduction, extra={"cluster": address, "fingerprint": "stable"})


def _levels(client, rec: tuple, store: Store, parts: int, chunk: int, deadline: float | None,
            max_states: int | None, max_depth: int | None, on_level) -> tuple:
    """Drive the cluster level by level: (depth, generated, witnessed, findings, stopped_by).

    Ctrl-C, SIGTERM, the watchdog or memory end it with the levels merged so far.
    """
    generated, depth, witnessed, findings, stopped_by = 0, 0, set(), [], None
    memory = MemoryCeiling()
    try:
        incoming = client.submit(roots_task, rec, pure=False).result()
        while True:
            frontier = [(gid, fp, rep) for fp, rep, parent, k in incoming
                        if (gid := store.add(fp, parent, k)) is not None]
            if not frontier:
                depth = max(depth - 1, 0)  # the last level expanded found nothing new
                break
            last = max_depth is not None and depth >= max_depth  # check these states, expand no further
            if deadline is not None and time.monotonic() >= deadline:
                stopped_by = "time-limit"
                break
            if max_states is not None and len(store) >= max_states:
                stopped_by = "max-states"
                break
            if memory.reached():
                stopped_by = "memory-limit"
                break
            buckets: list[list] = [[] for _ in range(parts)]
            for gid, fp, rep in frontier:
                buckets[fp % parts].append((gid, rep))
            futures = [client.submit(expand_task, rec, b[i:i + chunk], pure=False)
                       for b in buckets for i in range(0, len(b), chunk)]
            if on_level is not None:
                on_level(depth, client)
            incoming = []
            for res in client.gather(futures):  # every task's result, complete, or an exception
                incoming.extend(res["out"])
                findings.extend(res["findings"])
                generated += res["generated"]
                witnessed.update(res["witnessed"])
            if findings:
                break
            if last:
                stopped_by = "max-depth" if incoming else None
                break
            depth += 1
    except STOPS as exc:
        stopped_by, findings = interrupted_by(exc), []
    return depth, generated, witnessed, findings, stopped_by
