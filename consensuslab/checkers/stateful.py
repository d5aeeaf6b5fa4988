"""Deep random exploration of any ``Model`` with Hypothesis stateful testing, and shrinking.

``as_state_machine(model)`` derives a ``RuleBasedStateMachine`` at runtime:
one rule per action kind (so Hypothesis's per-run rule switching turns whole
fault classes on and off), each drawing an action *value* from the sorted
enabled actions of that kind; one ``@invariant`` per ``always`` property;
``always_step`` properties checked on every transition.  ``model.successors``
is the only semantics used, and its result is cached per state (within a step
and, bounded, across examples, since random runs revisit states constantly).

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
from hypothesis import HealthCheck, Phase, Verbosity, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine, initialize, invariant, precondition, rule, run_state_machine_as_test,
)

from consensuslab.checkers.result import CheckResult, Trace, Violation
from consensuslab.models.action import KINDS
from consensuslab.models.model import Model

DEFAULT_EXAMPLES = 1000
DEFAULT_STEPS = 50
CACHE_LIMIT = 200_000  # successor lists kept across examples before the cache is dropped


class PropertyViolation(AssertionError):
    """Raised inside the machine; carries actions as values so the trace is rebuilt by ``apply``."""

    def __init__(self, model: Model, initial, actions: list, prop: str, kind: str, message: str = ""):
        super().__init__(f"{prop} ({kind})")
        self.model, self.initial, self.actions = model, initial, list(actions)
        self.prop, self.kind, self.message = prop, kind, message
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
        from consensuslab.models.trace import render_text

        return f"{self.prop} ({self.kind}) after {len(self.actions)} steps:\n" + render_text(
            self.model, self.violation.trace, self.violation)


@attrs.define
class Coverage:
    """What the runs did; shared by every machine instance built from one ``as_state_machine`` call."""

    examples: int = 0
    steps: int = 0
    kinds: Counter = attrs.field(factory=Counter)
    names: Counter = attrs.field(factory=Counter)
    seen: set = attrs.field(factory=set)  # fingerprints of distinct states reached
    depth: int = 0
    first_failure_example: int | None = None
    first_failure_length: int | None = None
    first_failure_seconds: float | None = None
    started: float = 0.0


def declared_names(model: Model) -> list[str]:
    """Every handler or spec action the model could fire, for ``never_fired``.

    Uses ``model.action_names()`` when a model offers it; otherwise the spec
    action table or the actor handler tables (framework structure, no protocol code).
    """
    if hasattr(model, "action_names"):
        return sorted(model.action_names())
    if hasattr(model, "_table"):
        return sorted({row[0].name for row in model._table})
    names: set[str] = set()
    for table in ("handlers", "timer_handlers"):
        names.update(name for name, _ in getattr(model, table, {}).values())
    for steps in getattr(model, "locals_by_role", {}).values():
        names.update(row[0] for row in steps)
    return sorted(names)


def model_kinds(model: Model) -> tuple[str, ...]:
    """Action kinds a model can produce: a spec only ``step``; otherwise every kind."""
    if hasattr(model, "action_kinds"):
        return tuple(k for k in KINDS if k in set(model.action_kinds()))
    return ("step",) if hasattr(model, "_table") else KINDS


def _ident(name: str) -> str:
    return re.sub(r"\W", "_", name)


def as_state_machine(model: Model, *, on_state: Callable[[Any], None] | None = None,
                     coverage: Coverage | None = None, kinds: tuple[str, ...] | None = None,
                     cache_limit: int = CACHE_LIMIT) -> type[RuleBasedStateMachine]:
    """A ``RuleBasedStateMachine`` subclass exploring ``model``; ``on_state`` sees every state reached."""
    cov = coverage if coverage is not None else Coverage()
    cache: dict[Any, dict[str, list]] = {}
    initials = list(model.initial_states())
    step_props = list(model.step_properties)
    all_names = declared_names(model) or ["-"]
    check_deadlock = model.check_deadlock
    successors = model.successors

    def grouped(state) -> dict[str, list]:
        by_kind = cache.get(state)
        if by_kind is None:
            by_kind = {}
            for act, nxt in successors(state):
                by_kind.setdefault(act.kind, []).append((act, nxt))
            if len(cache) >= cache_limit:
                cache.clear()
            cache[state] = by_kind
        return by_kind

    class Machine(RuleBasedStateMachine):
        _model = model
        _coverage = cov

        def __init__(self):
            super().__init__()
            self.initial = self.state = None
            self.actions: list = []
            self.enabled: dict[str, list] = {}
            self.checked: dict[str, Any] = {}
            cov.examples += 1

        def fail(self, prop: str, kind: str, message: str = ""):
            if cov.first_failure_example is None:
                cov.first_failure_example, cov.first_failure_length = cov.examples, len(self.actions)
                cov.first_failure_seconds = time.monotonic() - cov.started
            raise PropertyViolation(model, self.initial, self.actions, prop, kind, message)

        def enter(self, state) -> None:
            self.state = state
            self.enabled = grouped(state)
            cov.seen.add(hash(state))
            if on_state is not None:
                on_state(state)
            if not self.enabled and check_deadlock and not model.is_done(state):
                self.fail("deadlock", "deadlock", "no action is enabled")

        @initialize(s0=st.sampled_from(initials), muted=st.frozensets(st.sampled_from(all_names)))
        def start(self, s0, muted):
            # Swarm testing (Groce et al.) below the level of rules: each example mutes a
            # random subset of action names, used only while something unmuted is enabled.
            # A run without TMAbort, say, reaches the deep commits a uniform walk rarely does.
            self.muted = muted
            self.initial = s0
            self.enter(s0)

        def take(self, kind: str, data) -> None:
            pairs = self.enabled[kind]
            # Draw the action's name first, then its arguments: otherwise an action with
            # many argument combinations (deliveries of many messages) crowds out the
            # rare ones a bug needs (a commit step, a timeout).
            names = sorted({a.name for a, _ in pairs})
            if len(names) > 1 and self.muted:
                names = [n for n in names if n not in self.muted] or names
            name = names[0] if len(names) == 1 else data.draw(st.sampled_from(names), label=kind)
            act = data.draw(st.sampled_from([a for a, _ in pairs if a.name == name]), label=name)
            nxt = next(n for a, n in pairs if a is act)
            self.actions.append(act)
            cov.steps += 1
            cov.kinds[kind] += 1
            cov.names[act.name] += 1
            if len(self.actions) > cov.depth:
                cov.depth = len(self.actions)
            before = self.state
            for prop in step_props:
                if not model.step_holds(prop, before, act, nxt):
                    self.fail(prop.name, "transition")
            self.enter(nxt)

        def __repr__(self) -> str:
            return f"{type(self).__name__}(after {len(self.actions)} steps)"

    def kind_rule(kind: str):
        def enabled(self) -> bool:
            return kind in self.enabled

        enabled.__name__ = f"{kind}_enabled"

        def fire(self, data):
            self.take(kind, data)

        fire.__name__ = _ident(kind)
        return precondition(enabled)(rule(data=st.data())(fire))

    def terminal(self) -> bool:
        return not self.enabled

    def stutter(self):
        """A final state repeats itself, as in TLA+; Hypothesis needs some rule to be enabled."""

    def inv_rule(prop):
        def check(self):
            if self.checked.get(prop.name) is self.state:
                return  # stutter steps re-run invariants on the same state
            self.checked[prop.name] = self.state
            if not model.holds(prop, self.state):
                self.fail(prop.name, "invariant")

        check.__name__ = "always_" + _ident(prop.name)
        return invariant()(check)

    ns: dict[str, Any] = {"stutter": precondition(terminal)(rule()(stutter))}
    for kind in kinds or model_kinds(model):
        ns["rule_" + _ident(kind)] = kind_rule(kind)
    for prop in model.invariants:
        ns["always_" + _ident(prop.name)] = inv_rule(prop)
    name = "".join(p.capitalize() for p in re.split(r"\W+", model.protocol) if p) + "Machine"
    return type(name, (Machine,), ns)


def _reproduces(model: Model, succ, initial, actions: list, target: tuple[str, str]) -> int | None:
    """Length of the prefix of ``actions`` that ends at the first violation, if that is ``target``.

    Checks in the machine's order (step properties, deadlock, invariants), so a
    candidate that trips a different property first is not mistaken for this bug.
    """
    name, kind = target
    prop = None if kind == "deadlock" else model.property_named(name)
    state = initial
    for i in range(len(actions) + 1):
        if i:
            act = actions[i - 1]
            nxt = succ(state).get(act)
            if nxt is None:
                return None
            if kind == "transition" and not model.step_holds(prop, state, act, nxt):
                return i
            if model.first_broken_step(state, act, nxt) is not None:
                return None
            state = nxt
        if model.check_deadlock and not succ(state) and not model.is_done(state):
            return i if kind == "deadlock" else None
        if kind == "invariant" and not model.holds(prop, state):
            return i
        if model.first_broken_invariant(state) is not None:
            return None
    return None


def shrink(model: Model, violation: Violation) -> Violation:
    """Delete runs of actions (largest first) while the same violation still happens first.

    Replays action values against cached successors: thousands of candidates per
    second, where Hypothesis's own shrinker re-runs the whole machine per candidate.
    """
    cache: dict[Any, dict] = {}

    def succ(state) -> dict:
        out = cache.get(state)
        if out is None:
            out = cache[state] = dict(model.successors(state))
        return out

    initial, actions = violation.trace.initial, violation.trace.actions
    target = (violation.property, violation.kind)
    if _reproduces(model, succ, initial, actions, target) is None:
        return violation  # not reproducible by replay (should not happen): keep what Hypothesis gave
    size = max(len(actions) // 2, 1)
    while actions:
        i, changed = 0, False
        while i + size <= len(actions):
            candidate = actions[:i] + actions[i + size:]
            cut = _reproduces(model, succ, initial, candidate, target)
            if cut is not None:
                actions, changed = candidate[:cut], True
            else:
                i += 1
        if not changed:
            if size == 1:
                break
            size //= 2
    trace = Trace(initial)
    state = initial
    for act in actions:
        state = model.apply(state, act)
        trace.steps.append((act, state))
    return Violation(violation.property, violation.kind, trace, message=violation.message)


def simulate(model: Model, examples: int = DEFAULT_EXAMPLES, steps: int = DEFAULT_STEPS,
             seed: int | None = 0, *, on_state: Callable[[Any], None] | None = None,
             kinds: tuple[str, ...] | None = None, hypothesis_shrink: bool = False) -> CheckResult:
    """Run up to ``examples`` random behaviours of up to ``steps`` actions; shrink the first failure.

    Deterministic for an integer ``seed`` (Hypothesis's ``@seed``, no example
    database, no deadline, no time-based health checks); ``seed=None`` draws fresh
    randomness.  Hypothesis's shrinker re-runs the machine per candidate (tens of
    seconds for Paxos); by default we stop at the first failure and shrink by
    replaying action values instead (``shrink``); ``hypothesis_shrink`` runs both.
    """
    cov = Coverage()
    machine = as_state_machine(model, on_state=on_state, coverage=cov, kinds=kinds)
    if seed is not None:
        machine = hypothesis_seed(seed)(machine)
    phases = (Phase.generate, Phase.shrink) if hypothesis_shrink else (Phase.generate,)
    config = settings(max_examples=examples, stateful_step_count=steps, deadline=None, database=None,
                      derandomize=False, suppress_health_check=list(HealthCheck),
                      report_multiple_bugs=False, verbosity=Verbosity.quiet, print_blob=False,
                      phases=phases)
    started = cov.started = time.monotonic()
    violation, stopped_by, unshrunk = None, None, None
    try:
        run_state_machine_as_test(machine, settings=config)
    except PropertyViolation as exc:
        unshrunk = len(exc.actions)
        violation = shrink(model, exc.violation)
    except KeyboardInterrupt:
        stopped_by = "interrupted"
    seconds = time.monotonic() - started
    if violation is not None:
        status = "deadlock" if violation.kind == "deadlock" else "violation"
    else:
        status = "incomplete" if stopped_by else "ok"
    result = CheckResult(status=status, model_meta=model.meta(), distinct_states=len(cov.seen),
                         states_generated=cov.steps, depth=cov.depth, seconds=seconds,
                         violation=violation, search="simulate", stopped_by=stopped_by)
    result.properties = {p.name: ("violated" if violation and violation.property == p.name else "not-violated")
                         for p in model.invariants + model.step_properties}
    declared = declared_names(model)
    result.extra.update({
        "seed": seed, "examples": cov.examples, "steps": cov.steps,
        "max_examples": examples, "max_steps": steps,
        "examples_to_failure": cov.first_failure_example,
        "seconds_to_failure": None if cov.first_failure_seconds is None else round(cov.first_failure_seconds, 3),
        "unshrunk_length": cov.first_failure_length, "hypothesis_length": unshrunk,
        "coverage": {"kinds": dict(sorted(cov.kinds.items())), "actions": dict(sorted(cov.names.items()))},
        "never_fired": [n for n in declared if n not in cov.names],
    })
    return result
