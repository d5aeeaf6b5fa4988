"""Properties declared on a protocol class with decorators.

The decorated method's name is the property's name in traces, JSON and tests.
``always``, ``initially`` and ``sometimes`` take the state's view (a spec's
state itself; an actor protocol's ``World``); ``always_step`` takes
(before, action, after) and states transition properties such as immutability.
"""

from __future__ import annotations

from typing import Callable

import attrs

ALWAYS = "always"
INITIALLY = "initially"
ALWAYS_STEP = "always_step"
SOMETIMES = "sometimes"
EVENTUALLY = "eventually"
LEADS_TO = "leads_to"
ALWAYS_EVENTUALLY = "always_eventually"

KINDS = (ALWAYS, INITIALLY, ALWAYS_STEP, SOMETIMES, EVENTUALLY, LEADS_TO, ALWAYS_EVENTUALLY)
LIVENESS_KINDS = (EVENTUALLY, LEADS_TO, ALWAYS_EVENTUALLY)


@attrs.frozen
class Property:
    """A named claim about a model; ``fn`` is already bound to the protocol instance."""

    name: str
    kind: str
    fn: Callable
    doc: str = ""
    #: for leads_to: the trigger predicate (fn is the goal)
    trigger: Callable | None = None


def _mark(kind: str, **extra):
    def decorate(fn):
        fn.__consensuslab_property__ = (kind, extra)
        return fn

    return decorate


def always(fn):
    """An invariant: holds in every reachable state."""
    return _mark(ALWAYS)(fn)


def initially(fn):
    """A property of the initial states only (TLA+ ``Init => P``): every initial state satisfies it.

    Checked as an invariant that holds trivially outside the initial states, so
    every engine checks it and a violation is a trace of one state.
    """
    return _mark(INITIALLY)(fn)


def always_step(fn):
    """A transition property ``fn(before, action, after)``: holds on every step."""
    return _mark(ALWAYS_STEP)(fn)


def sometimes(fn):
    """A reachability witness: some reachable state satisfies it (guards against vacuous models)."""
    return _mark(SOMETIMES)(fn)


def eventually(fn):
    """Liveness: on every fair behaviour, some state satisfies it."""
    return _mark(EVENTUALLY)(fn)


def always_eventually(fn):
    """Liveness: on every fair behaviour, it holds infinitely often (or in the final state)."""
    return _mark(ALWAYS_EVENTUALLY)(fn)


def leads_to(trigger_name: str):
    """Liveness ``trigger ~> goal``: the decorated method is the goal, ``trigger_name`` a method."""
    return _mark(LEADS_TO, trigger=trigger_name)


def collect_properties(instance) -> list[Property]:
    """Bound properties of a protocol instance, in definition order (base classes first)."""
    found: dict[str, Property] = {}
    for klass in reversed(type(instance).__mro__):
        for name, member in vars(klass).items():
            several = getattr(member, "__consensuslab_properties__", None)
            if several is not None:  # a declaration that states properties (``@refines``: init and step)
                for prop in several(instance, name):
                    found.pop(prop.name, None)
                    found[prop.name] = prop
                continue
            mark = getattr(member, "__consensuslab_property__", None)
            if mark is None:
                found.pop(name, None)  # overridden by something that is no longer a property
                continue
            kind, extra = mark
            bound = getattr(instance, name)
            trigger = getattr(instance, extra["trigger"]) if "trigger" in extra else None
            doc = (member.__doc__ or "").strip().splitlines()[0] if member.__doc__ else ""
            found.pop(name, None)
            found[name] = Property(name=name, kind=kind, fn=bound, doc=doc, trigger=trigger)
    disabled = set(getattr(instance, "disabled_properties", ()) or ())
    return [p for n, p in found.items() if n not in disabled]
