"""A spec's states packed into one integer, field by field.

The compiled checker (``checkers/compiled/engine.py``) stores and compares states as
Python ints: a successor is ``(state & keep) | written``, a memo key is
``state & footprint``, and the seen-set holds the states themselves (exact,
no fingerprint collisions).  The layout is learnt from the initial states:

- a ``tuple`` field of length n is n slots, each an interned value index;
- a ``frozenset`` field is a bit set over its interned elements;
- a record, or a tuple of records of one type, is one tuple per attribute (``records.py``);
- any other field is one slot holding an interned value index.

Interned indices never change, so widening a layout (``widened``) when a
domain outgrows its bits keeps every index and only moves offsets.
"""

from __future__ import annotations

from typing import Any

from consensuslab.checkers.compiled.interning import Interner
from consensuslab.checkers.compiled.subscriptions import Silent

SCALAR, TUPLE, GRID, SET, RECORDS = "scalar", "tuple", "grid", "set", "records"  # RECORDS: ``records.py``
#: decoded values a field remembers before it forgets them all (bounds the memory of a long run)
DECODED_KEPT = 1 << 14
#: decoded states a layout remembers: enough for the units of a group traced one after the other
STATES_KEPT = 1 << 10


class Unsupported(Exception):
    """The state or a step cannot be packed: the caller uses the interpreted checker."""


#: overflows of one field after which it is widened fourfold, not twofold (``Layout.widen``)
ROOMIER_AFTER = 2
#: the bits of a word of the level search's states (``words.py``)
WORD = 64


class Overflow(Exception):
    """A field needs more bits than its layout gives it: widen and start again."""


class Reshape(Exception):
    """A tuple field changed length, or a set field held something else: pack it as one value."""

    def __init__(self, field: str, why: str):
        super().__init__(why)
        self.field = field


class Field:
    """Where one record field lives in the packed integer, and how to read and write it."""

    __slots__ = ("name", "index", "kind", "length", "columns", "offset", "width", "interner", "slot_mask", "mask",
                 "decoded", "chunks", "encoded")

    def __init__(self, name: str, index: int, kind: str, length: int, interner: Interner, columns: int = 1):
        """``length``: slots (a grid's are its cells, ``columns`` to a row)."""
        self.name, self.index, self.kind, self.length, self.interner = name, index, kind, length, interner
        self.columns = columns
        self.offset = self.width = self.slot_mask = self.mask = 0
        self.decoded: dict[int, Any] = {}
        self.chunks: dict[int, frozenset] = {}  # a set field's 16-bit chunks: (chunk number << 16 | bits) -> elements
        self.encoded: dict[Any, int] = {}  # whole tuple, grid or set values -> their bits in place

    def place(self, offset: int, width: int) -> int:
        """Fix this field's bits; returns the next free offset."""
        self.offset, self.width = offset, width
        self.slot_mask = (1 << width) - 1
        self.decoded = {}  # keyed by this field's bits, which have just moved
        self.encoded = {}
        bits = width * (self.length if self.kind in (TUPLE, GRID) else 1)
        self.mask = ((1 << bits) - 1) << offset
        return offset + bits

    @property
    def rows(self) -> int:
        """A grid's rows (a tuple's positions)."""
        return self.length // self.columns

    def needed_width(self) -> int:
        n = len(self.interner)
        if self.kind == SET:
            return max(4, n + max(2, n // 2))
        return max(1, (2 * n - 1).bit_length())  # room for twice the values numbered

    # -- slots ------------------------------------------------------------------
    def slot_bits(self, k: int = 0) -> int:
        """The mask of tuple slot ``k`` (or of the scalar)."""
        return self.slot_mask << (self.offset + k * self.width)

    def element_bit(self, element) -> int:
        """The bit of ``element`` in a set field (interning it; ``Overflow`` when out of room)."""
        i = self.interner.id(element)
        if i >= self.width:
            raise Overflow(self.name)
        return 1 << (self.offset + i)

    def value_code(self, value) -> int:
        try:
            i = self.interner.id(value)
        except TypeError as exc:
            raise Unsupported(f"field {self.name}: unhashable value {value!r}") from exc
        if i > self.slot_mask:
            raise Overflow(self.name)
        return i

    def read_slot(self, packed: int, k: int = 0):
        return self.interner.values[(packed >> (self.offset + k * self.width)) & self.slot_mask]

    # -- whole values -----------------------------------------------------------
    def encode(self, value) -> int:
        """The bits of ``value`` in place (``Unsupported`` if it does not fit this field's kind); a tuple, grid
        or set value is remembered.

        Why: most encoded values were encoded before (a step changes one or two fields of a state), and one
        look-up of the whole value costs less than interning each slot or element again (EWD840 N = 7, whose
        confirmed traces encode 540,000 field values: A/B 0.89 against encoding each afresh).
        """
        if self.kind == SCALAR:
            return self.value_code(value) << self.offset
        if type(value) is not (frozenset if self.kind == SET else tuple):
            return self._encode(value)  # raises Reshape
        try:
            found = self.encoded.get(value)
        except TypeError as exc:
            raise Unsupported(f"field {self.name}: unhashable value {value!r}") from exc
        if found is not None:
            return found
        bits = self._encode(value)
        if len(self.encoded) >= DECODED_KEPT:
            self.encoded.clear()
        self.encoded[value] = bits
        return bits

    def _encode(self, value) -> int:
        if self.kind == TUPLE:
            if type(value) is not tuple or len(value) != self.length:
                raise Reshape(self.name, f"field {self.name}: expected a tuple of {self.length}, got {value!r}")
            bits = 0
            for k, v in enumerate(value):
                bits |= self.value_code(v) << (self.offset + k * self.width)
            return bits
        if self.kind == GRID:
            if type(value) is not tuple or len(value) != self.rows or \
                    any(type(row) is not tuple or len(row) != self.columns for row in value):
                raise Reshape(self.name, f"field {self.name}: expected {self.rows} rows of {self.columns}, "
                                         f"got {value!r}")
            bits, k = 0, 0
            for row in value:
                for v in row:
                    bits |= self.value_code(v) << (self.offset + k * self.width)
                    k += 1
            return bits
        if type(value) is not frozenset:
            raise Reshape(self.name, f"field {self.name}: expected a frozenset, got {value!r}")
        bits = 0
        for element in value:
            bits |= self.element_bit(element)
        return bits

    def decode(self, packed: int):
        """The field's value in ``packed``; tuples and sets are remembered by their bits.

        Why: tracing decodes the same few field values over and over (every
        traced call is confirmed on the decoded state), and building a tuple of
        slots or a frozenset of elements is most of what a decode costs.
        Interned indices never change, so a remembered value stays right.
        """
        if self.kind == SCALAR:
            return self.read_slot(packed)
        key = packed & self.mask
        value = self.decoded.get(key)
        if value is None:
            if len(self.decoded) >= DECODED_KEPT:
                self.decoded.clear()
            value = self.decoded[key] = self._build(key)
        return value

    def _build(self, bits: int):
        if self.kind == TUPLE:
            return tuple(self.read_slot(bits, k) for k in range(self.length))
        if self.kind == GRID:
            m = self.columns
            return tuple(tuple(self.read_slot(bits, i * m + j) for j in range(m)) for i in range(self.rows))
        bits >>= self.offset
        out: list = []
        chunks = self.chunks
        k = 0
        while bits:  # 16 bits at a time, each chunk's elements remembered (element numbers never change)
            chunk = bits & 0xFFFF
            if chunk:
                elements = chunks.get(k | chunk)
                if elements is None:
                    if len(chunks) >= DECODED_KEPT:
                        chunks.clear()
                    elements = chunks[k | chunk] = frozenset(self._elements(k >> 12, chunk))
                out.append(elements)
            bits >>= 16
            k += 1 << 16
        # a union of remembered sets reuses their elements' hashes (a record's tuple hash is not cached)
        return out[0] if len(out) == 1 else frozenset().union(*out)

    def _elements(self, first: int, chunk: int) -> tuple:
        """The elements of a 16-bit chunk of a set field, the chunk's lowest bit being element ``first``."""
        values = self.interner.values
        out = []
        while chunk:
            low = chunk & -chunk
            out.append(values[first + low.bit_length() - 1])
            chunk ^= low
        return tuple(out)


def _kind(value) -> tuple[str, int, int]:
    """``(kind, slots, columns)`` of a field whose first value is ``value``."""
    if type(value) is tuple:
        m = len(value[0]) if value and type(value[0]) is tuple else 0
        if m and all(type(row) is tuple and len(row) == m for row in value):
            return GRID, len(value) * m, m
        return TUPLE, len(value), 1
    if type(value) is frozenset:
        return SET, 0, 1
    return SCALAR, 1, 1


def _widths(fields: list[Field], overflows: dict[str, int]) -> list[int]:
    """Each field's bits a slot: room for twice its values (four times after ``ROOMIER_AFTER`` overflows), then
    one more bit a slot for the fields fullest first, while the spare bits of the last 64-bit word last.

    Why the spare bits: an overflow restarts the search, and bits up to a whole word cost the level search
    nothing (it stores whole words).  LamportMutex's network grid numbered its 33rd channel 0.45 s into a 2.5 s
    run and restarted; with one more bit a cell from the start it holds all 43."""
    widths = [f.needed_width() + (f.kind != SET and overflows.get(f.name, 0) > ROOMIER_AFTER) for f in fields]
    slots = [max(1, f.length) for f in fields]  # a set's one bit more is room for one element more
    spare = -sum(w * n for w, n in zip(widths, slots)) % WORD

    def fill(k: int) -> float:
        room = widths[k] if fields[k].kind == SET else 1 << widths[k]
        return len(fields[k].interner) / room

    for k in sorted(range(len(fields)), key=lambda k: -fill(k)):
        if slots[k] <= spare:
            widths[k] += 1
            spare -= slots[k]
    return widths


class Layout:
    """The packing of one NamedTuple state type."""

    def __init__(self, state_type: type, fields: list[Field]):
        self.state_type = state_type
        self.fields = fields
        self.by_name = {f.name: f for f in fields}
        self.overflows: dict[str, int] = {}  # field name -> overflows so far (``widen``)
        self._place()
        #: units to tell of elements numbered after they traced a filter (``subscriptions.Subscriptions``)
        self.subscriptions = Silent()
        self.placements = 0  # how often the fields were placed again (``widen``): packed states from before are stale
        self._initial: tuple = (-1, [])  # (placements, the initial states packed): ``encode_initial``
        self._whole: dict[int, frozenset] = {}  # key mask -> the fields it holds whole (``whole_fields``)

    @classmethod
    def learn(cls, states: list, special=None) -> "Layout":
        """A layout for these (initial) states; ``Unsupported`` unless they are NamedTuples of one type and shape;
        ``special(name, index, first value, log)``: a field of another kind, or None (``records.make_field``)."""
        if not states:
            raise Unsupported("no initial states")
        first = states[0]
        state_type = type(first)
        names = getattr(state_type, "_fields", None)
        if not isinstance(first, tuple) or not names:
            raise Unsupported("states are not typing.NamedTuple records")
        fields = []
        log: list = []
        for i, name in enumerate(names):
            kind, length, columns = _kind(first[i])
            found = special(name, i, first[i], log) if special is not None else None
            fields.append(found or Field(name, i, kind, length, Interner(log), columns))
        layout = cls(state_type, fields)
        for s in states:
            if type(s) is not state_type:
                raise Unsupported("initial states of different types")
        layout.encode_initial(states)
        return layout

    def encode_initial(self, states: list) -> list[int]:
        """The initial states packed, encoded again only once a field has moved (EWD840 N = 7: 114,688 of them,
        encoded by ``learn`` and then by the search)."""
        placements, packed = self._initial
        if placements != self.placements:
            packed = self.encode_all(states)
            self._initial = (self.placements, packed)
        return packed

    def encode_all(self, states: list) -> list[int]:
        """Encode, widening in place until every state fits."""
        while True:
            try:
                return [self.encode(s) for s in states]
            except Overflow:
                self.widen()
            except Reshape as exc:
                self.demote(exc.field)

    def widen(self, overflowed: str | None = None) -> None:
        """Re-place every field with room for twice its current values (indices unchanged); a scalar or tuple
        field that has overflowed ``ROOMIER_AFTER`` times before gets room for four times as many.

        Why: each overflow restarts the search, and a field whose values keep growing overflows again, later
        and so at a higher cost (LamportMutex's network channels: six restarts, the last after 395,000 of
        724,274 states, 12 s of a 33 s run)."""
        if overflowed is not None:
            self.overflows[overflowed] = self.overflows.get(overflowed, 0) + 1
        self._place()
        self.placements += 1
        self._whole = {}

    def _place(self) -> None:
        """Place every leaf (a field, or a part of a records field), then the records fields over their parts."""
        offset = 0
        leaves = self.leaves()
        for f, width in zip(leaves, _widths(leaves, self.overflows)):
            offset = f.place(offset, width)
        for f in self.fields:
            if f.kind == RECORDS:
                f.settle()
        self.bits = offset
        self.full = (1 << offset) - 1
        self.decoded: dict[int, Any] = {}

    def leaves(self) -> list[Field]:
        """The fields placed each on their own bits: a records field's parts in its stead."""
        return [p for f in self.fields for p in (f.parts if f.kind == RECORDS else (f,))]

    def whole_fields(self, key: int) -> frozenset:
        """The tuple and grid fields ``key`` holds whole, handed to traced calls as values (``views.StateView``)."""
        found = self._whole.get(key)
        if found is None:
            if len(self._whole) >= DECODED_KEPT:
                self._whole = {}
            found = frozenset(f for f in self.fields if f.kind in (TUPLE, GRID, RECORDS) and not f.mask & ~key)
            self._whole[key] = found
        return found

    def demote(self, name: str) -> None:
        """Pack field ``name`` coarser from now on: a grid as a tuple of rows (its rows vary in length), else as
        one interned value (its tuples vary in length)."""
        for i, f in enumerate(self.fields):
            if f.name == name and f.kind == RECORDS:
                self.fields[i] = f.demoted(self.numbered)
            elif f.name == name and f.kind == GRID:
                self.fields[i] = Field(f.name, f.index, TUPLE, f.rows, Interner(self.numbered))
            elif f.name == name and f.kind != SCALAR:
                self.fields[i] = Field(f.name, f.index, SCALAR, 1, Interner(self.numbered))
        self.by_name = {f.name: f for f in self.fields}
        self.widen()

    def encode(self, state) -> int:
        if type(state) is not self.state_type:
            raise Unsupported(f"a state of type {type(state).__name__}, expected {self.state_type.__name__}")
        packed = 0
        for f in self.fields:
            packed |= f.encode(state[f.index])
        return packed

    def decode(self, packed: int):
        """The record packed in ``packed``; remembered, as a traced state is decoded once per unit it is traced for."""
        state = self.decoded.get(packed)
        if state is None:
            if len(self.decoded) >= STATES_KEPT:
                self.decoded.clear()
            state = self.decoded[packed] = tuple.__new__(self.state_type, tuple(f.decode(packed) for f in self.fields))
        return state

    @property
    def numbered(self) -> list:
        """The interner of every value numbered so far, in order (its length marks a point to undo to)."""
        return self.fields[0].interner.log

    def interned(self) -> tuple[int, ...]:
        """How many values each leaf (``leaves``) has numbered so far."""
        return tuple(len(f.interner) for f in self.leaves())

    def forget_since(self, mark: int) -> None:
        """Undo every value numbered after ``len(self.numbered)`` was ``mark``."""
        log = self.numbered
        if len(log) > mark:
            for f in self.fields:  # a remembered encoding may hold a number given again to another value
                f.encoded.clear()
        while len(log) > mark:
            log.pop().forget_last()

    def describe(self) -> dict[str, Any]:
        return {"bits": self.bits, "fields": {f.name: {"kind": f.kind, "width": f.width, "values": len(f.interner)}
                                              for f in self.leaves()}}

