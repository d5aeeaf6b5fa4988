"""Fields of records packed attribute by attribute: a tuple of records of one type, or one record.

A ``typing.NamedTuple`` record (declared with ``@record``) in a tuple slot
would otherwise be one interned value per slot, so ``s.participant[k].faulty``
read every attribute of slot ``k``, and a property reading one attribute of
every slot read the whole field (ACP_SB's ``FaultyStable``: its memo missed on
nearly every state).  Here each attribute is a part of its own, a tuple field
of one slot per record (its own values numbered, its own width), and a record
is the cells of its slot across the parts: a traced view reads and writes one
attribute of one record (``record_views.py``).  A field whose first value is a
record (ACP_SB's ``coordinator``) is packed the same way, as one slot.

Slots that stop holding records of the field's type (or a tuple that changes
length) raise ``Reshape``: the field is then packed as a tuple of interned
records (one record: one interned value), as before.
"""

from __future__ import annotations

import ast
import inspect

from consensuslab.checkers.compiled.interning import Interner
from consensuslab.checkers.compiled.packing import DECODED_KEPT, RECORDS, TUPLE, Field, Reshape, Unsupported
from consensuslab.models.records import TYPED_EQ


def record_type(value) -> tuple[type, bool] | None:
    """``(record type, single)`` when ``value`` is a declared record (single) or a non-empty tuple of records of
    one declared type; else None."""
    t = type(value)
    if _declared(t):
        return t, True
    if t is tuple and value and _declared(type(value[0])) and all(type(v) is type(value[0]) for v in value):
        return type(value[0]), False
    return None


def _declared(t: type) -> bool:
    return issubclass(t, tuple) and bool(getattr(t, "_fields", None)) and getattr(t, TYPED_EQ, False)


class RecordsField(Field):
    """A field of ``rows`` records of ``record_type`` (one, unwrapped, when ``single``), one part per attribute.

    Its ``offset`` and ``mask`` cover its parts once they are placed (``settle``); cell ``(k, j)`` is slot ``k``
    of part ``j``."""

    __slots__ = ("record_type", "parts", "single", "attrs")

    def __init__(self, name: str, index: int, rtype: type, rows: int, single: bool, log: list):
        names = rtype._fields
        super().__init__(name, index, RECORDS, rows * len(names), Interner(log), columns=len(names))
        self.record_type, self.single = rtype, single
        self.attrs = {a: j for j, a in enumerate(names)}
        self.parts = [Field(f"{name}.{a}", j, TUPLE, rows, Interner(log)) for j, a in enumerate(names)]

    def leaves(self) -> list[Field]:
        return self.parts

    def settle(self) -> None:
        """Take the offset and mask of the parts just placed."""
        self.offset = min(p.offset for p in self.parts)
        self.mask = 0
        for p in self.parts:
            self.mask |= p.mask
        self.decoded, self.encoded = {}, {}

    def cell(self, packed: int, k: int, j: int):
        p = self.parts[j]
        return p.interner.values[(packed >> (p.offset + k * p.width)) & p.slot_mask]

    def cell_write(self, k: int, j: int, value) -> tuple[int, int]:
        """``(mask, bits)`` of cell ``(k, j)`` set to ``value``."""
        p = self.parts[j]
        shift = p.offset + k * p.width
        return p.slot_mask << shift, p.value_code(value) << shift

    def encode(self, value) -> int:
        try:
            found = self.encoded.get(value)
        except TypeError as exc:
            raise Unsupported(f"field {self.name}: unhashable value {value!r}") from exc
        if found is None:
            found = self._encode(value)
            if len(self.encoded) >= DECODED_KEPT:
                self.encoded.clear()
            self.encoded[value] = found
        return found

    def _encode(self, value) -> int:
        rows = (value,) if self.single else value
        if type(rows) is not tuple or len(rows) != self.rows:
            raise Reshape(self.name, f"field {self.name}: expected {self.rows} {self.record_type.__name__} records, "
                                     f"got {value!r}")
        bits = 0
        for k, row in enumerate(rows):
            if type(row) is not self.record_type:
                raise Reshape(self.name, f"field {self.name}: expected a {self.record_type.__name__}, got {row!r}")
            for p, v in zip(self.parts, row):
                bits |= p.value_code(v) << (p.offset + k * p.width)
        return bits

    def _build(self, bits: int):  # ``Field.decode`` remembers what this builds
        new, rtype, m = tuple.__new__, self.record_type, self.columns
        rows = tuple(new(rtype, tuple(self.cell(bits, k, j) for j in range(m))) for k in range(self.rows))
        return rows[0] if self.single else rows

    def demoted(self, log: list) -> Field:
        """The field packed coarser: a tuple of interned records, or one interned record."""
        if self.single:
            return Field(self.name, self.index, "scalar", 1, Interner(log))
        return Field(self.name, self.index, TUPLE, self.rows, Interner(log))


def make_field(name: str, index: int, value, log: list, whole: frozenset = frozenset()) -> Field | None:
    """A ``RecordsField`` for a field whose first value is ``value``, or None (not records, or records of a type
    named in ``whole``)."""
    found = record_type(value)
    if found is None or found[0].__name__ in whole:
        return None
    rtype, single = found
    return RecordsField(name, index, rtype, 1 if single else len(value), single, log)


def records_of(whole: frozenset = frozenset()):
    """``Layout.learn``'s maker of records fields, keeping records of the types named in ``whole`` whole."""
    return lambda name, index, value, log: make_field(name, index, value, log, whole)


def type_tested(spec) -> frozenset:
    """The names of the classes the spec compares ``type(...)`` with (``type(n) is NodeState``, ``type(m) in (A,
    B)``), in its class and the classes it derives from in its module, and in the module's functions: a
    record's view is no record to ``type``, so fields of those records keep them whole.

    Why ahead: each traced call that asks it answers otherwise than the real one, and the field is then packed
    whole and the search restarts (``mismatch``), one field at a time (MultiPaxos: three restarts, 2.4 s)."""
    try:
        tree = ast.parse(inspect.getsource(inspect.getmodule(type(spec))))
    except (OSError, TypeError, SyntaxError):
        return frozenset()
    own = {c.__name__ for c in type(spec).__mro__}
    names: set[str] = set()
    for top in tree.body:
        if isinstance(top, (ast.FunctionDef, ast.AsyncFunctionDef)) or (isinstance(top, ast.ClassDef)
                                                                         and top.name in own):
            names |= _compared_with_type(top)
    return frozenset(names)


def _compared_with_type(tree) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Compare):
            continue
        sides = [node.left, *node.comparators]
        if not any(isinstance(x, ast.Call) and isinstance(x.func, ast.Name) and x.func.id == "type" for x in sides):
            continue
        for x in sides:
            for leaf in (x.elts if isinstance(x, (ast.Tuple, ast.List, ast.Set)) else [x]):
                if isinstance(leaf, ast.Name):
                    names.add(leaf.id)
                elif isinstance(leaf, ast.Attribute):
                    names.add(leaf.attr)
    return names


def mismatch(layout, read: int, why: str) -> Exception:
    """What to raise when a traced call answered otherwise than the real one: ``Reshape`` of a records field,
    packed as before from then on (a record's view is no record: ``type(n) is NodeState``, which MultiPaxos's
    ``TypeOK`` asks, is False on it and reads nothing), the first one the call read, else the first one; with
    none left, ``Unsupported``."""
    fields = [f for f in layout.fields if f.kind == RECORDS]
    for f in sorted(fields, key=lambda f: not f.mask & read):
        return Reshape(f.name, f"{why}; field {f.name}: its records packed whole from now on")
    return Unsupported(why)
