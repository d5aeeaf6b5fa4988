"""Read-recording views of a packed state, for memoising pure spec functions.

A ``StateView`` answers every question with the real value and records, as a
bit mask, which bits of the packed state the answer depended on:
``s.rmState[i]`` one slot, ``x in s.msgs`` one element bit, ``len(s.msgs)``
the field (``passing``: only the elements a filter accepts); a pure function
is then memoised under ``state & reads``.  Updates are written, not read:
``s.msgs | {m}`` sets one bit, ``replace_at(s.rmState, i, v)`` one slot.  What
a view does not model reads the whole field: fewer memo hits, never a wrong
answer (every traced call is re-run on the real state).  A tuple or grid
field whose bits the unit's key holds already is handed over as its real
value: reading all of it widens nothing.  Tuple and grid fields have their
views in ``tuple_views.py``, records fields (``records.py``) in ``record_views.py``.
"""

from __future__ import annotations

from consensuslab.checkers.compiled.subscriptions import frozen
from consensuslab.checkers.compiled.packing import GRID, RECORDS, SCALAR, TUPLE, Field, Layout, Unsupported
from consensuslab.checkers.compiled.record_views import RecordsView, RecordView
from consensuslab.checkers.compiled.tuple_views import GridView, TupleView
from consensuslab.checkers.compiled.view_values import OPAQUE, holds_view, is_view, opaque, real, view_type, whole


class Reads:
    """The bits read so far by one traced call; ``filters``: (field, filter) of each ``SetView.passing``."""

    __slots__ = ("mask", "filters")

    def __init__(self):
        self.mask, self.filters = 0, []


@opaque
class StateView:
    """A packed state seen as its record type."""

    __slots__ = ("_packed", "_layout", "_reads", "_whole")

    def __init__(self, packed: int, layout: Layout, reads: Reads, whole: frozenset = frozenset()):
        """``whole``: the fields the traced unit's key holds whole (``Layout.whole_fields``), handed over as values."""
        self._packed, self._layout, self._reads, self._whole = packed, layout, reads, whole

    @property
    def __class__(self):  # isinstance(view, StateType) holds, as for the real record
        return self._layout.state_type

    def _real(self):
        self._reads.mask |= self._layout.full
        return self._layout.decode(self._packed)

    def _field(self, f: Field):
        if f.kind == SCALAR:
            self._reads.mask |= f.mask
            return f.read_slot(self._packed)
        if f in self._whole:
            # Every bit of the field is in the unit's key already, so reading it whole widens nothing: its real
            # value serves, and plain tuple operations cost a fraction of a view's (EWD840: 0.78 of the run).
            # Not a set field: adding to a real set writes all of it, where an edit of a set's view writes one bit.
            self._reads.mask |= f.mask
            return f.decode(self._packed)
        if f.kind == TUPLE:
            return TupleView(self, f)
        if f.kind == GRID:
            return GridView(self, f)
        if f.kind == RECORDS:
            return RecordView(self, f, 0) if f.single else RecordsView(self, f)
        return SetView(self, f)

    def _handed(self, f: Field):
        """The real value this view hands over for field ``f`` (None where it hands a view or a scalar)."""
        return f.decode(self._packed) if f in self._whole else None

    def __getattr__(self, name):
        f = self._layout.by_name.get(name)
        if f is not None:
            return self._field(f)
        if name == "_fields":
            return self._layout.state_type._fields
        return getattr(self._real(), name)

    def __getitem__(self, i):
        if isinstance(i, int):
            return self._field(self._layout.fields[i])
        return self._real()[i]

    def __len__(self):
        return len(self._layout.fields)

    def __iter__(self):
        return iter([self._field(f) for f in self._layout.fields])

    def _replace(self, **changes):
        return Written(self, changes)


class Written:
    """``view._replace(...)``: the base view and the fields it sets."""

    __slots__ = ("base", "changes")

    def __init__(self, base: StateView, changes: dict):
        for name in changes:
            if name not in base._layout.by_name:
                raise ValueError(f"Got unexpected field names: [{name!r}]")
        self.base, self.changes = base, changes

    @property
    def __class__(self):
        return self.base._layout.state_type

    def _replace(self, **more):
        return Written(self.base, {**self.changes, **more})

    def __getattr__(self, name):
        if name in self.changes:
            return self.changes[name]
        return getattr(self.base, name)

    def _real(self):
        layout = self.base._layout
        return tuple.__new__(layout.state_type, tuple(
            real(self.changes[f.name]) if f.name in self.changes else real(self.base._field(f))
            for f in layout.fields))

    def __getitem__(self, i):
        return self._real()[i]


for _name in OPAQUE + ("__len__",):
    setattr(Written, _name, whole(_name))
view_type(Written)


@opaque
class _SetLike:
    """What a set field's view and its edit share: membership is precise, updates are edits."""

    __slots__ = ()

    @property
    def __class__(self):
        return frozenset

    def __len__(self):
        return len(self._real())

    def __bool__(self):
        return bool(self._real())

    def __or__(self, other):
        return self._with(other, True) if _is_set(other) else NotImplemented

    __ror__ = __or__

    def union(self, *others):
        out = self
        for o in others:
            out = out._with(o, True)
        return out

    def __sub__(self, other):
        return self._with(other, False) if _is_set(other) else NotImplemented

    def difference(self, *others):
        out = self
        for o in others:
            out = out._with(o, False)
        return out

    def __rsub__(self, other):
        return real(other) - self._real()

    def __and__(self, other):
        return frozenset(e for e in _elements(other) if e in self) if _is_set(other) else NotImplemented

    __rand__ = __and__

    def isdisjoint(self, other):
        return not any(e in self for e in _elements(other))

    def __ge__(self, other):
        return all(e in self for e in _elements(other)) if _is_set(other) else NotImplemented

    def issuperset(self, other):
        return all(e in self for e in _elements(other))

    def __xor__(self, other):
        return self._real() ^ real(other)

    __rxor__ = __xor__

    def __getattr__(self, name):  # issubset, intersection, copy, ...
        return getattr(self._real(), name)


@view_type
class SetView(_SetLike):
    """A frozenset field; membership reads one element's bit."""

    __slots__ = ("state", "field")

    def __init__(self, state: StateView, field: Field):
        self.state, self.field = state, field

    def _real(self):
        self.state._reads.mask |= self.field.mask
        return self.field.decode(self.state._packed)

    def __contains__(self, x):
        x = real(x)
        hash(x)  # an unhashable x raises TypeError, as with a real frozenset
        bit = self.field.element_bit(x)
        self.state._reads.mask |= bit
        return bool(self.state._packed & bit)

    def _with(self, elements, present: bool):
        return SetEdit(self, {})._with(elements, present)

    def passing(self, keep) -> list:
        """The present elements ``keep`` accepts (``filtering.py``): ``keep`` runs on the field's whole universe
        and the bits it accepts are read; an element numbered later is judged by ``Subscriptions``."""
        f, packed, values = self.field, self.state._packed, self.field.interner.values
        known = min(len(values), f.width)
        try:
            accepted = sum(1 << (f.offset + i) for i in range(known) if keep(values[i]))
        except Exception:
            return [e for e in self._real() if keep(e)]
        self.state._reads.mask |= accepted
        self.state._reads.filters.append((f, frozen(keep), known))
        return [e for e in f.decode(packed) if accepted & f.element_bit(e)] if packed & accepted else []


@view_type
class SetEdit(_SetLike):
    """A frozenset field with elements added or removed (``s.msgs | {m}`` on a view)."""

    __slots__ = ("base", "edits")

    def __init__(self, base: SetView, edits: dict):
        self.base, self.edits = base, edits

    def _real(self):
        kept = (e for e in self.base._real() if self.edits.get(e, True))
        return frozenset({*kept, *(e for e, present in self.edits.items() if present)})

    def __contains__(self, x):
        x = real(x)
        hash(x)
        return self.edits[x] if x in self.edits else x in self.base

    def passing(self, keep) -> list:  # as ``SetView.passing``, with this edit's added and removed elements
        found = [e for e in self.base.passing(keep) if self.edits.get(e, True)]
        return found + [e for e, present in self.edits.items() if present and e not in set(found) and keep(e)]

    def _with(self, elements, present: bool):
        edits = dict(self.edits)
        for e in _elements(elements):
            edits.pop(e, None)  # keep insertion order = order of operations
            edits[e] = present
        return SetEdit(self.base, edits)


def _is_set(x) -> bool:
    return type(x) in (set, frozenset, SetView, SetEdit)


def _elements(x):
    """The elements of a set operand, each a real value."""
    items = list(real(x))
    if any(holds_view(e) for e in items):
        raise Unsupported("a state view stored inside a set")
    return items


    if t in (tuple, list, frozenset, set) or isinstance(x, tuple):
        return any(holds_view(e, depth + 1) for e in x)
    if t is dict:
        return any(holds_view(k, depth + 1) or holds_view(v, depth + 1) for k, v in x.items())
    fields = getattr(t, "__attrs_attrs__", None)
    if fields is not None:
        return any(holds_view(getattr(x, a.name), depth + 1) for a in fields)
    return False
