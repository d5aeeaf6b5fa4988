"""The one interface every checker consumes.

``Model.successors`` is the single source of truth for a protocol's
semantics: the exhaustive checker, liveness, the Hypothesis bridge, trace
replay and the CLI all call it and nothing else.
"""

from __future__ import annotations

from typing import Any, Iterable

from consensuslab.errors import ModelError, ReplayError, UsageError
from consensuslab.models.action import FAULT_KINDS, Action
from consensuslab.models.definition import digest_of, source_of
from consensuslab.models.params import plain
from consensuslab.models.properties import (
    ALWAYS,
    ALWAYS_STEP,
    INITIALLY,
    LIVENESS_KINDS,
    SOMETIMES,
    Property,
    collect_properties,
)


class Model:
    """A compiled protocol configuration: states, sorted successors, properties."""

    def __init__(self, definition):
        self.definition = definition
        self.protocol: str = definition.name
        self.variant: str | None = definition.variant
        scenario = definition.scenario
        self.scenario: str | None = scenario.name if scenario else None
        self.params: dict[str, Any] = dict(definition.param_values)
        props = collect_properties(definition)
        if scenario is not None and scenario.properties is not None:
            wanted = set(scenario.properties)
            unknown = sorted(wanted - {p.name for p in props})
            if unknown:
                every = sorted(p.name for p in props)
                raise ModelError(f"{self.protocol}: scenario {scenario.name} names property {unknown[0]!r}, which "
                                 f"is not one of its properties ({', '.join(every)}); fix Scenario(properties=...)")
            props = [p for p in props if p.name in wanted]
        self._keep(props)
        self.chosen_properties = False  # True once ``select_properties`` named them
        # the scenario's ``deadlock`` where it says, else the class's ``check_deadlock`` (default True)
        said = scenario.deadlock if scenario is not None else None
        self.check_deadlock: bool = bool(getattr(definition, "check_deadlock", True)) if said is None else said
        done = getattr(definition, "done", None)
        self._done = done if callable(done) else None
        #: the first states the lint reached, in breadth-first order (``checkers/search/lint.py``): the compiled
        #: search numbers their values before it starts, instead of scouting for them
        self.first_reached: tuple = ()

    def _keep(self, props: list[Property]) -> None:
        self.properties: list[Property] = props
        self.invariants = [p for p in props if p.kind == ALWAYS] + [
            Property(p.name, ALWAYS, InitialCheck(self, p.fn), p.doc) for p in props if p.kind == INITIALLY]
        self.step_properties = [p for p in props if p.kind == ALWAYS_STEP]
        self.witnesses = [p for p in props if p.kind == SOMETIMES]
        self.liveness = [p for p in props if p.kind in LIVENESS_KINDS]

    # -- which properties a check covers -------------------------------------------
    def select_properties(self, names: list[str]) -> None:
        """Check only the named properties, including ones the scenario or protocol switches off."""
        definition = self.definition
        had_own = "disabled_properties" in vars(definition)
        saved = definition.disabled_properties
        definition.disabled_properties = ()
        try:
            every = collect_properties(definition)
        finally:
            if had_own:
                definition.disabled_properties = saved
            else:
                del definition.disabled_properties
        known = {p.name for p in every}
        unknown = [n for n in names if n not in known]
        if unknown:
            raise UsageError(f"{self.protocol} has no property {unknown[0]!r}; valid: {', '.join(sorted(known))}")
        self._keep([p for p in every if p.name in set(names)])
        self.chosen_properties = True

    def liveness_to_check(self) -> tuple[list[Property], list[str]]:
        """The liveness properties a check covers, and the names of those it leaves out.

        A liveness verdict depends on the fairness and faults a scenario states, so a
        liveness property is checked where the scenario names it (or ``select_properties``
        does), never as a side effect of checking a protocol's safety.
        """
        if self.chosen_properties:
            return list(self.liveness), []
        scenario = self.definition.scenario
        named = set(scenario.properties or ()) if scenario is not None else set()
        return [p for p in self.liveness if p.name in named], [p.name for p in self.liveness if p.name not in named]

    # -- the semantic core, supplied by subclasses ---------------------------------
    def initial_states(self) -> list:
        raise NotImplementedError

    def fresh_initial_states(self) -> list:
        """The initial states, computed again where ``initial_states`` keeps them."""
        return self.initial_states()

    def initial_states_again(self, limit: int) -> tuple[list, bool]:
        """The initial states computed again, for ``lint`` to compare with ``initial_states`` (``init`` must be
        deterministic): those of the first ``limit`` candidates, and whether those were all of them."""
        states = self.fresh_initial_states()
        return states[:limit], len(states) <= limit

    def initial_candidates(self) -> list:
        """The initial states before any state constraint (``@initially`` properties are checked on these)."""
        return self.initial_states()

    def successors(self, state) -> list[tuple[Action, Any]]:
        raise NotImplementedError

    # -- derived ------------------------------------------------------------------
    def apply(self, state, action: Action):
        """The state ``action`` leads to; ``ReplayError`` when it is not enabled."""
        for act, nxt in self.successors(state):
            if act == action:
                return nxt
        raise ReplayError(f"{action} is not enabled")

    def view(self, state):
        """What properties see; a spec's state is its own view."""
        return state

    def is_done(self, state) -> bool:
        """A state without successors that the protocol calls finished is not a deadlock."""
        if not self._done:
            return False
        from consensuslab.models.blame import call_hook

        return bool(call_hook(self.protocol, "done", "a bool (is this state finished?)", self._done,
                              self.view(state), check=lambda out: isinstance(out, int) or type(out).__name__ == "bool_"))

    def node_of(self, action: Action):
        """The node that takes ``action`` (None for a step of no single node)."""
        return action.node

    def is_fault(self, action: Action) -> bool:
        """Whether ``action`` is a fault (the adversary's move) rather than a protocol step."""
        return action.kind in FAULT_KINDS

    def encode_state(self, state) -> dict[str, Any]:
        """The state as named variables, for traces and rendering."""
        if hasattr(state, "_asdict"):
            return dict(state._asdict())
        raise NotImplementedError

    def meta(self) -> dict[str, Any]:
        out = {"protocol": self.protocol, "variant": self.variant,
               "scenario": self.scenario, "params": {k: plain(v) for k, v in self.params.items()}}
        source = source_of(type(self.definition))
        if source:  # a user's protocol (file or module): replay loads it from there.  Not "source",
            # which ITF's #meta already uses for the tool that wrote the trace.
            out["protocol_source"] = source
            if digest_of(type(self.definition)):
                out["protocol_sha256"] = digest_of(type(self.definition))
        return out

    def property_named(self, name: str) -> Property:
        for p in self.properties:
            if p.name == name:
                return p
        for p in collect_properties(self.definition):
            if p.name == name:
                return p
        raise ReplayError(f"{self.protocol} has no property {name!r}")

    # -- evaluation helpers shared by checkers ----------------------------------------
    def truth(self, prop: Property, value) -> bool:
        """A property's answer as a bool; anything but a truth value is refused, not read as one
        (the string ``'False'`` is truthy: taking it would report a broken property as holding)."""
        if isinstance(value, int) or type(value).__name__ == "bool_":  # bool, int, numpy.bool_
            return bool(value)
        shown = repr(value)
        shown = shown if len(shown) <= 40 else shown[:37] + "..."
        raise ModelError(f"{self.protocol}: property {prop.name} returned {shown} (a {type(value).__name__}), "
                         f"not a bool: return a truth value")

    def holds(self, prop: Property, state) -> bool:
        try:
            value = prop.fn(self.view(state))
        except Exception as exc:  # a property that crashes is a model bug, said plainly
            raise ModelError(f"{self.protocol}: property {prop.name} raised {type(exc).__name__}: {exc}") from exc
        return self.truth(prop, value)

    def step_holds(self, prop: Property, before, action: Action, after) -> bool:
        try:
            value = prop.fn(self.view(before), action, self.view(after))
        except Exception as exc:
            raise ModelError(f"{self.protocol}: property {prop.name} raised {type(exc).__name__}: {exc}") from exc
        return self.truth(prop, value)

    def first_broken_invariant(self, state) -> Property | None:
        view = self.view(state)
        for prop in self.invariants:
            try:
                ok = prop.fn(view)
            except Exception as exc:
                raise ModelError(f"{self.protocol}: property {prop.name} raised {type(exc).__name__}: {exc}") from exc
            if not self.truth(prop, ok):
                return prop
        return None

    def first_broken_step(self, before, action: Action, after) -> Property | None:
        for prop in self.step_properties:
            if not self.step_holds(prop, before, action, after):
                return prop
        return None


class InitialCheck:
    """An ``@initially`` property as an invariant: False only in an initial state that breaks it.

    The initial states are few, so the property is evaluated on them once, on
    the first call; afterwards a state is looked up only when some initial
    state broke it.  When none did it reads nothing of the state, so the
    compiled engine memoises it as a constant.
    """

    def __init__(self, model: "Model", fn):
        self.model, self.fn = model, fn
        self.bad: list | None = None
        self.raw = type(model).view is not Model.view  # views wrap the state (a World's ``raw``)

    def __call__(self, view) -> bool:
        bad = self.bad
        if bad is None:
            model = self.model
            bad = self.bad = [s for s in model.initial_candidates() if not self.fn(model.view(s))]
        if not bad:
            return True
        state = view.raw if self.raw else view
        return all(state != b for b in bad)


def product(domains: list[list]) -> Iterable[tuple]:
    """Cartesian product in the given order (itertools.product, named for readers)."""
    import itertools

    return itertools.product(*domains)
