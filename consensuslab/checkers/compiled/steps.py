"""Transition properties (``@always_step``) as memoised rows: one unit per property and action.

A step's successor is a function of the state it leaves (the action's own
result), so ``P(s, a, a(s))`` is a function of ``s`` alone: true where the
action is disabled, else the property on the step.  Its key holds every bit
of ``s`` that the guard, the update and the property read.  Where a unit fails,
the property that failed and its step are found on the real state
(``discovery.py``), and the counterexample is the path to the state plus that step.

The level search judges a property over all the steps of a level at once
(``step_pairs.py``); these rows judge a property it handed back: one whose trace
filters a set or raises (the rows trace the whole step, and the real state then
says what raised), or one that would trace nearly every step.
"""

from __future__ import annotations

from consensuslab.checkers.compiled.memo import Unit


def step_units(model, actions: list[Unit], twin, layout, skip: frozenset = frozenset()) -> list[Unit]:
    """One unit per (transition property, action), in declaration and action-table order, labelled with the
    property's name; ``skip``: properties judged otherwise (``refinement_steps.py``)."""
    units = []
    for prop in model.step_properties:
        if prop.name in skip:
            continue
        traced_prop = twin.method(prop.fn)
        for action in actions:
            real, traced = _step_functions(prop.fn, traced_prop, action)
            units.append(Unit(f"{prop.name}@{action.name}", real, (), prop.name, False, layout, traced))
    return units


def _step_functions(prop, traced_prop, action: Unit):
    label, args, fn, view_fn = action.label, action.args, action.fn, action.view_fn

    def real(s):
        after = fn(s, *args)
        return True if after is None else prop(s, label, after)

    def traced(view):
        after = view_fn(view, *args)
        return True if after is None else traced_prop(view, label, after)

    return real, traced

