"""Checking a user's model before the checker runs it: the first states, with every framework rule checked.

The checker's hot loop checks none of these rules, so a user's mistake (a
mutable state, an action returning the wrong shape, a handler that raises)
would surface as a traceback deep inside it; ``lint`` turns each into one
``ModelError`` naming protocol, role and method.  It also checks what the
protocol declares against what its steps do (``Declarations``): the
variables a spec action says it leaves ``unchanged``, its fairness, and that
no value in a state compares equal to a value of another type.
"""

from __future__ import annotations

from collections import deque

from consensuslab.errors import ModelError
from consensuslab.models.blame import crash_error, source_file
from consensuslab.models.fairness import check_declarations
from consensuslab.models.records import untyped_value

#: exploration budget of ``lint``: enough to reach the first step of every action
LINT_STATES = 2000


def lint(model, limit: int = LINT_STATES) -> list[str]:
    """Explore the first ``limit`` states with every framework rule checked, so that a user's
    mistake (a mutable state, an action returning the wrong shape, a handler that raises)
    is one ``ModelError`` naming protocol, role and method instead of a traceback from
    deep inside the checker, whose hot loop does not check these things.

    Returns warnings: things that are likely mistakes but may be meant (an
    action that never changes a variable it does not declare unchanged).
    """
    where = source_file(model)
    try:
        initial = model.initial_states()
    except ModelError:
        raise
    except Exception as exc:
        raise crash_error(model, exc, where, "computing the initial states") from None
    if not initial:
        raise ModelError(f"{model.protocol}: no initial state")
    kind = type(initial[0])
    declarations = Declarations(model, initial[0])
    for s in initial:
        _hashable(model, s, "init", kind)
        declarations.state(s, "init")
        _properties(model, s)
    seen = set(initial)
    queue = deque(initial)
    while queue and len(seen) < limit:
        state = queue.popleft()
        try:
            out = model.successors(state)
        except ModelError:
            raise
        except Exception as exc:
            raise crash_error(model, exc, where, "computing successors") from None
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
            bad = untyped_value(value)
            if bad is not None:
                raise ModelError(f"{self.protocol}: {bad.__name__} (in the state, after {method}) is a plain "
                                 f"NamedTuple, equal to any tuple of the same values, another type's included "
                                 f"(Ack(1) == Nack(1)): declare it with @record, or @message for a message")

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
                       f"from @action(by=...) and messages from participants = Participants(...) (README, "
                       f"'Nodes and messages of a spec')")
        for name, count in sorted(self.steps.items()):
            decl = self.declared(name)
            changed = self.changed.get(name, set())
            if not changed:
                out.append(f"{self.protocol}: action {name} changed nothing in its {count} steps from the first "
                           f"{explored} states (every step a stutter): an assignment forgotten?")
            elif decl.unchanged is not None:
                idle = [f for f in self.fields if f not in decl.unchanged and f not in changed]
                if idle:
                    out.append(f"{self.protocol}: action {name} never changed {', '.join(idle)} in its {count} steps "
                               f"from the first {explored} states, and does not declare {'it' if len(idle) == 1 else 'them'}"
                               f" unchanged: an assignment forgotten? (or add to unchanged=)")
        return out


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
    """Evaluate every state property once: ``Model.holds`` turns an exception into a ModelError."""
    for prop in model.invariants + model.witnesses:
        model.holds(prop, state)


def _can_hash(value) -> bool:
    try:
        hash(value)
        return True
    except TypeError:
        return False
