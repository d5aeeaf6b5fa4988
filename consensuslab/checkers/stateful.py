"""Deep random exploration of any ``Model``: fast random walks, Hypothesis stateful testing, shrinking.

``simulate`` runs two phases, both deterministic for a given seed.  First
``random_walks``: many cheap swarm-configured random walks drawn straight from
cached successors (each an example; thousands a second on small models).  Then, if
they found nothing, Hypothesis examples of the state machine below, a second
and differently distributed search.  Either way the first failure is shrunk by
replaying action values (``shrink``), so the trace is a real behaviour of the
model that ``replay`` confirms.

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

import random
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
from consensuslab.checkers.simulation_defaults import (  # noqa: F401 - importable from here too
    DEFAULT_EXAMPLES, DEFAULT_STEPS, DEFAULT_WALK_STATES, DEFAULT_WALKS,
)
from consensuslab.models.action import KINDS
from consensuslab.models.model import Model

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
    walks: int = 0  # examples run as plain random walks (``random_walks``)
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


_UNCHECKED = object()  # a verdict not computed yet


class Edge:
    """One successor: the action, the state it leads to, that state's fingerprint, and
    ``broken``, the first step property the transition breaks (None), computed once."""

    __slots__ = ("action", "state", "fingerprint", "broken")

    def __init__(self, action, state, fingerprint: int):
        self.action, self.state, self.fingerprint = action, state, fingerprint
        self.broken: Any = _UNCHECKED


class Node:
    """A state's enabled actions, ``{kind: {name: [Edge, ...]}}`` with kinds and names sorted,
    and ``broken``, the first invariant the state breaks (None), computed once."""

    __slots__ = ("enabled", "broken")

    def __init__(self, enabled: dict[str, dict[str, list[Edge]]]):
        self.enabled = enabled
        self.broken: Any = _UNCHECKED


class Successors:
    """``model.successors`` as ``Node``s, cached per state: random runs revisit states
    constantly, so each state's successors and verdicts are computed about once.

    The cache is dropped whole when it holds ``limit`` states, which depends only
    on how many states were seen, so runs stay deterministic.
    """

    def __init__(self, model: Model, limit: int = CACHE_LIMIT):
        self.successors = model.successors
        self.limit = limit
        self.cache: dict[Any, Node] = {}

    def __call__(self, state) -> Node:
        node = self.cache.get(state)
        if node is None:
            raw: dict[str, dict[str, list]] = {}
            for act, nxt in self.successors(state):
                raw.setdefault(act.kind, {}).setdefault(act.name, []).append(Edge(act, nxt, hash(nxt)))
            node = Node({k: {n: raw[k][n] for n in sorted(raw[k])} for k in sorted(raw, key=KINDS.index)})
            if len(self.cache) >= self.limit:
                self.cache.clear()
            self.cache[state] = node
        return node


def as_state_machine(model: Model, *, on_state: Callable[[Any], None] | None = None,
                     coverage: Coverage | None = None, kinds: tuple[str, ...] | None = None,
                     cache_limit: int = CACHE_LIMIT,
                     successors: Successors | None = None) -> type[RuleBasedStateMachine]:
    """A ``RuleBasedStateMachine`` subclass exploring ``model``; ``on_state`` sees every state reached."""
    cov = coverage if coverage is not None else Coverage()
    grouped = successors if successors is not None else Successors(model, cache_limit)
    initials = list(model.initial_states())
    step_props = list(model.step_properties)
    all_names = declared_names(model) or ["-"]
    check_deadlock = model.check_deadlock

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

        def enter(self, state, fingerprint: int) -> None:
            self.state = state
            self.enabled = grouped(state).enabled
            cov.seen.add(fingerprint)
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
            self.enter(s0, hash(s0))

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
            nxt = edge.state
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
            self.enter(nxt, edge.fingerprint)

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


#: Swarm testing for walks: each walk mutes each action kind and each action name with
#: one of these probabilities (one chosen per walk), so that walks favour different parts
#: of the protocol.  Uniform walks rarely string together the long runs of one kind of
#: step (deliveries, say, with no timeout between them) that deep bugs need.
WALK_MUTE = (0.1, 0.25, 0.5)
#: A walk ends once this many steps in a row led back to states it had already visited:
#: it is going round in circles (the same request and reply over and over, say).
WALK_STALL = 5
#: Walks that continue from a recently discovered state (its path kept as the walk's
#: prefix) rather than from an initial state, and how many such states are kept.
WALK_FORK = 0.5
WALK_POOL = 1024


def random_walks(model: Model, walks: int, steps: int, rng: random.Random, cov: Coverage, grouped: Successors,
                 *, max_states: int | None = None, on_state: Callable[[Any], None] | None = None,
                 kinds: tuple[str, ...] | None = None) -> PropertyViolation | None:
    """Up to ``walks`` random walks of up to ``steps`` actions each; the first violation, or None.

    No walk starts once ``cov.seen`` holds ``max_states`` distinct states: on a
    large configuration nearly every step reaches a new state, which costs a
    successor computation and memory, and the budget in walks alone would run long.

    Each step makes the Hypothesis machine's choices (a kind, then a name, then the
    action, each uniform among those enabled), but drawn from ``rng`` directly: no
    test-case buffer, and successors and property verdicts come cached from
    ``grouped``, so a step costs microseconds and many more, and longer, behaviours
    fit in the time Hypothesis takes for a few.  Each walk counts as one example
    in ``cov``.  Three things make walks go further than uniform ones:

    * swarm testing: a walk mutes each kind and each name with its probability
      from ``WALK_MUTE`` (decided when first met); a muted one is taken only while
      nothing unmuted is enabled;
    * a walk stops after ``WALK_STALL`` steps in a row that revisit its own states;
    * a fraction ``WALK_FORK`` of walks start from one of the last ``WALK_POOL``
      states reached for the first time, with the path that reached it as prefix
      (so every walk is still a behaviour from an initial state, at most ``steps`` long).

    Checks in the machine's order: step properties, deadlock, invariants.
    """
    initials = list(model.initial_states())
    check_deadlock = model.check_deadlock
    has_step_props = bool(model.step_properties)
    allowed = set(kinds) if kinds is not None else None
    seen, kind_counts, name_counts = cov.seen, cov.kinds, cov.names
    rand, randrange = rng.random, rng.randrange
    pool: list[tuple] = []  # (initial, actions list, prefix length, state, fingerprint): lists only grow
    discovered = 0

    def fail(initial, actions: list, prop: str, kind: str, message: str = "") -> PropertyViolation:
        cov.depth = max(cov.depth, len(actions))
        cov.first_failure_example, cov.first_failure_length = cov.examples, len(actions)
        cov.first_failure_seconds = time.monotonic() - cov.started
        return PropertyViolation(model, initial, actions, prop, kind, message)

    def unmuted(keys: list, table: dict, mute: float) -> list:
        out = []
        for key in keys:
            muted = table.get(key)
            if muted is None:
                muted = table[key] = rand() < mute
            if not muted:
                out.append(key)
        return out or keys

    for _ in range(walks):
        if max_states is not None and len(seen) >= max_states:
            break
        cov.examples += 1
        cov.walks += 1
        mute = WALK_MUTE[randrange(len(WALK_MUTE))]
        muted_kinds: dict[str, bool] = {}
        muted_names: dict[str, bool] = {}
        if pool and rand() < WALK_FORK:
            initial, path, length, state, fingerprint = pool[randrange(len(pool))]
            actions = path[:length]
        else:
            state = initials[randrange(len(initials))] if len(initials) > 1 else initials[0]
            initial, actions, fingerprint = state, [], hash(state)
        visited: set[int] = set()
        stale = 0
        for step in range(len(actions), steps + 1):
            # arrive in ``state``: record it, then check deadlock and invariants
            if fingerprint not in seen:
                seen.add(fingerprint)
                entry = (initial, actions, step, state, fingerprint)
                if len(pool) < WALK_POOL:
                    pool.append(entry)
                else:
                    pool[discovered % WALK_POOL] = entry
                discovered += 1
            if fingerprint in visited:
                stale += 1
            else:
                visited.add(fingerprint)
                stale = 0
            if on_state is not None:
                on_state(state)
            node = grouped(state)
            enabled = node.enabled
            if not enabled and check_deadlock and not model.is_done(state):
                return fail(initial, actions, "deadlock", "deadlock", "no action is enabled")
            if allowed is not None:
                enabled = {k: v for k, v in enabled.items() if k in allowed}
            if node.broken is _UNCHECKED:
                node.broken = model.first_broken_invariant(state)
            if node.broken is not None:
                return fail(initial, actions, node.broken.name, "invariant")
            if step == steps or not enabled or stale >= WALK_STALL:
                break
            # take one step: a kind, a name, an action
            ks = list(enabled)
            if len(ks) > 1:
                ks = unmuted(ks, muted_kinds, mute)
            kind = ks[randrange(len(ks))] if len(ks) > 1 else ks[0]
            by_name = enabled[kind]
            names = list(by_name)
            if len(names) > 1:
                names = unmuted(names, muted_names, mute)
            name = names[randrange(len(names))] if len(names) > 1 else names[0]
            edges = by_name[name]
            edge = edges[randrange(len(edges))] if len(edges) > 1 else edges[0]
            actions.append(edge.action)
            cov.steps += 1
            kind_counts[kind] += 1
            name_counts[name] += 1
            if has_step_props:
                if edge.broken is _UNCHECKED:
                    edge.broken = model.first_broken_step(state, edge.action, edge.state)
                if edge.broken is not None:
                    return fail(initial, actions, edge.broken.name, "transition")
            state, fingerprint = edge.state, edge.fingerprint
        if len(actions) > cov.depth:
            cov.depth = len(actions)
    return None


def _reproduces(model: Model, succ, initial, actions: list, target: tuple[str, str],
                skip: bool = False) -> list | None:
    """The prefix of ``actions`` that ends at the first violation, if that is ``target``; else None.

    Checks in the machine's order (step properties, deadlock, invariants), so a
    candidate that trips a different property first is not mistaken for this bug.
    An action that is not enabled fails the candidate, or with ``skip`` is left
    out (the reply to a deleted request, say), and the result holds only the
    actions taken.
    """
    name, kind = target
    prop = None if kind == "deadlock" else model.property_named(name)
    state, taken = initial, []
    for act in [None, *actions]:
        if act is not None:
            nxt = succ(state).get(act)
            if nxt is None:
                if skip:
                    continue
                return None
            taken.append(act)
            if kind == "transition" and not model.step_holds(prop, state, act, nxt):
                return taken
            if model.first_broken_step(state, act, nxt) is not None:
                return None
            state = nxt
        if model.check_deadlock and not succ(state) and not model.is_done(state):
            return taken if kind == "deadlock" else None
        if kind == "invariant" and not model.holds(prop, state):
            return taken
        if model.first_broken_invariant(state) is not None:
            return None
    return None


def _states(succ, initial, actions: list) -> list:
    states = [initial]
    for act in actions:
        states.append(succ(states[-1])[act])
    return states


def _shortcut(model: Model, succ, initial, actions: list, target: tuple[str, str]) -> list:
    """Cut loops and detours: where the trace returns to a state it was in (zero actions) or
    reaches, later, a state one action away from an earlier one, take the shorter way.

    Every state on the new path is one of the trace's, so the rest replays as it was;
    each candidate is still checked with ``_reproduces`` (a new transition may break
    a step property first).
    """
    i = 0
    while i < len(actions):
        states = _states(succ, initial, actions)
        last = {s: k for k, s in enumerate(states)}
        best, way = last[states[i]], []  # the same state later: drop the loop
        for act, nxt in succ(states[i]).items():
            j = last.get(nxt)
            if j is not None and j - i - 1 > best - i:
                best, way = j, [act]
        if best - i > len(way):
            shorter = _reproduces(model, succ, initial, actions[:i] + way + actions[best:], target)
            if shorter is not None:
                actions = shorter
                continue
        i += 1
    return actions


def _delete_runs(model: Model, succ, initial, actions: list, target: tuple[str, str]) -> list:
    """Delete runs of actions, and with them any later action no longer enabled, while the
    same violation still happens first: runs of half the trace, a quarter, ... down to 8,
    then every length from 8 down to 1."""
    sizes, size = [], len(actions) // 2
    while size > 8:
        sizes.append(size)
        size //= 2
    sizes += list(range(min(8, max(len(actions) - 1, 1)), 0, -1))
    for size in sizes:
        i = 0
        while i + size <= len(actions):
            shorter = _reproduces(model, succ, initial, actions[:i] + actions[i + size:], target, skip=True)
            if shorter is not None and len(shorter) < len(actions):
                actions = shorter
            else:
                i += 1
    return actions


def shrink(model: Model, violation: Violation) -> Violation:
    """A shorter trace of the same violation: cut loops and one-step detours, delete runs of
    actions; repeat while that helps.

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
    actions = _reproduces(model, succ, initial, actions, target)
    if actions is None:
        return violation  # not reproducible by replay (should not happen): keep what was found
    while actions:
        before = len(actions)
        actions = _shortcut(model, succ, initial, actions, target)
        actions = _delete_runs(model, succ, initial, actions, target)
        if len(actions) == before:
            break
    trace = Trace(initial)
    state = initial
    for act in actions:
        state = model.apply(state, act)
        trace.steps.append((act, state))
    return Violation(violation.property, violation.kind, trace, message=violation.message)


def simulate(model: Model, examples: int = DEFAULT_EXAMPLES, steps: int = DEFAULT_STEPS,
             seed: int | None = 0, *, walks: int = DEFAULT_WALKS, walk_states: int | None = DEFAULT_WALK_STATES,
             on_state: Callable[[Any], None] | None = None, kinds: tuple[str, ...] | None = None,
             hypothesis_shrink: bool = False) -> CheckResult:
    """Run up to ``walks`` random walks, then up to ``examples`` Hypothesis examples, each of up
    to ``steps`` actions; stop at the first failure and shrink it.

    Walks stop early once they have reached ``walk_states`` distinct states (None:
    no bound).  Deterministic for an integer ``seed`` (walks from a ``random.Random``
    seeded by a string; Hypothesis's ``@seed``, no example database, no deadline,
    no time-based health checks); ``seed=None`` draws fresh randomness.
    Hypothesis's shrinker re-runs the machine per candidate (tens of seconds for
    Paxos); by default we shrink by replaying action values instead (``shrink``);
    ``hypothesis_shrink`` runs both on a failure the Hypothesis phase finds.
    """
    cov = Coverage()
    grouped = Successors(model)
    machine = as_state_machine(model, on_state=on_state, coverage=cov, kinds=kinds, successors=grouped)
    if seed is not None:
        machine = hypothesis_seed(seed)(machine)
    phases = (Phase.generate, Phase.shrink) if hypothesis_shrink else (Phase.generate,)
    config = settings(max_examples=examples, stateful_step_count=steps, deadline=None, database=None,
                      derandomize=False, suppress_health_check=list(HealthCheck),
                      report_multiple_bugs=False, verbosity=Verbosity.quiet, print_blob=False,
                      phases=phases)
    started = cov.started = time.monotonic()
    violation, stopped_by, unshrunk, found_by = None, None, None, None
    rng = random.Random(f"consensuslab-walks:{seed}") if seed is not None else random.Random()
    try:
        found = random_walks(model, walks, steps, rng, cov, grouped, max_states=walk_states,
                             on_state=on_state, kinds=kinds)
        if found is not None:
            found_by, violation = "walk", shrink(model, found.violation)
        else:
            try:
                run_state_machine_as_test(machine, settings=config)
            except PropertyViolation as exc:
                found_by, unshrunk = "hypothesis", len(exc.actions)
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
        "walks": cov.walks, "hypothesis_examples": cov.examples - cov.walks,
        "max_walks": walks, "max_walk_states": walk_states, "max_examples": examples, "max_steps": steps,
        "found_by": found_by,
        "examples_to_failure": cov.first_failure_example,
        "seconds_to_failure": None if cov.first_failure_seconds is None else round(cov.first_failure_seconds, 3),
        "unshrunk_length": cov.first_failure_length, "hypothesis_length": unshrunk,
        "coverage": {"kinds": dict(sorted(cov.kinds.items())), "actions": dict(sorted(cov.names.items()))},
        "never_fired": [n for n in declared if n not in cov.names],
    })
    return result
