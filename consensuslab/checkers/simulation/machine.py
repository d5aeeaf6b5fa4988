"""The Hypothesis bridge: ``as_state_machine(model)`` derives a ``RuleBasedStateMachine`` at runtime.

One rule per action kind (so Hypothesis's per-run rule switching turns whole
fault classes on and off), each drawing an action *value* from the sorted
enabled actions of that kind; one ``@invariant`` per ``always`` property;
``always_step`` properties checked on every transition.  ``model.successors``
is the only semantics used, cached per state (``successors.py``).

A state with no enabled action stutters (a no-op rule) instead of ending the
example: Hypothesis treats "no rule enabled" as a broken machine.  Such a state
is a deadlock only when the model checks deadlocks and the state is not done.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from typing import Any, Callable

import attrs
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from consensuslab.checkers.simulation.successors import CACHE_LIMIT, Successors, declared_names, ident, model_kinds
from consensuslab.models.model import Model
from consensuslab.traces.result import Trace, Violation


class PropertyViolation(AssertionError):
    """Raised inside the machine; carries actions as values so the trace is rebuilt by ``apply``."""

    def __init__(self, model: Model, initial, actions: list, prop: str, kind: str, message: str = "",
                 describe: Callable | None = None):
        super().__init__(f"{prop} ({kind})")
        self.model, self.initial, self.actions = model, initial, list(actions)
        self.prop, self.kind, self.message = prop, kind, message
        self.describe = describe  # renders (model, trace, violation) in a failure report
        self._violation: Violation | None = None

    @property
    def violation(self) -> Violation:
        if self._violation is None:
            trace = Trace(self.initial)
            state = self.initial
            for act in self.actions:
                state = self.model.apply(state, act)
                trace.steps.append((act, state))
            self._violation = Violation(self.prop, self.kind, trace, message=self.message)
        return self._violation

    def __str__(self) -> str:  # rendered lazily: shrinking raises this thousands of times
        head = f"{self.prop} ({self.kind}) after {len(self.actions)} steps"
        if self.describe is None:
            return head
        return head + ":\n" + self.describe(self.model, self.violation.trace, self.violation)


@attrs.define
class Coverage:
    """What the runs did; shared by every machine instance built from one ``as_state_machine`` call."""

    examples: int = 0
    walks: int = 0  # examples run as plain random walks (``random_walks``)
    steps: int = 0
    kinds: Counter = attrs.field(factory=Counter)
    names: Counter = attrs.field(factory=Counter)
    seen: set = attrs.field(factory=set)  # the distinct states reached (never hash(): hash(-1) == hash(-2))
    depth: int = 0
    first_failure_example: int | None = None
    first_failure_length: int | None = None
    first_failure_seconds: float | None = None
    started: float = 0.0


class ModelMachine(RuleBasedStateMachine):
    """The machine every model's is derived from; ``as_state_machine`` sets the class attributes."""

    _model: Model
    _coverage: Coverage
    _successors: Successors
    _on_state: Callable[[Any], None] | None = None
    _describe: Callable | None = None

    def __init__(self):
        super().__init__()
        self.initial = self.state = None
        self.actions: list = []
        self.enabled: dict[str, dict] = {}
        self.checked: dict[str, Any] = {}
        self.muted: frozenset = frozenset()
        self._coverage.examples += 1

    def fail(self, prop: str, kind: str, message: str = ""):
        cov = self._coverage
        if cov.first_failure_example is None:
            cov.first_failure_example, cov.first_failure_length = cov.examples, len(self.actions)
            cov.first_failure_seconds = time.monotonic() - cov.started
        raise PropertyViolation(self._model, self.initial, self.actions, prop, kind, message, self._describe)

    def enter(self, state) -> None:
        self.state = state
        self.enabled = self._successors(state).enabled
        self._coverage.seen.add(state)
        if self._on_state is not None:
            self._on_state(state)
        model = self._model
        if not self.enabled and model.check_deadlock and not model.is_done(state):
            self.fail("deadlock", "deadlock", "no action is enabled")

    def begin(self, s0, muted) -> None:
        # Swarm testing (Groce et al.) below the level of rules: each example mutes a
        # random subset of action names, used only while something unmuted is enabled.
        # A run without TMAbort, say, reaches the deep commits a uniform walk rarely does.
        self.muted = muted
        self.initial = s0
        self.enter(s0)

    def take(self, kind: str, data) -> None:
        by_name = self.enabled[kind]
        # Draw the action's name first, then its arguments: otherwise an action with
        # many argument combinations (deliveries of many messages) crowds out the
        # rare ones a bug needs (a commit step, a timeout).
        names = list(by_name)
        if len(names) > 1 and self.muted:
            names = [n for n in names if n not in self.muted] or names
        name = names[0] if len(names) == 1 else data.draw(st.sampled_from(names), label=kind)
        edges = by_name[name]
        act = data.draw(st.sampled_from([e.action for e in edges]), label=name)
        edge = next(e for e in edges if e.action is act)
        self.actions.append(act)
        cov = self._coverage
        cov.steps += 1
        cov.kinds[kind] += 1
        cov.names[act.name] += 1
        cov.depth = max(cov.depth, len(self.actions))
        for prop in self._model.step_properties:
            if not self._model.step_holds(prop, self.state, act, edge.state):
                self.fail(prop.name, "transition")
        self.enter(edge.state)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(after {len(self.actions)} steps)"


def _kind_rule(kind: str):
    """One rule per action kind, enabled while some action of that kind is."""
    def enabled(self) -> bool:
        return kind in self.enabled

    enabled.__name__ = f"{kind}_enabled"

    def fire(self, data):
        self.take(kind, data)

    fire.__name__ = ident(kind)
    return precondition(enabled)(rule(data=st.data())(fire))


def _invariant_rule(model: Model, prop):
    def check(self):
        if self.checked.get(prop.name) is self.state:
            return  # stutter steps re-run invariants on the same state
        self.checked[prop.name] = self.state
        if not model.holds(prop, self.state):
            self.fail(prop.name, "invariant")

    check.__name__ = "always_" + ident(prop.name)
    return invariant()(check)


def _start(self, s0, muted) -> None:
    self.begin(s0, muted)


def _terminal(self) -> bool:
    return not self.enabled


def stutter(self):
    """A final state repeats itself, as in TLA+; Hypothesis needs some rule to be enabled."""


def as_state_machine(model: Model, *, on_state: Callable[[Any], None] | None = None,
                     coverage: Coverage | None = None, kinds: tuple[str, ...] | None = None,
                     cache_limit: int = CACHE_LIMIT, successors: Successors | None = None,
                     describe: Callable | None = None) -> type[RuleBasedStateMachine]:
    """A ``RuleBasedStateMachine`` subclass exploring ``model``; ``on_state`` sees every state reached.

    ``describe(model, trace, violation)`` renders a failure in the report Hypothesis prints.
    """
    initials = list(model.initial_states())
    all_names = declared_names(model) or ["-"]
    start = initialize(s0=st.sampled_from(initials), muted=st.frozensets(st.sampled_from(all_names)))
    ns: dict[str, Any] = {
        "_model": model, "_coverage": coverage if coverage is not None else Coverage(),
        "_successors": successors if successors is not None else Successors(model, cache_limit),
        "_on_state": staticmethod(on_state) if on_state is not None else None,
        "_describe": staticmethod(describe) if describe is not None else None,
        "start": start(_start),
        "stutter": precondition(_terminal)(rule()(stutter)),
    }
    for kind in kinds or model_kinds(model):
        ns["rule_" + ident(kind)] = _kind_rule(kind)
    for prop in model.invariants:
        ns["always_" + ident(prop.name)] = _invariant_rule(model, prop)
    name = "".join(p.capitalize() for p in re.split(r"\W+", model.protocol) if p) + "Machine"
    return type(name, (ModelMachine,), ns)
