"""A forked helper process for the level search, so ``--workers`` also splits the memo's Python work.

Why: tracing a spec's invariant conjuncts and witnesses on the keys the memo
has not seen is Python, so it holds the GIL and the level search's worker
threads cannot share it; on two-phase rm=9 it was the largest part of the
search that ran on one core (0.27 s of a 1.85 s run with two workers).  With
``--workers`` of 2 or more, a helper process computes the later part of each
large batch of traces while this process computes the earlier part and takes
every answer in.  It also computes the model's side of the audits (the
successors of audited states from the spec itself), which this process
compares with the memo's when it reads the answer.

The results are only *computed* ahead, never stored: ``Unit.learn`` takes
them in the same order, and with the same key widening, as a search without
the helper would (``Unit.prepared``), so the memo, the counts and the
counterexamples are the same for any number of workers.  A trace that would
number a new value (which would change the packing's numbering) is undone
and left to be traced in order here, as is any trace that raises.
"""

from __future__ import annotations

import gc
import multiprocessing as mp
import signal
import warnings
from collections import deque

from consensuslab.checkers.compiled.audit import expected_steps
from consensuslab.checkers.compiled.direct import failing_states
from consensuslab.checkers.compiled.packing import Layout

#: property traces a batch needs before part of it is sent to the helper
MIN_SHARED = 512
#: the share of a batch's states traced here: this process also takes every answer in, in order
HERE_SHARE = 0.4
#: states per chunk of answers the helper sends back
CHUNK = 256
#: audited states worth starting the helper for (once started, it takes every level's audit)
MIN_AUDIT = 64
#: states of a level worth sharing the pieces called directly for (``direct.py``)
MIN_DIRECT = 2048
#: the share of those states judged here (this process also reads the answer)
DIRECT_HERE_SHARE = 0.5


def quietly(layout: Layout, computation):
    """``computation()``, or None when it raised or numbered a new value (both undone)."""
    numbered = layout.numbered
    mark = len(numbered)
    try:
        found = computation()
    except Exception:
        found = None
    if len(numbered) != mark:
        layout.forget_since(mark)
        found = None
    return found


def compute_quietly(unit, packed: int, key: int | None = None):
    """``unit.compute(packed)``, quietly (see ``quietly``); a trace through a filter is left to the parent, which
    must subscribe the unit to the elements numbered later (``subscriptions.Subscriptions``)."""
    found = quietly(unit.layout, lambda: unit.compute(packed, key))
    return None if unit.filtered else found


def compute_all(units: list, masks: list[int], states: list[int], done: list | None = None):
    """Every unit's trace on every state, once per unit key: ``[(unit index, state, (answer, reads))]``."""
    found = []
    done = [set() for _ in units] if done is None else done
    for s in states:
        for k, u in enumerate(units):
            key = s & masks[k]
            if key in done[k]:
                continue
            done[k].add(key)
            result = compute_quietly(u, s, masks[k])
            if result is not None:
                found.append((k, s, result))
    return found


def expected_quietly(model, layout: Layout, packed: int):
    """``expected_steps`` of a state, quietly (see ``quietly``)."""
    return quietly(layout, lambda: expected_steps(model, layout, packed))


def _serve(conn, units: list, layout: Layout, model) -> None:
    """The helper's loop: take the parent's newly numbered values, then compute what is asked.

    Traces go back a chunk at a time, so the parent takes in the first chunks
    while the helper computes the rest; an audit goes back in one answer.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and stops us
    gc.disable()
    for u in units:
        u.shared = None  # a trace that numbers values is undone here (``quietly``): its view must not serve again
    try:
        while True:
            message = conn.recv()
            if message is None:
                return
            kind, numbered, *rest = message
            for leaf, values in numbered:
                interner = layout.leaves()[leaf].interner
                for value in values:
                    interner.id(value)
            if kind == "direct":
                which, states = rest
                conn.send(failing_states([units[k] for k in which], layout.decode, states))
            elif kind == "trace":
                which, masks, chunks = rest
                mine = [units[k] for k in which]
                done: list = [set() for _ in mine]
                for chunk in chunks:
                    conn.send(compute_all(mine, masks, chunk, done))
            else:
                conn.send([expected_quietly(model, layout, s) for s in rest[0]])
    except (EOFError, OSError):
        return


class TraceHelper:
    """One forked process computing property traces and audits for the level search.

    Forked at the first batch worth sharing, not before: the first levels of
    a search trace little, and a layout that widens restarts the search
    (each restart would otherwise fork a helper for nothing).  Answers are
    read in the order they were asked for; ``waiting`` holds what to do with
    each answer not read yet (called with None when the helper is gone).
    """

    def __init__(self, units: list, layout: Layout, model):
        self.units = units
        self.index = {id(u): k for k, u in enumerate(units)}
        self.layout, self.model = layout, model
        self.proc = self.conn = None
        self.usable = "fork" in mp.get_all_start_methods()
        self.waiting: deque = deque()

    def knows(self, group) -> bool:
        """Whether the helper has every unit of ``group`` (rows added after it forked are traced here)."""
        return all(id(u) in self.index for u in group.units)

    def _started(self) -> bool:
        if self.proc is None and self.usable:
            try:
                ctx = mp.get_context("fork")
                self.conn, theirs = ctx.Pipe()
                with warnings.catch_warnings():  # idle threads (numpy's BLAS, the level workers): fork is safe
                    warnings.simplefilter("ignore", DeprecationWarning)
                    self.proc = ctx.Process(target=_serve, args=(theirs, self.units, self.layout, self.model),
                                            daemon=True)
                    self.proc.start()
                theirs.close()
                self.synced = list(self.layout.interned())
            except OSError:
                self.proc, self.usable = None, False
        return self.proc is not None

    # -- traces ------------------------------------------------------------------------------------------
    def traced(self, group, states: list[int], evaluate) -> None:
        """``evaluate(s)`` for each of ``states`` in order, the traces they need computed ahead, partly in the helper.

        The helper takes the later states and sends their traces back a chunk
        at a time; this process computes the traces of the earlier states,
        takes them in, then takes in each chunk as it comes.  ``evaluate``
        returns False to stop (the group's key widened).
        """
        units = group.units
        split = len(states)
        if len(states) * len(units) >= MIN_SHARED and self._started():
            split = int(len(states) * HERE_SHARE)
        rest = states[split:]
        chunks = [rest[i:i + CHUNK] for i in range(0, len(rest), CHUNK)]

        def take(found) -> None:
            for k, s, result in found or ():
                units[k].prepared[s] = result

        handlers = [lambda found: take(found) for _ in chunks]  # one handler per chunk, told apart by identity
        if chunks and not self._ask(("trace", [self.index[id(u)] for u in units], [u.mask for u in units], chunks),
                                    handlers):
            chunks, split = [], len(states)
        take(compute_all(units, [u.mask for u in units], states[:split]))
        going = all(evaluate(s) for s in states[:split])
        for chunk, handler in zip(chunks, handlers):  # every chunk is read, even after a stop
            self._read_through(handler)  # (if the helper is gone, ``evaluate`` traces what it lacks here)
            going = going and all(evaluate(s) for s in chunk)

    # -- pieces called directly ---------------------------------------------------------------------------
    def direct(self, units: list, states: list[int], here) -> list[int]:
        """``here(states)`` (the states where a piece called directly fails), the later part computed by the
        helper meanwhile; the answer is the same either way, so the result does not depend on the workers."""
        if len(states) < MIN_DIRECT or not all(id(u) in self.index for u in units) or not self._started():
            return here(states)  # few states, or a unit made after the helper forked (a row added mid-search)
        split = int(len(states) * DIRECT_HERE_SHARE)
        answers: list = []
        handler = answers.append
        if not self._ask(("direct", [self.index[id(u)] for u in units], states[split:]), [handler]):
            return here(states)
        mine = here(states[:split])
        self._read_through(handler)
        theirs = answers[0] if answers and answers[0] is not None else here(states[split:])
        return mine + theirs

    # -- audits ------------------------------------------------------------------------------------------
    def audit(self, states: list[int], compiled: list, audited) -> bool:
        """Have the helper compute the model's own steps of ``states``; ``audited(s, compiled, expected)`` later.

        Returns False (nothing asked) when there is no helper, or when it has
        not started and the batch is too small to start it for.  The answer is
        read with the next one this process needs, or when the helper closes:
        an audit that fails then stops the search, before any result is given.
        """
        if (self.proc is None and len(states) < MIN_AUDIT) or not self._started():
            return False

        def compare(expected) -> None:
            for s, mine, theirs in zip(states, compiled, expected or [None] * len(states)):
                audited(s, mine, theirs if theirs is not None else self._expected_here(s))

        return self._ask(("audit", states), [compare])

    def _expected_here(self, s: int) -> list:
        return expected_steps(self.model, self.layout, s)

    # -- the pipe ----------------------------------------------------------------------------------------
    def _ask(self, request: tuple, handlers: list) -> bool:
        counts = self.layout.interned()
        leaves = self.layout.leaves()
        numbered = [(i, leaves[i].interner.values[self.synced[i]:n])
                    for i, n in enumerate(counts) if n > self.synced[i]]
        kind, *rest = request
        try:
            self.conn.send((kind, numbered, *rest))
        except Exception:  # a value that does not pickle, or the helper is gone: compute here from now on
            self.close(drain=True)
            return False
        self.synced = list(counts)
        self.waiting.extend(handlers)
        return True

    def _read_through(self, handler) -> None:
        """Read answers in order until ``handler`` has had its own."""
        while handler in self.waiting:
            first = self.waiting.popleft()
            found = None
            if self.proc is not None:
                try:
                    found = self.conn.recv()
                except (EOFError, OSError):
                    self._stop()
            first(found)

    def close(self, drain: bool = True) -> None:
        """Stop the helper; with ``drain``, first read (and act on) every answer still owed."""
        self.usable = False
        if drain:
            while self.waiting:
                self._read_through(self.waiting[-1])
        self.waiting.clear()
        self._stop()

    def _stop(self) -> None:
        if self.proc is None:
            return
        try:
            self.conn.send(None)
        except Exception:
            pass
        self.conn.close()
        self.proc.join(timeout=2)
        if self.proc.is_alive():
            self.proc.terminate()
        self.proc = None
