"""Transition properties (``@always_step``) in the compiled search: one memoised unit per property and action.

A step's successor is a function of the state it leaves (the action's own
result), so ``P(s, a, a(s))`` is a function of ``s`` alone: true where the
action is disabled, else the property on the step.  Its key holds every bit
of ``s`` that the guard, the update and the property read.  Each level is
judged before it is expanded (what the interpreted search does when it
expands a state); where a unit fails, the property that failed and its step
are found on the real state (``discovery.py``), and the counterexample is the
path to the state plus that step.

A unit's answer is the action's memoised step and the property's verdict on
the pair of packed states, kept per property for every action
(``StepVerdicts``): ``[][decision = none]_decision`` reads one field of each
state whichever action took the step, so after the first few steps the rows
of every action find its verdict without running the property (EWD840's
``TDSpec_step``, 49 rows of ``SendMsg``).  Where the action's memo does not
know the key yet, where its trace filtered a set, or where the property's did,
the unit runs the action and the property on a view of ``s``, as one traced
call (the action's writes are then not encoded: in the ``--workers`` helper,
numbering a new value undoes the trace).
"""

from __future__ import annotations

import dis

from consensuslab.checkers.compiled.memo import Unit
from consensuslab.checkers.compiled.packing import Overflow, Reshape, Unsupported
from consensuslab.checkers.compiled.views import Reads, StateView

#: a property's verdicts stop being kept once they missed on more than ``MISS_SHARE`` of ``KEEP_JUDGED`` steps
KEEP_JUDGED = 2000
MISS_SHARE = 0.9


def step_units(model, actions: list[Unit], twin, layout, verdicts: dict, skip: frozenset = frozenset()) -> list[Unit]:
    """One unit per (transition property, action), in declaration and action-table order; ``verdicts``: each
    property's ``StepVerdicts``, shared by its units (made here the first time); ``skip``: properties judged
    otherwise (``refinement_steps.py``)."""
    units = []
    for prop in model.step_properties:
        if prop.name in skip:
            continue
        traced_prop = twin.method(prop.fn)
        shared = verdicts.get(prop.name)
        if shared is None:
            shared = verdicts[prop.name] = StepVerdicts(prop.fn, traced_prop, layout)
        for action in actions:
            real, traced = _step_functions(prop.fn, traced_prop, action)
            unit = StepUnit(f"{prop.name}@{action.name}", real, (), prop.name, False, layout, traced)
            unit.action, unit.verdicts = action, shared
            units.append(unit)
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


class StepUnit(Unit):
    """A transition property's unit for one action: its step from the action's memo, its verdict shared."""

    __slots__ = ("action", "verdicts")

    def compute(self, packed: int, key: int | None = None):
        action, verdicts = self.action, self.verdicts
        if verdicts.off or self.whole or action.whole or action.subscribed:
            return super().compute(packed, key)
        known, out = action.known(packed)
        if not known:  # a key the action has not met: the step is traced whole, as one call on a view
            return super().compute(packed, key)  # (its writes are not encoded: a helper would undo new numbers)
        action_reads = action.mask
        self.filtered = False
        if out is None:
            return True, action_reads
        written, bits = out
        after = packed & ~written | bits
        verdict = verdicts.value(packed, after, action.label)
        if verdict is None:  # the property's trace filtered a set: the whole step is traced from now on
            return super().compute(packed, key)
        return verdict, action_reads | verdicts.before_mask | (verdicts.after_mask & ~written)


class StepVerdicts:
    """One transition property's verdict on pairs of packed states, keyed by the bits it read of each.

    Keyed by the action too where the property reads its action argument (``act.name == "Decide"``).
    Every verdict traced is confirmed on the two real states."""

    def __init__(self, prop, traced_prop, layout):
        self.prop, self.traced_prop, self.layout = prop, traced_prop, layout
        self.by_action = reads_its_action(prop)
        self.before_mask = self.after_mask = 0
        self.table: dict = {}
        self.off = False  # a trace filtered a set or raised: the units trace whole steps
        self.asked = self.missed = 0
        self.keeping = True  # False once the table missed nearly always: its entries would only take memory

    def value(self, before: int, after: int, label):
        """The verdict on the step ``before -> after`` taken by ``label``; None where this table cannot serve."""
        tag = label if self.by_action else None
        found = self.table.get((before & self.before_mask, after & self.after_mask, tag))
        self.asked += 1
        if found is not None:
            return found
        self.missed += 1
        if self.keeping and self.asked >= KEEP_JUDGED and self.missed > MISS_SHARE * self.asked:
            self.keeping, self.table = False, {}  # a refinement mapping reads the whole of both states
        layout = self.layout
        read_before, read_after = Reads(), Reads()
        try:
            out = bool(self.traced_prop(StateView(before, layout, read_before, layout.whole_fields(self.before_mask)),
                                        label,
                                        StateView(after, layout, read_after, layout.whole_fields(self.after_mask))))
        except (Overflow, Reshape, Unsupported):
            raise
        except Exception:
            self.off = True  # the whole step's trace raises what the user should see, or declines
            return None
        if read_before.filters or read_after.filters:
            self.off = True
            return None
        if bool(self.prop(layout.decode(before), label, layout.decode(after))) != out:
            raise Unsupported("a transition property answers differently on packed views than on the states")
        if read_before.mask & ~self.before_mask or read_after.mask & ~self.after_mask:
            self.before_mask |= read_before.mask
            self.after_mask |= read_after.mask
            self.table = {}
        if self.keeping:
            self.table[(before & self.before_mask, after & self.after_mask, tag)] = out
        return out


def reads_its_action(prop) -> bool:
    """Does the property ``(s, act, t)`` (a method, or a function) use its action argument, as far as its code
    shows?  Anything unclear counts as using it."""
    fn = getattr(prop, "__func__", prop)
    code = getattr(fn, "__code__", None)
    if code is None:
        return True
    params = code.co_varnames[:code.co_argcount]
    if hasattr(prop, "__func__"):
        params = params[1:]
    if len(params) != 3 or code.co_flags & 0x0C:
        return True
    name = params[1]
    if name in code.co_cellvars or "locals" in code.co_names or "vars" in code.co_names:
        return True
    return any(ins.argval == name for ins in dis.get_instructions(code))
