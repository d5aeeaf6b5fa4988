"""What a traced action wrote: the fields its result sets, and those writes as bits of a packed state.

An action run on a ``StateView`` returns either the view itself (nothing
changed), a ``Written`` update (``s._replace(...)``), or a real record built
field by field; each becomes ``{field: value or edit}`` and then a
``(mask, bits)`` pair, so a successor is ``(state & ~mask) | bits``.
"""

from __future__ import annotations

from typing import Any

from consensuslab.checkers.compiled.packing import RECORDS, Layout, Reshape, Unsupported
from consensuslab.checkers.compiled.record_views import RecordEdit, RecordsView, own_record, record_writes
from consensuslab.checkers.compiled.tuple_views import GridView, TupleEdit, TupleView, grid_cells
from consensuslab.checkers.compiled.views import SetEdit, SetView, StateView, Written, holds_view, real


def writes_of(result, view: StateView) -> dict[str, Any] | None:
    """The fields a traced action's result sets: ``{name: value or view edit}``; None when disabled.

    Unchanged fields are left out.  A real record built field by field is taken
    apart the same way, so ``State(s.a, x, s.c)`` writes only ``b``.
    """
    if result is None:
        return None
    if result is view:
        return {}
    layout = view._layout
    if type(result) is Written:
        if result.base is not view:
            raise Unsupported("an action returned another state's update")
        changes = result.changes
    elif type(result) is layout.state_type:
        changes = {f.name: result[f.index] for f in layout.fields}
    else:
        raise Unsupported(f"an action returned {type(result).__name__}, not {layout.state_type.__name__}")
    out = {}
    for name, value in changes.items():
        f = layout.by_name[name]
        if type(value) in (TupleView, GridView, SetView, RecordsView) and value.state is view and value.field is f:
            continue
        if f.kind == RECORDS and f.single and own_record(value, view, f):
            if type(value) is RecordEdit:
                out[name] = value  # writes the cells it sets
            continue
        handed = view._handed(f)
        if handed is not None and value is handed:
            continue  # the field's real value, handed over whole (``StateView._field``) and kept
        edited = type(value) in (TupleEdit, SetEdit) and type(value.base) in (TupleView, GridView, SetView,
                                                                             RecordsView)
        if edited and value.base.state is view and value.base.field is f:
            out[name] = value
            continue
        value = real(value)
        if holds_view(value):
            raise Unsupported(f"field {name}: a state view stored inside a new value")
        out[name] = value
    return out


def encode_writes(changes: dict[str, Any], layout: Layout) -> tuple[int, int]:
    """``(written_mask, written_bits)``: the successor is ``(state & ~written_mask) | written_bits``."""
    mask = bits = 0
    for name, value in changes.items():
        f = layout.by_name[name]
        if f.kind == RECORDS and type(value) in (TupleEdit, RecordEdit):  # an edit of its own view
            m, b = record_writes(f, value)
            mask |= m
            bits |= b
        elif type(value) is TupleEdit and type(value.base) is TupleView:
            for k, v in value.edits.items():
                slot = f.slot_bits(k)
                mask |= slot
                bits |= f.value_code(v) << (f.offset + k * f.width)
        elif type(value) is TupleEdit:  # of a grid (``writes_of`` keeps only edits of the field's own view)
            try:
                cells = grid_cells(value)
            except TypeError:
                raise Reshape(name, f"field {name}: a row of another length") from None
            for k, v in cells:
                if holds_view(v):
                    raise Unsupported(f"field {name}: a state view stored inside a new value")
                mask |= f.slot_bits(k)
                bits |= f.value_code(v) << (f.offset + k * f.width)
        elif type(value) is SetEdit:
            for e, present in value.edits.items():
                bit = f.element_bit(e)
                mask |= bit
                if present:
                    bits |= bit
        else:
            mask |= f.mask
            bits |= f.encode(value)
    return mask, bits
