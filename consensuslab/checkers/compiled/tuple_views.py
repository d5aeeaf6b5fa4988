"""Read-recording views of tuple fields: a tuple of values, and a grid (a tuple of equal-length tuples).

A tuple field packs one interned value per position, so ``s.clock[i]`` reads
one slot.  A grid packs one interned value per cell, so ``s.network[q][p]``
reads one cell, not the row ``s.network[q]``: LamportMutex's ReceiveRequest
reads two channels of the nine, and its memo held 4,052 keys over the
724,274 states where one interned value per row made 510,574.
``replace_at`` on a view (or on a row of a grid) writes the slots it sets.
"""

from __future__ import annotations

from consensuslab.checkers.compiled.view_values import opaque, real, view_type, whole


@opaque
class _TupleLike:
    """What a tuple field's view and its edit share: a fixed length, everything else from the real tuple."""

    __slots__ = ()

    @property
    def __class__(self):
        return tuple

    def __getitem__(self, k):
        if type(k) is int:
            return self._item(k)
        if isinstance(k, slice):
            return tuple(self._item(j) for j in range(*k.indices(self._length())))
        return self._item(k.__index__())

    def __len__(self):
        return self._length()

    def __bool__(self):
        return self._length() > 0

    def __contains__(self, x):
        return x in self._real()

    def __iter__(self):
        """One position at a time, each read as it is reached: ``all(p == "Done" for p in s.pc)`` reads up to the
        first ``p`` that is not, so its key is that prefix (SimpleRegular's ``all_done``: 65,536 keys, 25 now)."""
        return (self._item(k) for k in range(self._length()))

    def __eq__(self, other):  # one field's view and its edits differ only where edited: read only those slots
        slots = _edited_slots(self, other)
        if slots is None:
            return self._real() == real(other)
        for k in slots:
            if not self._item(k) == other._item(k):  # ``==``, as the real tuples compare
                return False
        return True

    def __ne__(self, other):
        return not self.__eq__(other)
    __hash__ = whole("__hash__")

    def __add__(self, other):
        return self._real() + real(other)

    def __radd__(self, other):
        return real(other) + self._real()

    def __getattr__(self, name):  # count, index, ...
        return getattr(self._real(), name)


def slot_index(k: int, n: int) -> int:
    k = k + n if k < 0 else k
    if not 0 <= k < n:
        raise IndexError("tuple index out of range")
    return k


def _read(state, f, k: int):
    """Slot ``k`` of field ``f`` of a state view, recorded as read (``Field.slot_bits`` and ``read_slot`` in one
    call: the hottest call of tracing)."""
    shift = f.offset + k * f.width
    state._reads.mask |= f.slot_mask << shift
    return f.interner.values[(state._packed >> shift) & f.slot_mask]


def _field_view(x):
    """The view of a tuple field that ``x`` is, or edits (None: something else)."""
    base = x.base if type(x) is TupleEdit else x
    return base if type(base) is TupleView else None


def _edited_slots(a, b):
    """The slots edited in either of two views of one tuple field of one state (None: not such views)."""
    x, y = _field_view(a), _field_view(b)
    if x is None or y is None or x.state is not y.state or x.field is not y.field:  # not ``in``: it compares
        return None
    if type(a) is not TupleEdit:
        return b.edits if type(b) is TupleEdit else ()
    return a.edits if type(b) is not TupleEdit else a.edits.keys() | b.edits.keys()


class FieldView(_TupleLike):
    """A whole field of the state (a tuple or a grid): its real value reads every slot of it."""

    __slots__ = ("state", "field")

    def __init__(self, state, field):
        self.state, self.field = state, field

    def _real(self):
        self.state._reads.mask |= self.field.mask
        return self.field.decode(self.state._packed)

    def _replaced(self, k: int, value):
        return TupleEdit(self, {slot_index(k, self._length()): value})


@view_type
class TupleView(FieldView):
    """A tuple field; indexing reads one slot."""

    __slots__ = ()

    def _length(self) -> int:
        return self.field.length

    def _item(self, k: int):
        n = self.field.length
        return _read(self.state, self.field, k if 0 <= k < n else slot_index(k, n))


@view_type
class TupleEdit(_TupleLike):
    """A tuple field, a row of a grid or a grid, with some positions written (``replace_at`` on its view)."""

    __slots__ = ("base", "edits")

    def __init__(self, base, edits: dict):
        self.base, self.edits = base, edits

    def _length(self) -> int:
        return self.base._length()

    def _real(self):
        return tuple(real(self._item(k)) for k in range(self._length()))  # a grid's rows may be views

    def _item(self, k: int):
        if k < 0:
            k = slot_index(k, self._length())
        edits = self.edits
        return edits[k] if k in edits else self.base._item(k)  # the base checks the range

    def _replaced(self, k: int, value):
        return TupleEdit(self.base, {**self.edits, slot_index(k, self._length()): value})


# -- grids: a tuple of rows of one length, one slot per cell -------------------------------------------
@view_type
class GridView(FieldView):
    """A grid field; indexing gives a row, which reads nothing until a cell of it is read."""

    __slots__ = ()

    def _length(self) -> int:
        return self.field.rows

    def _item(self, i: int):
        return RowView(self, slot_index(i, self.field.rows))


@view_type
class RowView(_TupleLike):
    """Row ``i`` of a grid field; indexing reads one cell."""

    __slots__ = ("grid", "i")

    def __init__(self, grid: GridView, i: int):
        self.grid, self.i = grid, i

    def _length(self) -> int:
        return self.grid.field.columns

    def _real(self):
        return tuple(self._item(j) for j in range(self.grid.field.columns))

    def _item(self, j: int):
        grid = self.grid
        m = grid.field.columns
        return _read(grid.state, grid.field, self.i * m + (j if 0 <= j < m else slot_index(j, m)))

    def _replaced(self, j: int, value):
        return TupleEdit(self, {slot_index(j, self.grid.field.columns): value})


def grid_cells(edit: TupleEdit) -> list[tuple[int, object]]:
    """``(slot, value)`` of every cell a grid's edit writes (a row moved from elsewhere is read, and written)."""
    f, state = edit.base.field, edit.base.state
    out = []
    for i, row in edit.edits.items():
        view = row.base if type(row) is TupleEdit else row
        own = type(view) is RowView and view.i == i and view.grid.state is state and view.grid.field is f
        if own and row is view:
            continue  # the row itself, unchanged (each read of ``s.f`` is a new view of it: compared by field)
        if own:
            out += [(i * f.columns + j, real(v)) for j, v in row.edits.items()]
            continue
        values = real(row)
        if type(values) is not tuple or len(values) != f.columns:
            raise TypeError(f"a row of {f.columns} expected")
        out += [(i * f.columns + j, v) for j, v in enumerate(values)]
    return out
