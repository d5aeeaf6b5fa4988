"""Is a recorded history linearizable? Wing & Gong's search, made practical as Lowe did.

The search walks the history's call/return entries, kept in time order in a doubly linked
list. An operation may be linearized next only if its call comes before every remaining
return (just-in-time linearization); linearizing it *lifts* its call and return out of the
list, backtracking *unlifts* them. Reaching a return means that operation was not
linearized in time: backtrack. Configurations (linearized set as an int bitset, model
state) already explored are skipped (Lowe's memoisation), which makes ordinary histories
near-linear. A ``kv`` history is checked one key at a time (linearizability is local).

When a history is not linearizable we report, as Knossos does, the longest linearizable
prefix and the operation that cannot be linearized, plus a minimal inconsistent subset of
operations (see ``_minimize`` for what "minimal" means and why).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import attrs

from consensuslab.histories.history import Model, Operation, canonical, get_model, parse_history, partition

# How an operation takes part in a search.
EXACT = 0     # completed ok: took effect once, between its invoke and its completion
OPTIONAL = 1  # took effect once within [invoke, complete], or not at all; complete=INF if unknown

READ, WRITE, CAS = 0, 1, 2
NULL = 0  # value id of JSON null: every register and key starts there
INF = float("inf")

Entry = tuple[Any, int, float, int]  # (payload, invoke, complete, mode)


class OutOfTime(Exception):
    """A search passed its deadline, or another limit (``reason``: ``time-limit``, ``memory-limit``)."""

    def __init__(self, reason: str = "time-limit"):
        super().__init__(reason)
        self.reason = reason


#: configurations added between two readings of ``limit`` (memory grows with them)
LIMIT_EVERY = 0x3FFF


def register_step(state: int, op: tuple[int, int, int]) -> int | None:
    """Register semantics on interned values; None when the op is not enabled in ``state``."""
    kind, a, b = op
    if kind == WRITE:
        return a
    return b if state == a else None  # a read is (READ, v, v): enabled iff the register holds v


def search(init: Any, step: Callable[[Any, Any], Any], entries: Sequence[Entry],
           pure: Callable[[Any], bool] = lambda payload: False, deadline: float = INF,
           limit: Callable[[], str | None] | None = None) -> tuple[bool, int]:
    """Decide whether ``entries`` linearize; returns (ok, the latest return the search got stuck at).

    That latest return is the completion event of the operation that cannot be linearized:
    every configuration stuck there linearized all operations that completed before it.
    An OPTIONAL op whose return is reached unlinearized is dropped (it did not happen).
    A ``pure`` op (one that never changes the state, e.g. a read) that is enabled is
    linearized at once without trying the alternatives: any linearization that places it
    later still works with it moved here, so delaying it can only repeat work.
    Raises ``OutOfTime`` once ``time.perf_counter()`` passes ``deadline``, or once ``limit()``
    (read every ``LIMIT_EVERY`` configurations stored: memory grows with them) names a limit.

    The hot loop of the linearizability check, one function so that its names stay local
    (measured with cProfile over ``benchmarks/bench_linearizability.py``: 23% of the run in
    its own lines, the largest share of any function).
    """
    n = len(entries)
    head = 2 * n  # entry e < n is the call of op e; n + e is its return
    timeline = sorted([(inv, e) for e, (_, inv, _, _) in enumerate(entries)]
                      + [(end, n + e) for e, (_, _, end, _) in enumerate(entries) if end != INF])
    nxt, prv = [-1] * (2 * n + 1), [-1] * (2 * n + 1)
    last = head
    for _, e in timeline:
        nxt[last], prv[e], last = e, last, e
    payload = [p for p, _, _, _ in entries]
    exact = [m == EXACT for _, _, _, m in entries]
    ends = [end for _, _, end, _ in entries]
    eager = [m == EXACT and pure(p) for p, _, _, m in entries]
    remaining = exact.count(True)
    if remaining == 0:
        return True, -1
    state, lin, stuck = init, 0, -1
    seen = {(0, init)}
    stack: list[tuple[int, Any, int, bool]] = []  # (op, state before, bits before, forced?)
    e = nxt[head]
    ticks = 0
    while True:
        if e < n:  # a call: try to linearize op e now
            o, new = e, step(state, payload[e])
            forced = eager[o] and new is not None
        else:  # a return: op e - n was not linearized in time; drop it if it is optional
            o, forced = e - n, True
            if exact[o]:
                new, stuck = None, max(stuck, ends[o])
            else:
                new = state
        if new is not None and (lin | (1 << o), new) not in seen:
            bits = lin | (1 << o)
            seen.add((bits, new))
            if not len(seen) & LIMIT_EVERY:
                if time.perf_counter() > deadline:
                    raise OutOfTime
                reason = limit() if limit is not None else None
                if reason:
                    raise OutOfTime(reason)
            stack.append((o, state, lin, forced))
            p, q = prv[o], nxt[o]  # lift the call and the return out of the list
            nxt[p] = q
            if q >= 0:
                prv[q] = p
            if ends[o] != INF:
                r = n + o
                p, q = prv[r], nxt[r]
                nxt[p] = q
                if q >= 0:
                    prv[q] = p
            if exact[o]:
                remaining -= 1
                if remaining == 0:
                    return True, stuck
            state, lin = new, bits
            e = nxt[head]
            continue
        if not forced:  # try the next call
            e = nxt[e]
            continue
        ticks += 1
        if not ticks & 0xFFF and time.perf_counter() > deadline:
            raise OutOfTime
        while True:  # backtrack: undo the last move, and keep undoing forced ones
            if not stack:
                return False, stuck
            o, state, lin, forced = stack.pop()
            if exact[o]:
                remaining += 1
            if ends[o] != INF:
                r = n + o
                nxt[prv[r]] = r
                if nxt[r] >= 0:
                    prv[nxt[r]] = r
            nxt[prv[o]] = o
            if nxt[o] >= 0:
                prv[nxt[o]] = o
            if not forced:
                break
        e = nxt[o]


def _pure(payload: tuple[int, int, int]) -> bool:
    kind, a, b = payload
    return kind != WRITE and a == b  # a read, or a cas that writes back what it compared


class _Values:
    """Interns JSON values to small ints, so states hash and compare fast and ``1 != 1.0 != true``."""

    def __init__(self):
        self._ids: dict[Any, int] = {}
        assert self.id(None) == NULL

    def id(self, value: Any) -> int:
        key = value if type(value) in (int, str) else ("json", canonical(value))
        return self._ids.setdefault(key, len(self._ids))

    def payload(self, op: Operation) -> tuple[int, int, int]:
        if op.f == "cas":
            return CAS, self.id(op.value[0]), self.id(op.value[1])
        v = self.id(op.value)
        return (READ if op.f == "read" else WRITE), v, v


def _entries(ops: Sequence[Operation], payloads: Mapping[int, Any], cut: float = INF,
             exact: set[int] | None = None) -> list[Entry]:
    """The search input for ``ops`` as seen at event ``cut`` (the history truncated after it).

    ``fail`` ops did not happen; an unknown read constrains nothing, so it is dropped; an op
    still open at ``cut`` is OPTIONAL from its invoke on. Completed ok ops are EXACT, or,
    when ``exact`` is given and excludes them, OPTIONAL within their interval.
    """
    out: list[Entry] = []
    for op in ops:
        if op.status == "fail" or op.invoke > cut:
            continue
        done = op.status == "ok" and op.complete <= cut
        p = payloads[op.index]
        if done and (exact is None or op.index in exact):
            out.append((p, op.invoke, op.complete, EXACT))
        elif op.f != "read":
            out.append((p, op.invoke, op.complete if done else INF, OPTIONAL))
    return out


@attrs.frozen
class Verdict:
    """The answer, with what Knossos reports when it is no.

    ``prefix_operations``: the first that many operations (in invocation order) are
    linearizable; the history up to event ``prefix_events`` is, and ``blocked``'s completion
    (that event) is where it stops being so. ``witness`` is a minimal inconsistent subset of
    ``key``'s operations; ``witness_minimal`` is False if minimising ran out of time.
    """

    linearizable: bool
    model: str
    operations: int
    key: Any = None
    witness: tuple[Operation, ...] = ()
    witness_minimal: bool = False
    witness_seconds: float = 0.0
    prefix_operations: int | None = None
    prefix_events: int | None = None
    blocked: Operation | None = None
    #: the limit that stopped the decision (``time-limit``, ``memory-limit``): the answer is then unknown
    undecided: str | None = None
    checked_keys: int = 0

    @property
    def status(self) -> str:
        if self.undecided:
            return "unknown"
        return "ok" if self.linearizable else "violation"


def operations_of(history: Sequence[Operation | Mapping], model: str | Model) -> tuple[Operation, ...]:
    """Accept parsed operations (e.g. a model's ghost history) or raw Jepsen-style events."""
    if all(isinstance(op, Operation) for op in history):
        if len({op.index for op in history}) != len(history):
            raise ValueError("operations must have distinct indices")
        if any(op.complete is None and op.status != "info" for op in history):
            raise ValueError("an operation without a completion must have status 'info'")
        return tuple(sorted(history, key=lambda op: op.invoke))
    return parse_history(list(history), model)


def is_linearizable(history: Sequence[Operation | Mapping], model: str | Model = "register",
                    *, decompose: bool = True) -> bool:
    """Just the verdict. ``decompose=False`` searches a ``kv`` history whole (for cross-checking)."""
    model = get_model(model)
    ops = operations_of(history, model)
    values = _Values()
    payloads = {op.index: values.payload(op) for op in ops}
    if model.keyed and not decompose:
        slots = {k: i for i, (k, _) in enumerate(partition(ops, model))}
        slots = {canonical(k): i for k, i in slots.items()}
        keyed = {op.index: (slots[canonical(op.key)], payloads[op.index]) for op in ops}
        return search((NULL,) * len(slots), _kv_step, _entries(ops, keyed))[0]
    return all(search(NULL, register_step, _entries(part, payloads), _pure)[0] for _, part in partition(ops, model))


def _kv_step(state: tuple[int, ...], op: tuple[int, tuple[int, int, int]]) -> tuple[int, ...] | None:
    slot, reg = op
    new = register_step(state[slot], reg)
    return None if new is None else state[:slot] + (new,) + state[slot + 1:]


def check(history: Sequence[Operation | Mapping], model: str | Model = "register",
          *, minimize_seconds: float = 10.0, time_limit: float | None = None,
          limit: Callable[[], str | None] | None = None) -> Verdict:
    """Decide linearizability; on a violation also find the prefix, the blocked op and a witness.

    Within ``time_limit`` seconds and whatever ``limit()`` says (the command's memory budget): a
    decision cut short is ``unknown`` (``undecided`` names the limit), never a guess; a witness
    cut short is reported unproven.
    """
    model = get_model(model)
    ops = operations_of(history, model)
    values = _Values()
    payloads = {op.index: values.payload(op) for op in ops}
    deadline = INF if time_limit is None else time.perf_counter() + time_limit
    failures, parts = [], partition(ops, model)
    for order, (key, part) in enumerate(parts):
        try:
            ok, stuck = search(NULL, register_step, _entries(part, payloads), _pure, deadline, limit)
        except OutOfTime as exc:
            return Verdict(False, model.name, len(ops), undecided=exc.reason, checked_keys=order)
        if not ok:
            failures.append((stuck, order, key, part))
    if not failures:
        return Verdict(True, model.name, len(ops), checked_keys=len(parts))
    cut, _, key, part = min(failures, key=lambda f: f[:2])  # the earliest violation
    blocked = next(op for op in part if op.complete == cut)
    started = time.perf_counter()
    witness, minimal = _minimize(part, payloads, cut, min(started + minimize_seconds, deadline), limit)
    return Verdict(False, model.name, len(ops), key=key, witness=witness, witness_minimal=minimal,
                   witness_seconds=time.perf_counter() - started,
                   prefix_operations=sum(1 for op in ops if op.invoke < cut), prefix_events=cut,
                   blocked=blocked, checked_keys=len(parts))


def _minimize(part: Sequence[Operation], payloads: Mapping[int, Any], cut: int,
              deadline: float, limit=None) -> tuple[tuple[Operation, ...], bool]:
    """A minimal set S of ops completed by ``cut`` that cannot be linearized, whichever others happened.

    S is checked exactly while every other op is made OPTIONAL: it took effect within its
    interval, or not at all. Simply *deleting* the others would be useless: without its
    write, any read of a written value is inconsistent on its own. Relaxing is monotone (a
    superset of an inconsistent S is inconsistent), so growing S one necessary op at a time,
    each found by galloping then bisecting over the candidates latest-first (violations are
    usually recent), ends with an S from which removing any op makes the history
    linearizable. Up to event ``cut`` is equivalent to the whole history, as S ends by then.
    """
    def fails(exact: list[Operation]) -> bool:
        entries = _entries(part, payloads, cut, {op.index for op in exact})
        return not search(NULL, register_step, entries, _pure, deadline, limit)[0]

    pool = [op for op in reversed(part) if op.status == "ok" and op.complete <= cut]
    needed: list[Operation] = []
    try:
        if fails(pool):  # it does, unless the search is wrong: then say so rather than guess
            return _grow(needed, pool, fails), True
    except OutOfTime:  # ``needed + pool`` still fails: report it, unproven
        pass
    return tuple(sorted(needed + pool, key=lambda op: op.index)), False


def _grow(needed: list[Operation], pool: list[Operation], fails) -> tuple[Operation, ...]:
    """Move ops from ``pool`` to ``needed`` (in place) until ``needed`` is a minimal failing set."""
    while not fails(needed):
        lo, hi = 0, 1  # invariant: fails(needed + pool[:hi]), not fails(needed + pool[:lo])
        while hi < len(pool) and not fails(needed + pool[:hi]):
            lo, hi = hi, min(2 * hi, len(pool))
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if fails(needed + pool[:mid]):
                hi = mid
            else:
                lo = mid
        needed.append(pool[hi - 1])
        del pool[hi - 1:]
        if not pool:  # then fails(needed), by the invariant
            break
    return tuple(sorted(needed, key=lambda op: op.index))
