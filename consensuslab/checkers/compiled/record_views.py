"""Read-recording views of records fields (``records.py``): ``s.participant[k].faulty`` reads one cell.

A records field's view is a tuple whose items are record views (``RecordsView``); a single record field's
view is the record view itself.  An attribute of a record view reads the cell of that attribute in its slot,
and ``_replace`` on it writes the cells it sets: ``replace_at(s.participant, k, s.participant[k]._replace(
faulty=True))`` writes the ``faulty`` cell of slot ``k`` and reads nothing.  Whatever a record view does not
model (hashing, comparing, printing, ``_asdict``) reads the whole record, from its real value.

Every name of a view that is not a dunder starts with ``_``: a record's attributes cannot (``typing.NamedTuple``
refuses them), so they never shadow one.
"""

from __future__ import annotations

from consensuslab.checkers.compiled.packing import Reshape, Unsupported
from consensuslab.checkers.compiled.tuple_views import FieldView, TupleEdit, slot_index
from consensuslab.checkers.compiled.view_values import holds_view, opaque, real, view_type


@view_type
class RecordsView(FieldView):
    """A tuple field of records; indexing gives a record's view, which reads nothing until a cell of it is read."""

    __slots__ = ()

    def _length(self) -> int:
        return self.field.rows

    def _item(self, k: int):
        n = self.field.rows
        return RecordView(self.state, self.field, k if 0 <= k < n else slot_index(k, n))


@opaque
class _RecordLike:
    """What a record's view and its edit share: attributes and indices read one cell each."""

    __slots__ = ()

    @property
    def __class__(self):  # isinstance(view, Participant) holds, as for the real record
        return self._rfield().record_type

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        j = self._rfield().attrs.get(name)
        if j is not None:
            return self._cell(j)
        return getattr(self._real(), name)  # _fields, _asdict, count, ...

    def __getitem__(self, j):
        m = self._rfield().columns
        if type(j) is int:
            return self._cell(j if 0 <= j < m else slot_index(j, m))
        if isinstance(j, slice):
            return tuple(self._cell(i) for i in range(*j.indices(m)))
        return self._cell(slot_index(j.__index__(), m))

    def __len__(self):
        return self._rfield().columns

    def __bool__(self):
        return self._rfield().columns > 0

    def __iter__(self):
        return (self._cell(j) for j in range(self._rfield().columns))

    def __contains__(self, x):
        return x in self._real()

    def _real(self):
        f = self._rfield()
        return tuple.__new__(f.record_type, tuple(real(self._cell(j)) for j in range(f.columns)))

    def _replace(self, **changes):
        attrs = self._rfield().attrs
        for name in changes:
            if name not in attrs:
                raise ValueError(f"Got unexpected field names: [{name!r}]")
        base = self._rbase()
        edits = dict(self._redits())
        edits.update((attrs[name], v) for name, v in changes.items())
        return RecordEdit(base, edits)


@view_type
class RecordView(_RecordLike):
    """Record ``_k`` of records field ``_f`` of state view ``_s``."""

    __slots__ = ("_s", "_f", "_k")

    def __init__(self, state, field, k: int):
        self._s, self._f, self._k = state, field, k

    def _rfield(self):
        return self._f

    def _rbase(self):
        return self

    def _redits(self) -> dict:
        return {}

    def _cell(self, j: int):
        p = self._f.parts[j]
        shift = p.offset + self._k * p.width
        state = self._s
        state._reads.mask |= p.slot_mask << shift
        return p.interner.values[(state._packed >> shift) & p.slot_mask]


@view_type
class RecordEdit(_RecordLike):
    """A record's view with some attributes set (``_replace`` on it)."""

    __slots__ = ("_b", "_e")

    def __init__(self, base: RecordView, edits: dict):
        self._b, self._e = base, edits

    def _rfield(self):
        return self._b._f

    def _rbase(self):
        return self._b

    def _redits(self) -> dict:
        return self._e

    def _cell(self, j: int):
        edits = self._e
        return edits[j] if j in edits else self._b._cell(j)


def own_record(value, state, field) -> bool:
    """Whether ``value`` is a records view of ``field`` of ``state`` or an edit of one: a single record field's
    value that writes only the cells it sets."""
    base = value._b if type(value) is RecordEdit else value
    return type(base) is RecordView and base._s is state and base._f is field


def record_writes(f, value) -> tuple[int, int]:
    """``(mask, bits)`` that records field ``f`` written as ``value`` sets: an edit of the field's own view
    (``replace_at`` on it, or for a single record an edit of its view; ``writes.writes_of`` keeps only those)
    writes the cells it sets, a record from elsewhere all the cells of its slot."""
    if type(value) is TupleEdit:
        state, rows = value.base.state, value.edits.items()
    else:
        state, rows = value._b._s, ((0, value),)
    mask = bits = 0
    for k, row in rows:
        base = row._b if type(row) is RecordEdit else row
        if type(base) is RecordView and base._s is state and base._f is f and base._k == k:
            cells = () if row is base else row._e.items()  # its own record, kept or with cells set
        else:
            values = real(row)
            if type(values) is not f.record_type:
                raise Reshape(f.name, f"field {f.name}: expected a {f.record_type.__name__}, got {values!r}")
            cells = enumerate(values)
        for j, v in cells:
            v = real(v)
            if holds_view(v):
                raise Unsupported(f"field {f.name}: a state view stored inside a new value")
            m, b = f.cell_write(k, j, v)
            mask |= m
            bits |= b
    return mask, bits
