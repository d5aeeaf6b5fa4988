"""Read-recording views of a packed state, for memoising pure spec functions.

A ``StateView`` answers every question with the real value and records, as a
bit mask, which bits of the packed state the answer depended on:
``s.rmState[i]`` one slot, ``x in s.msgs`` one element bit, ``len(s.msgs)``
the field (``passing``: only the elements a filter accepts); a pure function
is then memoised under ``state & reads``.  Updates are written, not read:
``s.msgs | {m}`` sets one bit, ``replace_at(s.rmState, i, v)`` one slot.  What
a view does not model reads the whole field: fewer memo hits, never a wrong
answer (every traced call is re-run on the real state).
"""

from __future__ import annotations

from consensuslab.checkers.compiled.filtering import frozen
from consensuslab.checkers.compiled.packing import SCALAR, TUPLE, Field, Layout, Unsupported


class Reads:
    """The bits read so far by one traced call; ``filters``: (field, filter) of each ``SetView.passing``."""

    __slots__ = ("mask", "filters")

    def __init__(self):
        self.mask, self.filters = 0, []


def _whole(name):
    """A method that reads the whole value and answers from the real thing."""

    def method(self, *args):
        return getattr(self._real(), name)(*[real(a) for a in args])

    method.__name__ = name
    return method


_OPAQUE = ("__eq__", "__ne__", "__lt__", "__le__", "__gt__", "__ge__", "__hash__", "__iter__",
           "__repr__", "__str__", "__format__", "__mul__", "__rmul__")


def _opaque(cls):
    for name in _OPAQUE:
        if name not in vars(cls):
            setattr(cls, name, _whole(name))
    return cls


@_opaque
class StateView:
    """A packed state seen as its record type."""

    __slots__ = ("_packed", "_layout", "_reads")

    def __init__(self, packed: int, layout: Layout, reads: Reads):
        self._packed, self._layout, self._reads = packed, layout, reads

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
        if f.kind == TUPLE:
            return TupleView(self, f)
        return SetView(self, f)

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


for _name in _OPAQUE + ("__len__",):
    setattr(Written, _name, _whole(_name))


@_opaque
class _TupleLike:
    """What a tuple field's view and its edit share: a fixed length, everything else from the real tuple."""

    __slots__ = ()

    @property
    def __class__(self):
        return tuple

    def __getitem__(self, k):
        if isinstance(k, slice):
            return tuple(self._item(j) for j in range(*k.indices(self._field().length)))
        return self._item(k.__index__())

    def __len__(self):
        return self._field().length

    def __bool__(self):
        return self._field().length > 0

    def __contains__(self, x):
        return x in self._real()

    def __eq__(self, other):  # one field's view and its edits differ only where edited: read only those slots
        slots = _edited_slots(self, other)
        return self._real() == real(other) if slots is None else all(self._item(k) == other._item(k) for k in slots)

    def __ne__(self, other):
        return not self.__eq__(other)
    __hash__ = _whole("__hash__")

    def __add__(self, other):
        return self._real() + real(other)

    def __radd__(self, other):
        return real(other) + self._real()

    def __getattr__(self, name):  # count, index, ...
        return getattr(self._real(), name)


def _edited_slots(a, b) -> set | None:
    """The slots edited in either of two views of one tuple field of one state (None: not such views)."""
    bases = [x if type(x) is TupleView else x.base for x in (a, b)] if type(b) in (TupleView, TupleEdit) else None
    if bases is None or bases[0].state is not bases[1].state or bases[0].field is not bases[1].field:
        return None
    return {*getattr(a, "edits", ()), *getattr(b, "edits", ())}


class TupleView(_TupleLike):
    """A tuple field; indexing reads one slot."""

    __slots__ = ("state", "field")

    def __init__(self, state: StateView, field: Field):
        self.state, self.field = state, field

    def _field(self) -> Field:
        return self.field

    def _real(self):
        self.state._reads.mask |= self.field.mask
        return self.field.decode(self.state._packed)

    def _item(self, k: int):
        k = self._index(k)
        self.state._reads.mask |= self.field.slot_bits(k)
        return self.field.read_slot(self.state._packed, k)

    def _index(self, k: int) -> int:
        n = self.field.length
        k = k + n if k < 0 else k
        if not 0 <= k < n:
            raise IndexError("tuple index out of range")
        return k

    def _replaced(self, k: int, value):
        return TupleEdit(self, {self._index(k): value})


class TupleEdit(_TupleLike):
    """A tuple field with some slots written (``replace_at`` on a view)."""

    __slots__ = ("base", "edits")

    def __init__(self, base: TupleView, edits: dict):
        self.base, self.edits = base, edits

    def _field(self) -> Field:
        return self.base.field

    def _real(self):
        return tuple(self._item(k) for k in range(self.base.field.length))

    def _item(self, k: int):
        k = self.base._index(k)
        if k in self.edits:
            return self.edits[k]
        return self.base._item(k)

    def _replaced(self, k: int, value):
        return TupleEdit(self.base, {**self.edits, self.base._index(k): value})


@_opaque
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


VIEWS = (StateView, Written, TupleView, TupleEdit, SetView, SetEdit)


def _is_set(x) -> bool:
    return type(x) in (set, frozenset, SetView, SetEdit)


def _elements(x):
    """The elements of a set operand, each a real value."""
    items = list(real(x))
    if any(holds_view(e) for e in items):
        raise Unsupported("a state view stored inside a set")
    return items


def real(x):
    """``x`` as a real value (reading what it needs from the state)."""
    return x._real() if type(x) in VIEWS else x


def holds_view(x, depth: int = 0) -> bool:
    """Does a value built during a traced call still contain a view inside it?"""
    t = type(x)
    if t in VIEWS:
        return True
    if depth > 8:
        return False
    if t in (tuple, list, frozenset, set) or isinstance(x, tuple):
        return any(holds_view(e, depth + 1) for e in x)
    if t is dict:
        return any(holds_view(k, depth + 1) or holds_view(v, depth + 1) for k, v in x.items())
    fields = getattr(t, "__attrs_attrs__", None)
    if fields is not None:
        return any(holds_view(getattr(x, a.name), depth + 1) for a in fields)
    return False
