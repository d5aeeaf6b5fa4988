"""A walk through a model's state space by hand: what both explorers (terminal and browser) share.

A path is the initial state chosen and the actions taken, each replayed by
value on the model (``Model.successors`` is the one source of truth), so a
path written as action labels (``RMPrepare(r2)``) reproduces the same states
anywhere: that is what the browser explorer's links hold.  Actions get numbers
the first time they are offered and keep them for the session, so ``[5]`` means
``RMPrepare(r2)`` in every state where it is enabled.
"""

from __future__ import annotations

import random
from typing import Any

from consensuslab.errors import UsageError
from consensuslab.models.properties import ALWAYS, ALWAYS_STEP, SOMETIMES
from consensuslab.traces.itf import trace_document
from consensuslab.traces.result import Trace, Violation


class Exploration:
    """The path walked so far, a redo list, stable action numbers, and optionally a trace to follow."""

    def __init__(self, model, trace: Trace | None = None, seed: int = 0, numbers: dict | None = None,
                 cache: dict | None = None):
        """``numbers`` and ``cache`` (successors per state) may be shared by walks of one server."""
        self.model = model
        self.trace = trace
        self.inits = model.initial_states()
        if not self.inits:
            raise UsageError(f"{model.protocol} has no initial state")
        self.path: list[tuple[Any, Any]] = []  # (action or None for the initial state, state)
        self.redo: list[tuple[Any, Any]] = []
        self.numbers: dict[Any, int] = {} if numbers is None else numbers
        self.rng = random.Random(seed)
        self._succ: dict[Any, list] = {} if cache is None else cache
        if trace is not None:
            self.path = [(None, trace.initial)]
        elif len(self.inits) == 1:
            self.path = [(None, self.inits[0])]

    # -- where we are ----------------------------------------------------------------
    @property
    def state(self):
        return self.path[-1][1] if self.path else None

    @property
    def step(self) -> int:
        return len(self.path) - 1

    def successors(self, state) -> list:
        got = self._succ.get(state)
        if got is None:
            if len(self._succ) > 50_000:
                self._succ.clear()
            got = self._succ[state] = self.model.successors(state)
        return got

    def options(self) -> list[tuple[int, Any, Any]]:
        """(number, action, next state) for every action enabled here, by number."""
        if not self.path:
            return [(i, None, s) for i, s in enumerate(self.inits, start=1)]
        out = []
        for act, nxt in self.successors(self.state):
            if act not in self.numbers:
                self.numbers[act] = len(self.numbers) + 1
            out.append((self.numbers[act], act, nxt))
        return sorted(out, key=lambda o: o[0])

    # -- moving ----------------------------------------------------------------------------
    def take(self, number: int) -> None:
        for n, act, nxt in self.options():
            if n == number:
                self.path.append((act, nxt))
                self.redo.clear()
                return
        valid = ", ".join(str(n) for n, _, _ in self.options()) or "none"
        raise UsageError(f"no action {number} here; enabled: {valid}")

    def back(self) -> bool:
        if not self.path or (len(self.path) == 1 and len(self.inits) == 1 and self.trace is None):
            return False
        self.redo.append(self.path.pop())
        return True

    def forward(self) -> bool:
        if not self.redo:
            return False
        self.path.append(self.redo.pop())
        return True

    def random_steps(self, count: int) -> int:
        """Take up to ``count`` random enabled actions; the number taken (fewer at a dead end)."""
        taken = 0
        for _ in range(count):
            opts = self.options()
            if not opts:
                break
            n = self.rng.choice(opts)[0]
            self.path.append(next((a, s) for m, a, s in opts if m == n))
            taken += 1
        self.redo.clear()
        return taken

    def jump(self, n: int) -> None:
        """Go to step ``n`` of the loaded trace (its real, replayed states)."""
        if self.trace is None:
            raise UsageError("no trace loaded: start with --trace FILE")
        if not 0 <= n <= len(self.trace):
            raise UsageError(f"the trace has steps 0..{len(self.trace)}")
        self.path = list(zip([None] + self.trace.actions[:n], self.trace.states[: n + 1]))
        self.redo.clear()

    def trace_next(self):
        """The loaded trace's next action, while the path follows the trace."""
        k = self.step
        if self.trace is None or k < 0 or k >= len(self.trace) or self.state != self.trace.states[k]:
            return None
        return self.trace.steps[k][0]

    # -- paths as labels (links) --------------------------------------------------------
    def labels(self) -> tuple[int, list[str]]:
        """The path as (initial state number, action labels)."""
        init = next((i for i, s in enumerate(self.inits) if self.path and s == self.path[0][1]), 0)
        return init, [str(a) for a, _ in self.path[1:]]

    def follow(self, init: int, labels: list[str]) -> None:
        """Rebuild the path from an initial state number and action labels (as ``labels`` gives)."""
        if not 0 <= init < len(self.inits):
            raise UsageError(f"initial state {init} does not exist; there are {len(self.inits)}")
        path = [(None, self.inits[init])]
        for k, label in enumerate(labels, start=1):
            nxt = next(((a, s) for a, s in self.successors(path[-1][1]) if str(a) == label), None)
            if nxt is None:
                raise UsageError(f"step {k}: {label!r} is not enabled after step {k - 1}")
            path.append(nxt)
        self.path, self.redo = path, []

    # -- properties ------------------------------------------------------------------------
    def properties(self) -> list[tuple[str, str, str]]:
        """(name, kind, verdict here) for every property: holds | VIOLATED | witnessed | not here | ..."""
        model, state, out = self.model, self.state, []
        for p in model.properties:
            if p.kind == ALWAYS:
                out.append((p.name, p.kind, "holds" if model.holds(p, state) else "VIOLATED"))
            elif p.kind == ALWAYS_STEP:
                if self.step < 1:
                    out.append((p.name, p.kind, "no step yet"))
                else:
                    before, (act, after) = self.path[-2][1], self.path[-1]
                    out.append((p.name, p.kind, "holds" if model.step_holds(p, before, act, after) else "VIOLATED"))
            elif p.kind == SOMETIMES:
                out.append((p.name, p.kind, "witnessed here" if model.holds(p, state) else "not here"))
            else:
                out.append((p.name, p.kind, "a property of whole behaviours: `check` decides it"))
        return out

    def violation(self) -> Violation | None:
        """What fails at the end of the path, as ``check`` would report it (None: nothing)."""
        if not self.path:
            return None
        trace = self.as_trace()
        for name, kind, verdict in self.properties():
            if verdict == "VIOLATED" and kind == ALWAYS_STEP:
                return Violation(name, "transition", trace)
        for name, kind, verdict in self.properties():
            if verdict == "VIOLATED":
                return Violation(name, "invariant", trace)
        model = self.model
        if model.check_deadlock and not self.successors(self.state) and not model.is_done(self.state):
            return Violation("deadlock", "deadlock", trace)
        return None

    def as_trace(self) -> Trace:
        trace = Trace(self.path[0][1])
        trace.steps = list(self.path[1:])
        return trace

    def document(self) -> dict:
        """The path as an ITF document; with the violation it ends in, ``consensuslab replay`` confirms it."""
        v = self.violation()
        status = "path" if v is None else "deadlock" if v.kind == "deadlock" else "violation"
        return trace_document(self.model, self.as_trace(), v, status)
