"""``--workers N``: a level-synchronous breadth-first search in N forked processes.

The first levels run in this process; once the frontier is worth sharing,
N workers fork with a copy of the seen-set and a slice of the frontier each.
Every level they expand their own frontiers in parallel, then exchange only
the fingerprints they found new (16 bytes a state with the step that found
it, never the states), and a state found by several workers is kept by the
one whose step comes first in a fixed order (``Replica``).  Counts, depths and verdicts equal one worker's.

Fingerprints are ``stable_fingerprint`` (a 64-bit hash of the canonical
encoding), never ``hash()``: ``hash(-1) == hash(-2)`` would merge states that
differ only there.  Workers are forked, never spawned, so that they share the
compiled model (its generated code does not pickle); where fork is
unavailable we refuse (``--cluster local:N`` runs elsewhere).

``partition.Partition`` and ``partition.check_local`` are the same search in
one process (for symmetry and checkpoints).
"""

from __future__ import annotations

import gc
import multiprocessing as mp
import signal
import time
from array import array
from typing import Any, Callable

from consensuslab.checkers.scale.partition import Checks, Partition, finish, pick, stable_fingerprint, violation_for
from consensuslab.checkers.search.collector import resume_collection
from consensuslab.checkers.search.ending import CHECK_EVERY
from consensuslab.checkers.search.limits import STOPS, MemoryCeiling, interrupted_by
from consensuslab.checkers.search.progress import Progress
from consensuslab.errors import ModelError, UsageError

STEP_BITS = 20  # a step's key is parent gid << STEP_BITS | successor position
SPLIT = 2_000  # frontier states per worker at which the serial start hands over to the workers


class Replica:
    """One worker's share of a level-synchronous search.

    Every worker keeps a full copy of the seen-set (fingerprints only) and
    expands its own frontier; states never travel between workers.  After a
    level each worker publishes the fingerprints it found new, and a state
    found by several workers in the same level is kept by exactly one of them,
    picked by the step that found it, so the union of the workers' stores holds each
    state once: the single-worker count.  The price is memory (N copies of the
    seen-set) and N-1 set insertions per state; what it saves is pickling and
    shipping states (the earlier design, which partitioned states by owner,
    spent about a quarter more CPU on that and gained 1.4x on two cores).
    """

    def __init__(self, model, me: int, workers: int, canon: Callable | None, seen: set[int],
                 base: int, frontier: list, fingerprint: Callable[[Any], int] = stable_fingerprint):
        self.model, self.me, self.workers = model, me, workers
        self.canon, self.fp = canon, fingerprint
        self.seen = seen
        self.base = base  # gids below this belong to the serial prefix the search started with
        self.parents = array("q")
        self.ks = array("l")
        self.checks = Checks(model)
        self.frontier = frontier
        self.found: list = []  # (fp, state, parent gid, k) new this level, before the merge
        self.generated = 0
        self.memory = MemoryCeiling()

    def link(self, gid: int) -> tuple[int, int]:
        local = (gid - self.base) // self.workers
        return self.parents[local], self.ks[local]

    def expand(self, deadline: float | None) -> tuple[tuple | None, str | None]:
        """Expand the frontier; returns (finding, the limit that stopped it or None)."""
        model, canon, fpf = self.model, self.canon, self.fp
        successors = model.successors
        seen = self.seen
        seen_add = seen.add
        found = self.found
        push = found.append
        checks = self.checks
        need_expanded = model.check_deadlock or bool(model.step_properties)
        generated = 0
        finding = None
        for pos, (state, gid) in enumerate(self.frontier):
            if pos % CHECK_EVERY == 0:
                stopped = ("time-limit" if deadline is not None and time.monotonic() >= deadline
                           else "memory-limit" if self.memory.reached() else None)
                if stopped:
                    self.generated += generated
                    return None, stopped
            out = successors(state)
            generated += len(out)
            if need_expanded and (not out or model.step_properties):
                finding = checks.expanded(state, gid, out)
                if finding is not None:
                    break
            if len(out) >> STEP_BITS:
                raise ModelError(f"{model.protocol}: a state has {len(out):,} successors; "
                                 f"--workers handles at most {1 << STEP_BITS:,}")
            if canon is None:
                for k, (_act, nxt) in enumerate(out):
                    fp = fpf(nxt)
                    if fp not in seen:
                        seen_add(fp)
                        push((fp, nxt, gid, k))
            else:
                for k, (_act, nxt) in enumerate(out):
                    nxt = canon(nxt)
                    fp = fpf(nxt)
                    if fp not in seen:
                        seen_add(fp)
                        push((fp, nxt, gid, k))
        self.generated += generated
        return finding, None

    def found_fingerprints(self) -> bytes:
        """The new fingerprints of this level, each followed by the key of the step that found it."""
        out = array("q")
        for fp, _state, parent, k in self.found:
            out.append(fp)
            out.append(parent << STEP_BITS | k)
        return out.tobytes()

    def merge(self, others: list[bytes]) -> tuple | None:
        """Learn the other workers' new fingerprints; keep the new states this worker wins.

        A state found by several workers goes to the one whose step found it
        with the least (parent gid, successor position): a rule that does not
        depend on hash values, so the same command gives the same search and
        the same counterexample in every run.
        """
        me = self.me
        mine = {fp: parent << STEP_BITS | k for fp, _state, parent, k in self.found}
        lost = set()
        seen_add = self.seen.add
        for blob in others:
            theirs = array("q")
            theirs.frombytes(blob)
            it = iter(theirs)
            for fp, key in zip(it, it):
                seen_add(fp)
                mykey = mine.get(fp)
                if mykey is not None and key < mykey:
                    lost.add(fp)
        parents, ks, workers, base = self.parents, self.ks, self.workers, self.base
        checks = self.checks
        check = checks.new_state if (checks.invariants or checks.pending) else None
        frontier = []
        push = frontier.append
        finding = None
        for fp, state, parent, k in self.found:
            if fp in lost:
                continue
            gid = base + len(parents) * workers + me
            parents.append(parent)
            ks.append(k)
            push((state, gid))
            if check is not None and finding is None:
                finding = check(state, gid)
        self.found = []
        self.frontier = frontier
        return finding

    def has_successors(self) -> bool:
        return any(self.model.successors(s) for s, _ in self.frontier)


def _serve(replica: Replica, conn) -> None:
    """A worker's command loop (runs in a forked process)."""
    # The parent handles Ctrl-C and SIGTERM (a CI timeout signals the whole process group) and stops us;
    # when the parent dies, the pipe closes and we end.
    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGALRM):
        signal.signal(s, signal.SIG_IGN)
    signal.setitimer(signal.ITIMER_REAL, 0)  # the parent's watchdog is the parent's
    # States are immutable and acyclic: the cyclic collector would only walk the seen-set.
    gc.disable()
    try:
        while True:
            cmd, arg = conn.recv()
            if cmd == "expand":
                try:
                    finding, stopped = replica.expand(arg)
                except MemoryError:  # this worker's share of memory is spent: the level stops here
                    replica.found = []
                    finding, stopped = None, "memory-limit"
                conn.send((finding, stopped, replica.generated))
                conn.send_bytes(replica.found_fingerprints())
            elif cmd == "merge":
                others = [conn.recv_bytes() for _ in range(arg)]
                finding = replica.merge(others)
                conn.send((finding, len(replica.parents), sorted(replica.checks.witnessed),
                           len(replica.frontier)))
            elif cmd == "has_successors":
                conn.send(replica.has_successors())
            elif cmd == "link":
                conn.send(replica.link(arg))
            else:
                return
    except EOFError:
        return


def check_parallel(model, workers: int = 2, canon: Callable | None = None, max_states: int | None = None,
                   max_depth: int | None = None, time_limit: float | None = None, progress: bool = True,
                   reduction: str | None = None, split: int = SPLIT):
    """Breadth-first search in ``workers`` forked processes; the same counts as one worker.

    ``split``: frontier states per worker before the work is shared (tests use 1).

    The first levels run here until the frontier is large enough to share;
    then each worker forks with a copy of everything found so far and a slice
    of the frontier, and the levels alternate between expanding (in parallel)
    and merging the new fingerprints (see ``Replica``).
    """
    if "fork" not in mp.get_all_start_methods():
        raise UsageError("--workers needs the fork start method (Linux): forked workers share the parent's "
                         "compiled model; elsewhere use --cluster local:N")
    started = time.monotonic()
    deadline = started + time_limit if time_limit is not None else None
    meter = Progress(enabled=progress)
    prefix = Partition(model, canon, stable_fingerprint)
    first = prefix.seed()
    findings = [first] if first else []
    prefix.advance()
    depth, stopped_by = 0, None
    witnessed: set[str] = set()
    distinct, generated = len(prefix.store), 0
    conns, procs = [], []
    collecting = gc.isenabled()
    gc.disable()
    try:
        try:
            while not findings and prefix.frontier and len(prefix.frontier) < split * workers:
                if max_depth is not None and depth >= max_depth:
                    stopped_by = "max-depth" if prefix.has_successors() else None
                    break
                finding, stopped = prefix.expand(deadline)
                if finding:
                    findings.append(finding)
                elif stopped:
                    stopped_by = stopped
                elif prefix.advance():
                    depth += 1
                    if max_states is not None and len(prefix.store) >= max_states:
                        stopped_by = "max-states"
                if stopped_by:
                    break
        except STOPS as exc:  # stopped before the workers started: the serial levels are the result
            stopped_by, findings = interrupted_by(exc), []
        distinct, generated = len(prefix.store), prefix.generated
        witnessed = set(prefix.checks.witnessed)
        if not findings and stopped_by is None and prefix.frontier:
            conns, procs = _fork(model, prefix, workers, canon)
            depth, distinct, generated, stopped_by, findings = _levels(
                conns, prefix, workers, depth, deadline, max_states, max_depth, meter, witnessed)
        violation = None
        finding = pick(findings)
        if finding is not None:
            base = len(prefix.store)

            def link(gid: int) -> tuple[int, int]:
                if gid < base:
                    return prefix.store.link(gid)
                conn = conns[(gid - base) % workers]
                conn.send(("link", gid))
                return conn.recv()
            # ``depth`` stays the level the search was expanding when it met the violation, as in the
            # single-process search (``search/explicit.py``), not the length of the trace to it
            violation = violation_for(model, finding, link, canon)
    finally:
        if collecting:
            resume_collection()  # without walking every state the search made (``collector.py``)
        meter.close()
        _stop(conns, procs)
    return finish(model, status_hint=stopped_by, violation=violation, distinct=distinct, generated=generated,
                  depth=depth, seconds=time.monotonic() - started, witnessed=witnessed, workers=workers,
                  symmetry=canon is not None, reduction=reduction)


def _fork(model, prefix: Partition, workers: int, canon: Callable | None) -> tuple[list, list]:
    """Start the workers, each with the prefix's seen-set and every ``workers``-th frontier state."""
    ctx = mp.get_context("fork")
    conns, procs = [], []
    for w in range(workers):
        mine, theirs = ctx.Pipe()
        replica = Replica(model, w, workers, canon, prefix.store.seen, len(prefix.store), prefix.frontier[w::workers])
        proc = ctx.Process(target=_serve, args=(replica, theirs), daemon=True)
        proc.start()
        theirs.close()
        conns.append(mine)
        procs.append(proc)
    prefix.frontier = []
    return conns, procs


def _levels(conns: list, prefix: Partition, workers: int, depth: int, deadline: float | None,
            max_states: int | None, max_depth: int | None, meter: Progress, witnessed: set[str]):
    """Drive the workers level by level; returns (depth, distinct, generated, stopped_by, findings)."""
    base, generated_before = len(prefix.store), prefix.generated
    distinct, generated, stopped_by, findings = base, generated_before, None, []
    try:
        while True:
            if max_depth is not None and depth >= max_depth:
                for c in conns:
                    c.send(("has_successors", None))
                if any([c.recv() for c in conns]):
                    stopped_by = "max-depth"
                break
            for c in conns:
                c.send(("expand", deadline))
            reports = [c.recv() for c in conns]
            blobs = [c.recv_bytes() for c in conns]
            generated = generated_before + sum(r[2] for r in reports)
            findings = [r[0] for r in reports if r[0]]
            stopped_by = next((r[1] for r in reports if r[1]), None)
            if findings or stopped_by:
                break
            for w, c in enumerate(conns):
                c.send(("merge", workers - 1))
                for v in range(workers):
                    if v != w:
                        c.send_bytes(blobs[v])
            merged = [c.recv() for c in conns]
            findings = [r[0] for r in merged if r[0]]
            distinct = base + sum(r[1] for r in merged)
            for r in merged:
                witnessed.update(r[2])
            queue = sum(r[3] for r in merged)
            if findings or not queue:
                break
            depth += 1
            now = time.monotonic()
            if meter.due(now):
                meter.report(now, distinct, depth, queue, label=f"{workers} workers: ")
            if max_states is not None and distinct >= max_states:
                stopped_by = "max-states"
                break
    except STOPS as exc:  # Ctrl-C, SIGTERM, the watchdog, memory: the levels done so far are the result
        stopped_by = interrupted_by(exc)
        findings = []
    except (EOFError, ConnectionError):  # a worker died (killed, or by the kernel for memory)
        stopped_by = "worker-lost"
        findings = []
    return depth, distinct, generated, stopped_by, findings


def _stop(conns: list, procs: list) -> None:
    """End the workers: ask, then terminate, then kill; none outlives the search (nor a limit by much)."""
    for c in conns:
        try:
            c.send(("stop", None))
        except OSError:
            pass
    deadline = time.monotonic() + 0.5
    for p in procs:
        p.join(timeout=max(deadline - time.monotonic(), 0.01))
        if p.is_alive():
            p.terminate()
            p.join(timeout=0.5)
        if p.is_alive():
            p.kill()
            p.join()
