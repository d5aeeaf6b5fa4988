"""Transition properties (``@always_step``) in the compiled search: one memoised unit per property and action.

A step's successor is a function of the state it leaves (the action's own
result), so ``P(s, a, a(s))`` is a function of ``s`` alone: true where the
action is disabled, else the property on the step.  It is traced like an
invariant: the action runs on a view of ``s`` and the property reads the
update it returned, whose unchanged fields are read from the same view, so
the memo key holds every bit of ``s`` that the guard, the update and the
property read.  Each level is judged before it is expanded (what the
interpreted search does when it expands a state); where a unit fails, the
property that failed and its step are found on the real state
(``discovery.py``), and the counterexample is the path to the state plus
that step.
"""

from __future__ import annotations

from consensuslab.checkers.compiled.memo import Unit


def step_units(model, actions: list[Unit], twin, layout) -> list[Unit]:
    """One unit per (transition property, action), in declaration and action-table order."""
    units = []
    for prop in model.step_properties:
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
