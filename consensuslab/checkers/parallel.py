"""``--workers N``: a level-synchronous breadth-first search in N processes.

States are partitioned by fingerprint (``fp % N``); each worker owns its
partition's seen-set and parent links, expands its share of the current
level, keeps successors it owns and ships the others, in batches, to their
owners' inboxes.  A level ends when every worker has received an end marker
from every other one; the parent then collects counts and findings, and
rebuilds a counterexample by asking owners for parent links.

Workers are forked, never spawned: ``hash()`` of a str-containing state is
salted per process (and ``hash(None)`` is an address in 3.11), and fork is
what makes every worker inherit the parent's salt and address space, so all
agree on every fingerprint.  Where fork is unavailable we refuse rather than
silently produce wrong counts (``--cluster local:N`` uses stable fingerprints).

Measured on this 2-core machine (benchmarks/bench_scale.py), two-phase rm=8:
48 s with 2 workers against 68 s with one (1.4x); rm=9: 282 s against 441 s
(1.56x).  The price is pickling the states shipped to their owners: about
a quarter more CPU in all; states as tuples of small ints would ship cheaper.
"""

from __future__ import annotations

import gc
import multiprocessing as mp
import sys
import time
from typing import Any, Callable

from consensuslab.checkers.partition import Checks, Store, finish, pick, violation_for
from consensuslab.errors import UsageError

BATCH = 20_000  # states per message between workers
CHECK_EVERY = 1024
SENT_CACHE = 4_000_000  # remembered shipped fingerprints per worker (bounded memory)


class Partition:
    """One partition's search: its store, its frontier, and the expansion of one level."""

    def __init__(self, model, part: int = 0, parts: int = 1, canon: Callable | None = None,
                 fingerprint: Callable[[Any], int] = hash):
        self.model, self.part, self.parts = model, part, parts
        self.canon, self.fp = canon, fingerprint
        self.store = Store(part, parts)
        self.checks = Checks(model)
        self.frontier: list = []  # (state, gid) of the current level
        self.next: list = []  # states of the next level found so far
        self.generated = 0
        self.sent: set[int] = set()  # fingerprints already shipped to their owners: never ship twice

    def seed(self) -> tuple | None:
        """Take the initial states this partition owns."""
        finding = None
        for k, s0 in enumerate(self.model.initial_states()):
            rep = self.canon(s0) if self.canon else s0
            fp = self.fp(rep)
            if fp % self.parts == self.part:
                finding = self.receive(fp, rep, -1, k) or finding
        return finding

    def receive(self, fp: int, state, parent: int, k: int) -> tuple | None:
        gid = self.store.add(fp, parent, k)
        if gid is None:
            return None
        self.next.append((state, gid))
        return self.checks.new_state(state, gid)

    def receive_batch(self, batch: list) -> tuple | None:
        """``receive`` for a batch from another worker, with the common case (seen before) inlined."""
        seen, parents, ks = self.store.seen, self.store.parents, self.store.ks
        parts, part, push, checks = self.parts, self.part, self.next.append, self.checks
        check = checks.new_state if (checks.invariants or checks.pending) else None
        finding = None
        for fp, state, parent, k in batch:
            if fp in seen:
                continue
            seen.add(fp)
            gid = len(parents) * parts + part
            parents.append(parent)
            ks.append(k)
            push((state, gid))
            if check is not None and finding is None:
                finding = check(state, gid)
        return finding

    def expand(self, emit: Callable[[int, list], None], deadline: float | None = None) -> tuple[tuple | None, bool]:
        """Expand the frontier; returns (finding, stopped by the deadline).  Unexpanded states stay in frontier."""
        model, canon, fpf, part, parts = self.model, self.canon, self.fp, self.part, self.parts
        successors = model.successors
        store = self.store
        seen, parents, ks = store.seen, store.parents, store.ks
        checks = self.checks
        need_expanded = model.check_deadlock or bool(model.step_properties)
        buckets: list[list] = [[] for _ in range(parts)]
        sent = self.sent
        if len(sent) > SENT_CACHE:
            sent.clear()
        nxt_level = self.next
        push = nxt_level.append
        frontier = self.frontier
        generated = 0
        finding = None
        stopped = False
        pos = 0
        for pos, (state, gid) in enumerate(frontier):
            if deadline is not None and pos and pos % CHECK_EVERY == 0 and time.monotonic() >= deadline:
                stopped = True
                break
            out = successors(state)
            generated += len(out)
            if need_expanded and (not out or model.step_properties):
                finding = checks.expanded(state, gid, out)
                if finding is not None:
                    pos += 1
                    break
            for k, (_act, nxt) in enumerate(out):
                if canon is not None:
                    nxt = canon(nxt)
                fp = fpf(nxt)
                owner = fp % parts
                if owner == part:
                    if fp in seen:
                        continue
                    seen.add(fp)
                    new = len(parents) * parts + part
                    parents.append(gid)
                    ks.append(k)
                    push((nxt, new))
                    if checks.invariants or checks.pending:
                        finding = checks.new_state(nxt, new)
                        if finding is not None:
                            break
                elif fp not in sent:
                    sent.add(fp)
                    bucket = buckets[owner]
                    bucket.append((fp, nxt, gid, k))
                    if len(bucket) >= BATCH:
                        emit(owner, bucket)
                        buckets[owner] = []
            if finding is not None:
                pos += 1
                break
        else:
            pos = len(frontier)
        self.frontier = frontier[pos:]
        self.generated += generated
        for owner, bucket in enumerate(buckets):
            if bucket:
                emit(owner, bucket)
        return finding, stopped

    def advance(self) -> int:
        """Make the next level current; returns its size."""
        self.frontier, self.next = self.next, []
        return len(self.frontier)

    def has_successors(self) -> bool:
        return any(self.model.successors(s) for s, _ in self.frontier)


def _worker(part: Partition, conn, inboxes: list) -> None:
    """A worker's command loop (runs in a forked process)."""
    me, parts = part.part, part.parts
    inbox = inboxes[me]
    # States are immutable and acyclic, so the cyclic collector only costs here: unpickling
    # each batch allocates enough to trigger it again and again over the whole heap
    # (measured on two-phase rm=7: pickling and receiving took 2.8x as long with it on).
    gc.disable()

    def emit(owner: int, bucket: list) -> None:
        inbox_put = inboxes[owner].put
        inbox_put((me, bucket))

    try:
        conn.send(("seeded", part.seed(), len(part.store)))
        part.advance()
        while True:
            cmd, arg = conn.recv()
            if cmd == "level":
                finding, stopped = part.expand(lambda o, b: emit(o, b) if o != me else None, arg)
                for owner in range(parts):
                    if owner != me:
                        inboxes[owner].put((me, None))
                ended = 0
                while ended < parts - 1:
                    _src, batch = inbox.get()
                    if batch is None:
                        ended += 1
                        continue
                    finding = part.receive_batch(batch) or finding
                conn.send(("level", finding, stopped, len(part.store), part.generated,
                           sorted(part.checks.witnessed), len(part.frontier)))
            elif cmd == "advance":
                conn.send(part.advance())
            elif cmd == "has_successors":
                conn.send(part.has_successors())
            elif cmd == "link":
                conn.send(part.store.link(arg))
            else:
                return
    except (EOFError, KeyboardInterrupt):
        return


def check_parallel(model, workers: int = 2, canon: Callable | None = None, max_states: int | None = None,
                   max_depth: int | None = None, time_limit: float | None = None, progress: bool = True,
                   reduction: str | None = None):
    """Breadth-first search in ``workers`` forked processes; the same counts as one worker."""
    if "fork" not in mp.get_all_start_methods():
        raise UsageError("--workers needs the fork start method (Linux): forked workers share the parent's "
                         "str-hash salt; elsewhere use --cluster local:N")
    ctx = mp.get_context("fork")
    started = time.monotonic()
    deadline = started + time_limit if time_limit is not None else None
    inboxes = [ctx.Queue() for _ in range(workers)]
    conns, procs = [], []
    for w in range(workers):
        mine, theirs = ctx.Pipe()
        part = Partition(model, w, workers, canon)
        proc = ctx.Process(target=_worker, args=(part, theirs, inboxes), daemon=True)
        proc.start()
        conns.append(mine)
        procs.append(proc)
    try:
        seeded = [c.recv() for c in conns]
        findings = [s[1] for s in seeded if s[1]]
        distinct = sum(s[2] for s in seeded)
        generated, depth, stopped_by, witnessed = 0, 0, None, set()
        while not findings:
            if max_depth is not None and depth >= max_depth:
                for c in conns:
                    c.send(("has_successors", None))
                if any([c.recv() for c in conns]):
                    stopped_by = "max-depth"
                break
            for c in conns:
                c.send(("level", deadline))
            reports = [c.recv() for c in conns]
            findings = [r[1] for r in reports if r[1]]
            distinct = sum(r[3] for r in reports)
            generated = sum(r[4] for r in reports)
            for r in reports:
                witnessed.update(r[5])
            if any(r[2] for r in reports):
                stopped_by = "time-limit"
                break
            for c in conns:
                c.send(("advance", None))
            sizes = [c.recv() for c in conns]
            if not any(sizes):
                break
            depth += 1
            if progress and time.monotonic() - started > 2.0:
                print(f"  level {depth}: {distinct:,} distinct states", file=sys.stderr, flush=True)
            if max_states is not None and distinct >= max_states:
                stopped_by = "max-states"
                break
        violation = None
        finding = pick(findings)
        if finding is not None:
            def link(gid: int) -> tuple[int, int]:
                conns[gid % workers].send(("link", gid))
                return conns[gid % workers].recv()
            violation = violation_for(model, finding, link, canon)
            depth = len(violation.trace) - (1 if violation.kind == "transition" else 0)
    finally:
        for c in conns:
            try:
                c.send(("stop", None))
            except OSError:
                pass
        for p in procs:
            p.join(timeout=5)
            if p.is_alive():
                p.terminate()
    return finish(model, status_hint=stopped_by, violation=violation, distinct=distinct, generated=generated,
                  depth=depth, seconds=time.monotonic() - started, witnessed=witnessed, workers=workers,
                  symmetry=canon is not None, reduction=reduction)


def check_local(model, canon: Callable | None = None, max_states: int | None = None, max_depth: int | None = None,
                time_limit: float | None = None, reduction: str | None = None, part: Partition | None = None,
                depth: int = 0, started: float | None = None, on_stop: Callable | None = None):
    """The same level-synchronous search in this process (one partition); used for symmetry and checkpoints.

    ``part``/``depth`` resume a saved search; ``on_stop(part, depth)`` is called when a limit stops it.
    """
    started = time.monotonic() if started is None else started
    deadline = started + time_limit if time_limit is not None else None
    findings = []
    if part is None:
        part = Partition(model, 0, 1, canon)
        f = part.seed()
        findings = [f] if f else []
        part.advance()
    stopped_by = None
    collecting = gc.isenabled()
    gc.disable()  # acyclic states: see _worker
    try:
        while not findings and (part.frontier or part.next):
            if max_depth is not None and depth >= max_depth:
                stopped_by = "max-depth" if part.has_successors() else None
                break
            finding, stopped = part.expand(lambda o, b: None, deadline)
            if finding:
                findings.append(finding)
                break
            if stopped:
                stopped_by = "time-limit"
                break
            if part.advance():
                depth += 1
            if max_states is not None and len(part.store) >= max_states:
                stopped_by = "max-states"
                break
    finally:
        if collecting:
            gc.enable()
    if stopped_by in ("time-limit", "max-states") and on_stop is not None:
        on_stop(part, depth)
    violation = None
    if findings:
        violation = violation_for(model, pick(findings), part.store.link, canon)
        depth = len(violation.trace) - (1 if violation.kind == "transition" else 0)
    return finish(model, status_hint=stopped_by, violation=violation, distinct=len(part.store),
                  generated=part.generated, depth=depth, seconds=time.monotonic() - started,
                  witnessed=part.checks.witnessed, workers=1, symmetry=canon is not None, reduction=reduction)
