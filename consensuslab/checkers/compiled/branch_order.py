"""Unlabelled branches of a traced action numbered as every engine numbers them, reading only what tells them
apart.

An action's unlabelled next states are numbered in the order of what each changes, field by field
(``models/branch_numbers.py``).  On a traced view the branches are updates of it (``s._replace(...)``), and
what they change is mostly known without reading the state:

- a field every branch leaves alone, or sets to the same thing (one edit of the field's view, ``s.msgs - {m}``
  in each branch, or equal plain values) orders nothing and is not read;
- a set field the branches edit (``s.msgs | {m}``) is compared by the elements each gains and loses: whether
  an element it adds or removes was there is one bit;
- a tuple field they edit (``replace_at``) by its edited slots (a tuple's order is its slots' order), a
  records field by the cells of its edited slots that a branch sets (a record's order is its attributes');
- any other field by its value, read whole.

So each row of such an action (``domains.py``) reads what its action reads, and a bit per element the
branches add or remove, not the whole state.  A branch that is not an update of the view (a record built
field by field) puts them all in the order computed on the real values.
"""

from __future__ import annotations

from consensuslab.checkers.compiled.packing import RECORDS, SET, TUPLE
from consensuslab.checkers.compiled.record_views import RecordEdit, RecordsView, RecordView
from consensuslab.checkers.compiled.tuple_views import GridView, TupleEdit, TupleView
from consensuslab.checkers.compiled.view_values import holds_view, is_view, real
from consensuslab.checkers.compiled.views import SetEdit, SetView, StateView, Written
from consensuslab.models.branch_numbers import change_order, field_change, set_change
from consensuslab.models.values import canon

_AS_IS = object()  # a field a branch leaves as the state has it


def view_order(state, plain: list) -> list:
    """``change_order(state, plain)`` for next states traced on the view ``state``."""
    changes = [_changes(state, x) for x in plain] if type(state) is StateView else [None]
    if any(c is None for c in changes):
        values = [_real_record(x) for x in plain]
        at = {id(v): k for k, v in reversed(list(enumerate(values)))}  # a value's first branch
        return [plain[at[id(v)]] for v in change_order(real(state), values)]
    columns: list[list[tuple]] = []  # per place the branches may differ: (value, sort key) branch by branch
    for f in state._layout.fields:
        given = [c.get(f.name, _AS_IS) for c in changes]
        given = [_AS_IS if _unchanged(g, state, f) else g for g in given]
        if all(_same(given[0], g) for g in given[1:]):
            continue
        columns += _compared(state, f, given)
    distinct: list[tuple] = []  # (next state, its values, its sort key)
    for k, x in enumerate(plain):
        values = tuple(column[k][0] for column in columns)
        if not any(values == seen for _, seen, _ in distinct):
            distinct.append((x, values, tuple(column[k][1] for column in columns)))
    if len(distinct) > 1:
        distinct.sort(key=lambda entry: entry[2])
    return [x for x, _, _ in distinct]


def _compared(state: StateView, f, given: list) -> list[list[tuple]]:
    """The columns that order the branches at field ``f``: ``(value, sort key)`` per branch."""
    if f.kind == SET and all(g is _AS_IS or _edits(g, state, f) for g in given):
        there = state._field(f)
        out = []
        for g in given:
            edits = {} if g is _AS_IS else g.edits
            gained = frozenset(e for e, present in edits.items() if present and e not in there)
            lost = frozenset(e for e, present in edits.items() if not present and e in there)
            out.append(((gained, lost), set_change(gained, lost)))
        return [out]
    if f.kind == RECORDS and f.single:
        cells = _cells(state._field(f), given)
        if cells is not None:
            return cells
    if f.kind in (TUPLE, RECORDS) and type(state._field(f)) in (TupleView, RecordsView) and \
            all(g is _AS_IS or _edits(g, state, f) for g in given):
        row = state._field(f)
        slots = sorted({k for g in given if g is not _AS_IS for k in g.edits})
        columns = []
        for k in slots:
            cells = _cells(row._item(k), [g if g is _AS_IS else g._item(k) for g in given]) \
                if f.kind == RECORDS else None
            if cells is not None:
                columns += cells
                continue
            values = [real(row._item(k) if g is _AS_IS else g._item(k)) for g in given]
            columns.append([(v, canon(v)) for v in values])
        return columns
    old = real(state._field(f))
    return [[(new, field_change(old, new)) for new in (old if g is _AS_IS else real(g) for g in given)]]


def _changes(state: StateView, x) -> dict | None:
    """The fields next state ``x`` gives values to, where it is an update of ``state`` or a record of its type
    built field by field (``State(s.a, x, s.c)``, as ``writes.writes_of`` takes it apart); None otherwise."""
    if x is state:
        return {}
    if type(x) is Written:
        return x.changes if x.base is state else None
    if type(x) is state._layout.state_type:
        return {f.name: x[f.index] for f in state._layout.fields}
    return None


def _unchanged(value, state: StateView, f) -> bool:
    """Whether a field is given its own view of ``state`` (or the value the view hands over whole)."""
    if type(value) in (SetView, TupleView, GridView, RecordsView):
        return value.state is state and value.field is f
    handed = state._handed(f)
    return handed is not None and value is handed


def _real_record(x):
    """A next state as its real value, also a record built field by field from views (``State(s.a, ...)``)."""
    if is_view(x):
        return real(x)
    if isinstance(x, tuple) and hasattr(x, "_fields"):
        return type(x)._make(real(v) for v in x)
    return x


def _cells(kept: RecordView, given: list) -> list[list[tuple]] | None:
    """The columns of one record slot the branches set cell by cell (``_replace`` on its view, or left as it
    is), ordered as the record's ``canon`` orders them: by the cells a branch sets, in attribute order (the
    others are the state's in every branch).  None: a branch puts another record there."""
    own = [g is _AS_IS or _own(g, kept) for g in given]
    if not all(own):
        return None
    cells = sorted({j for g in given if type(g) is RecordEdit for j in g._e})
    return [[(v, canon(v)) for v in (real(kept._cell(j) if g is _AS_IS else g._cell(j)) for g in given)]
            for j in cells]


def _own(value, kept: RecordView) -> bool:
    base = value._b if type(value) is RecordEdit else value
    return type(base) is RecordView and base._s is kept._s and base._f is kept._f and base._k == kept._k


def _edits(value, state: StateView, f) -> bool:
    """Whether ``value`` is an edit of field ``f``'s view of ``state`` (``s.msgs | {m}``, ``replace_at``)."""
    base = getattr(value, "base", None) if type(value) in (SetEdit, TupleEdit) else None
    return base is not None and type(base) in (SetView, TupleView, RecordsView) and base.state is state and \
        base.field is f


def _same(a, b) -> bool:
    """Whether two values a field is given are one value, told without reading the state."""
    if a is b:
        return True
    if a is _AS_IS or b is _AS_IS or type(a) is not type(b):
        return False
    if type(a) in (SetEdit, TupleEdit):
        return (_same(a.base, b.base) and a.edits.keys() == b.edits.keys()
                and all(_same(v, b.edits[k]) for k, v in a.edits.items()))
    if type(a) in (SetView, TupleView, GridView, RecordsView):
        return a.state is b.state and a.field is b.field
    if is_view(a) or holds_view(a) or holds_view(b):
        return False
    return a == b
