"""Checking a user's model before the checker runs it: the first states, with every framework rule checked.

The checker's hot loop checks none of these rules, so a user's mistake (a
mutable state, an action returning the wrong shape, a handler that raises or
calls ``sys.exit()``, a step that draws random numbers, a property that
returns a string) would surface as a traceback deep inside it, or not at all;
``lint`` turns each into one ``ModelError`` naming protocol, role and method.  It also checks what the
protocol declares against what its steps do (``Declarations``): the
variables a spec action says it leaves ``unchanged``, its fairness, and that
no value in a state compares equal to a value of another type.

Non-determinism: the successors of the first ``REPEAT_STATES`` states (and of
every ``REPEAT_EVERY``-th after) are computed twice and compared; a step that
reads a random number, a clock or a set's iteration order differs between
the two calls (and would give different state counts in different runs).
"""

from __future__ import annotations

import time
from collections import deque

from consensuslab.checkers.search.limits import LimitReached, watchdog
from consensuslab.errors import ModelError
from consensuslab.models.blame import crash_error, source_file
from consensuslab.models.fairness import check_declarations
from consensuslab.models.records import untyped_value

#: exploration budget of ``lint``: enough to reach the first step of every action
LINT_STATES = 2000
#: states whose successors are computed twice (then one in ``REPEAT_EVERY``)
REPEAT_STATES = 200
REPEAT_EVERY = 10


def lint(model, limit: int = LINT_STATES, time_limit: float | None = None) -> list[str]:
    """Explore the first ``limit`` states with every framework rule checked, so that a user's
    mistake is one ``ModelError`` naming protocol, role and method instead of a traceback from
    deep inside the checker.  Within ``time_limit`` seconds: past it, linting stops quietly and
    the checker's own limits take over (a step stuck in an endless loop is ended by a watchdog).

    Returns warnings: things that are likely mistakes but may be meant (an
    action that never changes a variable it does not declare unchanged).
    """
    deadline = None if time_limit is None else time.monotonic() + time_limit
    try:
        with watchdog(time_limit):
            return _explore(model, limit, deadline)
    except LimitReached:
        return []


def _call(model, where, doing: str, fn, *args):
    """``fn(*args)`` with whatever escapes the user's code (``SystemExit`` too) as one ModelError."""
    try:
        return fn(*args)
    except (ModelError, KeyboardInterrupt):
        raise
    except BaseException as exc:  # noqa: BLE001 - sys.exit() in a handler is a mistake to name, not to obey
        raise crash_error(model, exc, where, doing) from None


def _explore(model, limit: int, deadline: float | None) -> list[str]:
    where = source_file(model)
    initial = _call(model, where, "computing the initial states", model.initial_states)
    if not initial:
        raise ModelError(f"{model.protocol}: no initial state")
    again, whole = _call(model, where, "computing the initial states", model.initial_states_again, limit)
    if again != (initial if whole else initial[:len(again)]):
        raise ModelError(f"{model.protocol}: not deterministic: two calls gave different initial states; "
                         f"init must not draw random numbers, read clocks or depend on set order")
    kind = type(initial[0])
    declarations = Declarations(model, initial[0])
    # the first ``limit`` initial states, then as many successors: a spec with many initial states (EWD840 with
    # N = 7 has 114,688) was linted on all of them, 2.5 s on every engine, and none of their steps
    first = initial[:limit]
    for s in first:
        _hashable(model, s, "init", kind)
        declarations.state(s, "init")
        _properties(model, s)
    seen = set(first)
    queue = deque(first)
    reached = list(first)
    expanded = 0
    while queue and len(seen) < len(first) + limit:
        if deadline is not None and time.monotonic() >= deadline:
            return declarations.warnings(len(seen))  # cut short: the compiled search scouts for itself
        state = queue.popleft()
        out = _call(model, where, "computing successors", model.successors, state)
        if expanded < REPEAT_STATES or expanded % REPEAT_EVERY == 0:
            _deterministic(model, where, state, out)
        expanded += 1
        for act, nxt in out:
            _hashable(model, nxt, act.name, kind)
            declarations.step(state, act, nxt)
            for prop in model.step_properties:
                model.step_holds(prop, state, act, nxt)
            if nxt not in seen:
                declarations.state(nxt, act.name)
                _properties(model, nxt)
                seen.add(nxt)
                queue.append(nxt)
                reached.append(nxt)
    model.first_reached = tuple(reached)
    return declarations.warnings(len(seen))


class Declarations:
    """What the protocol declares, checked against the steps ``lint`` explores."""

    def __init__(self, model, first):
        self.model = model
        self.protocol = model.protocol
        check_declarations(model, tuple(getattr(model.definition, "fairness", ()) or ()))
        self.declared = getattr(model, "declared", None)  # spec models: the @action declarations
        self.old_lanes = callable(getattr(model.definition, "lanes", None))  # a hook charts no longer read
        self.fields = tuple(getattr(first, "_fields", ()) or ())
        self.steps: dict[str, int] = {}
        self.changed: dict[str, set[str]] = {}
        self.clean: set[int] = set()  # ids of the elements ``_untyped`` found declared
        if self.declared is not None:
            self._known_names()

    def _known_names(self) -> None:
        for name in self.model.action_names():
            decl = self.declared(name)
            if decl is None or not decl.unchanged:  # not declared, or nothing to look up
                continue
            if not self.fields:
                raise ModelError(f"{self.protocol}: action {name} declares unchanged={decl.unchanged!r}, but the "
                                 f"state has no named variables (declare it as a NamedTuple with @record)")
            unknown = [f for f in decl.unchanged if f not in self.fields]
            if unknown:
                raise ModelError(f"{self.protocol}: action {name}: unchanged names {unknown[0]!r}, which is not a "
                                 f"variable (variables: {', '.join(self.fields)})")

    def state(self, state, method: str) -> None:
        """No value inside the state may compare equal to a value of another type."""
        values = state if self.fields else (state,)
        for value in values:
            bad = self._untyped(value)
            if bad is not None:
                raise ModelError(f"{self.protocol}: {bad.__name__} (in the state, after {method}) is a plain "
                                 f"NamedTuple, equal to any tuple of the same values, another type's included "
                                 f"(Ack(1) == Nack(1)): declare it with @record, or @message for a message")

    def _untyped(self, value):
        """``untyped_value(value)``, each element of a set or plain tuple looked into once per object.

        Why: states share their elements (a message set gains one message a step), and walking every
        message of every state was a third of classic Paxos's lint.  By identity, not equality: a plain
        NamedTuple equals a declared record of the same values.  The lint keeps every state it checked
        alive, so no checked element's id is reused for another object meanwhile."""
        if type(value) is not frozenset and type(value) is not tuple:
            return untyped_value(value)
        for item in value:
            if id(item) not in self.clean:
                bad = untyped_value(item, 5)
                if bad is not None:
                    return bad
                self.clean.add(id(item))
        return None

    def step(self, before, act, after) -> None:
        if self.declared is None or not self.fields:
            return
        decl = self.declared(act.name)
        if decl is None:
            return
        changed = {f for f, a, b in zip(self.fields, before, after) if a != b}
        wrong = sorted(changed & set(decl.unchanged or ()))
        if wrong:
            raise ModelError(f"{self.protocol}: action {act} changes {wrong[0]}, which it declares unchanged "
                             f"(UNCHANGED); remove it from unchanged=, or do not assign it")
        self.steps[act.name] = self.steps.get(act.name, 0) + 1
        self.changed.setdefault(act.name, set()).update(changed)

    def warnings(self, explored: int) -> list[str]:
        """Likely mistakes: a variable an action never changes though it does not declare it unchanged."""
        out = []
        if self.old_lanes:
            out.append(f"{self.protocol}: the lanes(action) hook is no longer read: charts take the node of a step "
                       f"from @action(by=...) and messages from participants = Participants(...) (docs/concepts.md, "
                       f"'Nodes and messages of a spec')")
        for name, count in sorted(self.steps.items()):
            decl = self.declared(name)
            changed = self.changed.get(name, set())
            if not changed:
                if decl is not None and decl.unchanged is not None and set(self.fields) <= set(decl.unchanged):
                    continue  # declared a stutter (TLA+'s ``Terminate == Done /\\ UNCHANGED vars``): meant
                out.append(f"{self.protocol}: action {name} changed nothing in its {count} steps from the first "
                           f"{explored} states (every step a stutter): an assignment forgotten?")
            elif decl.unchanged is not None:
                idle = [f for f in self.fields if f not in decl.unchanged and f not in changed]
                if idle:
                    out.append(f"{self.protocol}: action {name} never changed {', '.join(idle)} in its {count} steps "
                               f"from the first {explored} states, and does not declare {'it' if len(idle) == 1 else 'them'}"
                               f" unchanged: an assignment forgotten? (or add to unchanged=)")
        return out


def _deterministic(model, where, state, out: list) -> None:
    """The same state's successors, computed again, must be the same (see the module docstring)."""
    again = _call(model, where, "computing successors", model.successors, state)
    if again == out:
        return
    mine = {a: s for a, s in out}
    theirs = {a: s for a, s in again}
    differing = sorted({str(a.name) for a in set(mine) ^ set(theirs)}
                       | {str(a.name) for a in set(mine) & set(theirs) if mine[a] != theirs[a]})
    named = f" (action {differing[0]})" if differing else ""
    raise ModelError(f"{model.protocol}: not deterministic{named}: the same state's successors differ between "
                     f"two calls; a step must not draw random numbers, read clocks or depend on set order")


def _hashable(model, state, method: str, kind: type) -> None:
    if type(state) is not kind:
        raise ModelError(f"{model.protocol}: action {method} returned a {type(state).__name__}, not a "
                         f"{kind.__name__} state (return the next state, or None where the guard is false)")
    try:
        hash(state)
    except TypeError:
        field = ""
        if hasattr(state, "_fields"):
            bad = [f for f, v in zip(state._fields, state) if not _can_hash(v)]
            field = f" (field {bad[0]!r} is a {type(getattr(state, bad[0])).__name__})" if bad else ""
        raise ModelError(f"{model.protocol}: action {method}: state {kind.__name__} is mutable or unhashable"
                         f"{field}; use tuple/frozenset fields") from None


def _properties(model, state) -> None:
    """Evaluate every state property once: ``Model.holds`` turns an exception, or an answer that is
    not a truth value, into a ModelError."""
    for prop in model.invariants + model.witnesses:
        model.holds(prop, state)


def _can_hash(value) -> bool:
    try:
        hash(value)
        return True
    except TypeError:
        return False
