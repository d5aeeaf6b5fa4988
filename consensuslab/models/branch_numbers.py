"""How an action's unlabelled next states are numbered: in the order of what each changes, field by field.

An action that yields several next states without labels (TLA+'s ``\\E`` inside an action, written as a loop
of ``yield s._replace(...)``) has its steps labelled ``Name(args..., 1)``, ``Name(args..., 2)``, ...  The
numbers must not depend on the order the action happens to yield in (iterating a set differs between
processes), so the next states are put in an order of their own first.

The order compares the next states field by field, in the record's order: a set field by the elements it
gains and then those it loses, any other field by its new value (``canon``).  Since every branch starts from
one state, that is a total order of the distinct next states.  Why not the whole next states' ``canon``: a
set's sorted elements depend on the elements no branch touches, so the compiled engine, which memoises each
branch on the bits of the state it reads, would read every element of the set to number branches that add
one message each; here it reads the elements the branches add or remove (``checkers/compiled/branch_order.py``).
"""

from __future__ import annotations

from typing import Any

from consensuslab.models.values import canon

_SET_CHANGE, _NEW_VALUE = 0, 1


def change_order(before, plain: list) -> list:
    """``plain`` without repeats (the first of equal next states kept), in the order of their changes from
    ``before``; a next state that is not a record of ``before``'s type puts all of them in ``canon`` order."""
    distinct: list = []
    for item in plain:
        if not any(nxt == item for nxt in distinct):
            distinct.append(item)
    if len(distinct) > 1:
        if is_record(before) and all(type(x) is type(before) for x in distinct):
            first = distinct[0]  # a field all of them set alike orders nothing: left out
            varying = [j for j, value in enumerate(first) if any(x[j] is not value and x[j] != value for x in distinct)]
            distinct.sort(key=lambda after: tuple(field_change(before[j], after[j]) for j in varying))
        else:
            distinct.sort(key=canon)
    return distinct


def is_record(state) -> bool:
    return isinstance(state, tuple) and hasattr(state, "_fields")


def field_change(old: Any, new: Any) -> tuple:
    """The sort key of one field's change: a set's elements gained and lost, or the new value."""
    if type(old) is frozenset and type(new) is frozenset:
        return set_change(new - old, old - new)
    return (_NEW_VALUE, canon(new))


def set_change(gained, lost) -> tuple:
    return (_SET_CHANGE, tuple(sorted(canon(e) for e in gained)), tuple(sorted(canon(e) for e in lost)))
