"""The partitioned search in one process, and the pieces every partitioned search shares.

``Partition`` is a level-synchronous breadth-first search of one share of the
states (all of them in ``check_local``, used for ``--symmetry`` and
``--checkpoint``; one worker's in ``workers.py``), with its store of
fingerprints and parent links, and the property checks of new states.

A state's global id (gid) is ``local_index * parts + partition``, so any
process can tell which partition owns a gid without a lookup.  Per state we
keep only its parent gid and ``k``, the position of the step in the parent's
sorted successor list (a small int: cheap to ship between processes, and it
names the step without pickling the ``Action``).  Roots have parent ``-1`` and
``k`` = their position in ``initial_states()``.  Traces are rebuilt by
re-applying the steps from the initial state, so stores hold no states.

Under symmetry reduction states are stored as canonical representatives; the
rebuild then walks the real (unpermuted) state alongside the representative
and at each step takes the real successor in the recorded representative's
orbit, so the trace is in the original node names and replays step by step.
"""

from __future__ import annotations

import gc
import hashlib
import time
from array import array
from typing import Any, Callable

from consensuslab.checkers.search import ending
from consensuslab.checkers.search.collector import resume_collection
from consensuslab.checkers.search.ending import CHECK_EVERY
from consensuslab.checkers.search.limits import STOPS, MemoryCeiling, interrupted_by, stand_down
from consensuslab.checkers.search.progress import Progress
from consensuslab.models.values import canon as canon_key
from consensuslab.traces.result import CheckResult, Trace, Violation

# Order in which simultaneous findings of one BFS level are reported.
KIND_ORDER = {"invariant": 0, "transition": 1, "deadlock": 2}


_ENCODED: dict = {}  # value -> its canonical bytes; field values repeat across states
_ENCODED_MAX = 1 << 20


def _encode(value) -> bytes:
    try:
        return _ENCODED[value]
    except KeyError:
        pass
    except TypeError:  # unhashable: encode every time
        return repr(canon_key(value)).encode()
    data = repr(canon_key(value)).encode()
    if len(_ENCODED) >= _ENCODED_MAX:
        _ENCODED.clear()
    _ENCODED[value] = data
    return data


def stable_fingerprint(state: Any) -> int:
    """A 64-bit fingerprint that is the same in every process and on every machine.

    ``hash()`` is not: str hashing is salted per process, and in Python 3.11
    ``hash(None)`` (and of classes) is an address, which ASLR moves per process,
    so even a fixed ``PYTHONHASHSEED`` does not make it portable.  A tuple
    record is encoded field by field with each field's encoding memoised
    (measured on two-phase rm=6: 7x the plain search's CPU without the memo,
    see benchmarks/bench_scale.py for the figure with it).
    """
    if type(state) is not tuple and isinstance(state, tuple):
        data = b"\x1f".join([type(state).__name__.encode()] + [_encode(f) for f in state])
    else:
        data = _encode(state)
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "little", signed=True)


class Store:
    """A search's seen-set and parent links; a state's gid is its position.

    The seen-set holds the states themselves in one process, or their
    ``stable_fingerprint`` where processes must agree; never ``hash()``, which
    merges states that differ only by -1 against -2 (``hash(-1) == hash(-2)``).
    """

    def __init__(self):
        self.seen: set = set()
        self.parents = array("q")
        self.ks = array("l")

    def __len__(self) -> int:
        return len(self.parents)

    def add(self, key, parent: int, k: int) -> int | None:
        """The new state's gid, or None when ``key`` (a state or its fingerprint) was seen before."""
        if key in self.seen:
            return None
        self.seen.add(key)
        gid = len(self.parents)
        self.parents.append(parent)
        self.ks.append(k)
        return gid

    def link(self, gid: int) -> tuple[int, int]:
        return self.parents[gid], self.ks[gid]


def chain(link: Callable[[int], tuple[int, int]], gid: int) -> tuple[int, list[int]]:
    """(root position, successor positions from the root to ``gid``)."""
    ks = []
    while True:
        parent, k = link(gid)
        if parent < 0:
            return k, ks[::-1]
        ks.append(k)
        gid = parent


def rebuild(model, root: int, ks: list[int], canon: Callable | None = None, last: tuple | None = None) -> Trace:
    """Re-apply the recorded steps; ``last`` = (kind, property, k) adds the failing step of a transition."""
    real = model.initial_states()[root]
    trace = Trace(real)
    rep = canon(real) if canon else real
    steps = list(ks) + ([last[2]] if last else [])
    for pos, k in enumerate(steps):
        out = model.successors(rep)
        if not 0 <= k < len(out):
            from consensuslab.errors import ConsensuslabError
            raise ConsensuslabError(f"{model.protocol}: a stored step ({k} of {len(out)} successors) does not "
                                    f"exist: the saved search was changed, or the model was")
        act, nxt = out[k]
        if canon is None:
            real = rep = nxt
            trace.steps.append((act, nxt))
            continue
        target = canon(nxt)
        final = last is not None and pos == len(steps) - 1
        options = [(a, s) for a, s in model.successors(real) if canon(s) == target]
        if final:  # prefer the real step that breaks the same transition property
            broken = [(a, s) for a, s in options if model.first_broken_step(real, a, s) is not None]
            options = broken or options
        if not options:
            from consensuslab.errors import ModelError
            raise ModelError(f"{model.protocol}: the declared symmetry is not a symmetry of the "
                             f"successor relation (no real successor in the orbit of step {act})")
        act, real = options[0]
        rep = target
        trace.steps.append((act, real))
    return trace


def violation_for(model, finding: tuple, link: Callable, canon: Callable | None = None) -> Violation:
    """Turn a worker's finding (kind, property, gid[, k]) into a Violation with a replayable trace."""
    kind, prop, gid = finding[:3]
    root, ks = chain(link, gid)
    last = (kind, prop, finding[3]) if kind == "transition" else None
    trace = rebuild(model, root, ks, canon, last)
    if kind == "deadlock":
        return Violation("deadlock", "deadlock", trace, message="no action is enabled")
    return Violation(prop, kind, trace)


def finish(model, *, status_hint: str | None, violation: Violation | None, distinct: int,
           generated: int, depth: int, seconds: float, witnessed: set[str], workers: int,
           symmetry: bool, reduction: str | None, search: str = "bfs", extra: dict | None = None) -> CheckResult:
    """The CheckResult every partitioned search returns (``search.ending.finish``, with how it was split)."""
    return ending.finish(model, violation=violation, stopped_by=status_hint, witnessed=witnessed, distinct=distinct,
                         generated=generated, depth=depth, seconds=seconds, search=search,
                         extra={"workers": workers, "symmetry": symmetry, "reduction": reduction, **(extra or {})})


class Checks:
    """Property checks on newly stored states, shared by every partitioned search."""

    def __init__(self, model):
        from consensuslab.models.model import Model

        self.model = model
        self.invariants = [p.fn for p in model.invariants]
        self.pending = list(model.witnesses)
        self.witnessed: set[str] = set()
        self.view = None if type(model).view is Model.view else model.view  # None: the state is its view

    def new_state(self, state, gid: int) -> tuple | None:
        """A finding when ``state`` breaks an invariant; records witnesses."""
        view = state if self.view is None else self.view(state)
        try:
            for inv in self.invariants:
                if inv(view) is not True:  # False, or not a bool: judged (and refused) by the model
                    broken = self.model.first_broken_invariant(state)
                    if broken is not None:
                        return ("invariant", broken.name, gid)
            for fn in self.pending_fns:
                if fn(view):
                    self._witness(state)
                    break
        except Exception:  # name the property that raised (ModelError)
            self.model.first_broken_invariant(state)
            self._witness(state)
            raise
        return None

    def _witness(self, state) -> None:
        for prop in list(self.pending):
            if self.model.holds(prop, state):
                self.pending.remove(prop)
                self.witnessed.add(prop.name)

    @property
    def pending(self) -> list:
        """The ``sometimes`` properties not witnessed yet."""
        return self._pending

    @pending.setter
    def pending(self, props: list) -> None:
        self._pending = list(props)
        self.pending_fns = [p.fn for p in self._pending]

    def expanded(self, state, gid: int, out: list) -> tuple | None:
        """A finding for a deadlock or a broken transition property at ``state``."""
        model = self.model
        if not out and model.check_deadlock and not model.is_done(state):
            return ("deadlock", "deadlock", gid)
        if model.step_properties:
            for k, (act, nxt) in enumerate(out):
                broken = model.first_broken_step(state, act, nxt)
                if broken is not None:
                    return ("transition", broken.name, gid, k)
        return None


def pick(findings: list[tuple]) -> tuple | None:
    """One finding of a level, chosen the same way whichever worker found it first."""
    return min(findings, key=lambda f: (KIND_ORDER[f[0]], f[2])) if findings else None


class Partition:
    """A level-synchronous search in this process: its store, its frontier, and the expansion of one level.

    Used for ``--symmetry`` and ``--checkpoint`` runs and for the first levels of ``--workers``.
    Counts its levels (``depth``) and, given a ``progress`` meter, reports on it between two states.
    """

    def __init__(self, model, canon: Callable | None = None, fingerprint: Callable[[Any], int] | None = None,
                 progress: Progress | None = None):
        """``fingerprint``: what the seen-set keys on (None: the state itself, exact)."""
        self.model = model
        self.canon, self.fp = canon, fingerprint
        self.store = Store()
        self.checks = Checks(model)
        self.frontier: list = []  # (state, gid) of the current level
        self.next: list = []  # states of the next level found so far
        self.generated = 0
        self.memory = MemoryCeiling()
        self.progress = progress
        self.depth = 0  # levels advanced past
        self.held_back = 0  # frontier states a caller keeps out of ``frontier`` (counted in the queue shown)

    def seed(self) -> tuple | None:
        """Take the initial states."""
        finding = None
        for k, s0 in enumerate(self.model.initial_states()):
            rep = self.canon(s0) if self.canon else s0
            gid = self.store.add(rep if self.fp is None else self.fp(rep), -1, k)
            if gid is not None:
                self.next.append((rep, gid))
                finding = self.checks.new_state(rep, gid) or finding
        return finding

    def expand(self, deadline: float | None = None) -> tuple[tuple | None, str | None]:
        """Expand the frontier; returns (finding, the limit that stopped it: ``time-limit``, ``memory-limit``
        or None).  Unexpanded states stay in the frontier."""
        model, canon, fpf = self.model, self.canon, self.fp
        successors = model.successors
        store = self.store
        seen, parents, ks = store.seen, store.parents, store.ks
        checks = self.checks
        check = checks.new_state if (checks.invariants or checks.pending) else None
        need_expanded = model.check_deadlock or bool(model.step_properties)
        push = self.next.append
        frontier = self.frontier
        generated = 0
        finding = None
        stopped = None
        pos = 0
        clock = time.monotonic
        meter = self.progress if self.progress is not None and self.progress.enabled else None
        for pos, (state, gid) in enumerate(frontier):
            # the clock at every state (60 ns against tens of microseconds of expansion): a slow model
            # must stop here, between two states, before the watchdog has to cut a step short
            if deadline is not None or meter is not None:
                now = clock()
                if pos and deadline is not None and now >= deadline:
                    stopped = "time-limit"
                    stand_down()  # ending by itself: the watchdog must not cut building the result short
                    break
                if meter is not None and meter.due(now):
                    meter.report(now, len(parents), self.depth,
                                 len(frontier) - pos + self.held_back + len(self.next))
            if pos and pos % CHECK_EVERY == 0 and self.memory.reached():
                stopped = "memory-limit"
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
                fp = nxt if fpf is None else fpf(nxt)
                if fp in seen:
                    continue
                seen.add(fp)
                new = len(parents)
                parents.append(gid)
                ks.append(k)
                push((nxt, new))
                if check is not None:
                    finding = check(nxt, new)
                    if finding is not None:
                        break
            if finding is not None:
                pos += 1
                break
        else:
            pos = len(frontier)
        self.frontier = frontier[pos:]
        self.generated += generated
        return finding, stopped

    def advance(self) -> int:
        """Make the next level current; returns its size."""
        self.frontier, self.next = self.next, []
        if self.frontier:
            self.depth += 1
        return len(self.frontier)

    def has_successors(self) -> bool:
        return any(self.model.successors(s) for s, _ in self.frontier)


def check_local(model, canon: Callable | None = None, max_states: int | None = None, max_depth: int | None = None,
                time_limit: float | None = None, reduction: str | None = None, part: Partition | None = None,
                depth: int = 0, started: float | None = None, on_stop: Callable | None = None,
                progress: bool = False):
    """The same level-synchronous search in this process (one partition); used for symmetry and checkpoints.

    ``part``/``depth`` resume a saved search; ``on_stop(part, depth)`` is called when a limit stops it
    between two states (where everything stored agrees), never after an exception cut a step short.
    """
    started = time.monotonic() if started is None else started
    deadline = started + time_limit if time_limit is not None else None
    findings = []
    if part is None:
        part = Partition(model, canon, progress=Progress(enabled=progress))
        f = part.seed()
        findings = [f] if f else []
        part.advance()
    part.depth = depth  # from here the partition counts the levels
    stopped_by, consistent = None, True
    collecting = gc.isenabled()
    gc.disable()  # acyclic states: see _worker
    try:
        while not findings and (part.frontier or part.next):
            if max_depth is not None and part.depth >= max_depth:
                stopped_by = "max-depth" if part.has_successors() else None
                break
            finding, stopped = part.expand(deadline)
            if finding:
                findings.append(finding)
                break
            if stopped:
                stopped_by = stopped
                break
            part.advance()
            if max_states is not None and part.frontier and len(part.store) >= max_states:
                stopped_by = "max-states"
                break
    except STOPS as exc:  # Ctrl-C, SIGTERM, the watchdog, memory: what was searched so far is the result
        stopped_by, consistent = interrupted_by(exc), False
        findings = []
    finally:
        if collecting:
            resume_collection()  # without walking every state the search made (``collector.py``)
        if part.progress is not None:
            part.progress.close()
    if stopped_by not in (None, "max-depth") and consistent and on_stop is not None:
        on_stop(part, part.depth)
    # the level being expanded when a violation was met, as in the single-process search (not its trace's length)
    violation = violation_for(model, pick(findings), part.store.link, canon) if findings else None
    return finish(model, status_hint=stopped_by, violation=violation, distinct=len(part.store),
                  generated=part.generated, depth=part.depth, seconds=time.monotonic() - started,
                  witnessed=part.checks.witnessed, workers=1, symmetry=canon is not None, reduction=reduction)
