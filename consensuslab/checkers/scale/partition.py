"""The pieces every partitioned search shares: a partition's store, fingerprints, trace rebuild.

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

import hashlib
from array import array
from typing import Any, Callable

from consensuslab.checkers.search import ending
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
    """A search's seen-set (fingerprints only) and parent links; a state's gid is its position."""

    def __init__(self):
        self.seen: set[int] = set()
        self.parents = array("q")
        self.ks = array("l")

    def __len__(self) -> int:
        return len(self.parents)

    def add(self, fp: int, parent: int, k: int) -> int | None:
        """The new state's gid, or None when ``fp`` was seen before."""
        if fp in self.seen:
            return None
        self.seen.add(fp)
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
        act, nxt = model.successors(rep)[k]
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
                if not inv(view):
                    return ("invariant", self.model.first_broken_invariant(state).name, gid)
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
