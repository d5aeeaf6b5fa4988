"""Elements a set field numbers after a unit traced a filter over it: the unit's key widens to them.

``SetView.passing`` reads only the bits of the elements a filter accepts among
those numbered so far (``filtering.py``); an element numbered later was absent
from every state the entry was learnt on, so the entry stays valid, but the
unit must read that element's bit from then on where its filter accepts it.
"""

from __future__ import annotations

import types
from typing import Callable

from consensuslab.checkers.compiled.view_values import holds_view

#: filters kept per unit and field; past that, every element numbered later widens the unit's key
MAX_FILTERS = 64


class Subscriptions:
    """Units whose traces iterated a set field through a filter, told of each element the field numbers later.

    An entry learnt through a filter did not read the bit of an element that
    did not exist yet.  When one is numbered, every unit whose filters accept
    it (or that has too many filters to ask) adds its bit to its key; the
    entries learnt so far stay valid, as the element was absent from every
    state they were learnt on.
    """

    def __init__(self, layout):
        self.layout = layout
        self.units: dict[str, dict] = {}  # field name -> {unit: [filters] or None (any element counts)}
        self.seen: dict[str, int] = {}  # field name -> elements numbered when last checked
        self.busy = False

    def subscribe(self, unit, filters: list) -> None:
        """Take a trace's filters: ``(field, filter, elements it was asked about)``.

        The elements numbered since the filter ran (by the rest of the trace,
        or before the unit subscribed) are put to it now.
        """
        for field, keep, known in filters:
            found = self.units.setdefault(field.name, {})
            self.seen.setdefault(field.name, known)
            keeps = found.setdefault(unit, [])
            if keep is None:  # a filter that cannot be asked later: every element counts
                keeps = found[unit] = None
            elif keeps is not None and len(keeps) >= MAX_FILTERS:
                keeps = found[unit] = None
            elif keeps is not None and keep not in keeps:
                keeps.append(keep)
            for i in range(known, min(len(field.interner), field.width)):
                bit = 1 << (field.offset + i)
                if not unit.mask & bit and (keep is None or _accepts([keep], field.interner.values[i])):
                    unit.widen_fresh(bit)

    def check(self) -> None:
        """Widen the keys of the units whose filters accept an element numbered since the last check."""
        if self.busy or not self.units:
            return
        self.busy = True
        try:
            for name, subscribers in self.units.items():
                field = self.layout.by_name[name]
                start, end = self.seen[name], min(len(field.interner), field.width)
                for i in range(start, end):
                    element, bit = field.interner.values[i], 1 << (field.offset + i)
                    for unit, keeps in subscribers.items():
                        if not unit.mask & bit and (keeps is None or _accepts(keeps, element)):
                            unit.widen_fresh(bit)
                self.seen[name] = max(start, end)
        finally:
            self.busy = False


def _accepts(keeps: list, element) -> bool:
    for keep in keeps:
        try:
            if keep(element):
                return True
        except Exception:
            return True
    return False


def frozen(fn: Callable, depth: int = 4):
    """``fn`` with its closure's current values, so that asking it later means what it meant now (a filter
    written inside ``for Q in quorums`` closes over the variable ``Q``, which moves on); None when it cannot be.

    Not a filter that holds a view (``for i in s.b: if any(x != 1 for x in s.b): ...`` closes over the state):
    asked later about a new element, it would read the state of its trace, and those reads would widen no key
    (an entry learnt where ``s.b`` was empty answered for every state, and a violation went unseen)."""
    closure = getattr(fn, "__closure__", None)
    if holds_view(getattr(fn, "__defaults__", None) or ()):
        return None
    if not closure:
        return fn
    if depth == 0 or not isinstance(fn, types.FunctionType):
        return None
    cells = []
    for cell in closure:
        try:
            value = cell.cell_contents
        except ValueError:  # not bound yet
            return None
        if holds_view(value):
            return None
        if isinstance(value, types.FunctionType):
            value = frozen(value, depth - 1)
            if value is None:
                return None
        cells.append(types.CellType(value))
    return types.FunctionType(fn.__code__, fn.__globals__, fn.__name__, fn.__defaults__, tuple(cells))


class Silent:
    """The subscriptions of a layout no search has set up: filtered traces are not expected."""

    def subscribe(self, unit, filters: list) -> None:
        raise AssertionError("a filtered trace outside a compiled search")

    def check(self) -> None:
        return None
