"""Immutable state and message values: declare, update, and index into them.

Values of different declared types never compare equal, whichever decorator
declared them.  A ``typing.NamedTuple`` is a tuple, and tuples compare by
value: undecorated, ``Ack(1, "v1") == Replicate(1, "v1")`` is True, so a set
of messages would take one for the other and a correct protocol would "fail"
(or a broken one pass).  ``@record`` (and ``@message`` or ``@state`` on a
NamedTuple) therefore gives the class an ``__eq__`` that also compares the
type, and keeps tuple hashing (C speed: equal values of two types only share
a hash bucket).  attrs classes (``@state``/``@message`` on a plain class)
compare their class already.
"""

from __future__ import annotations

from typing import Any

import attrs

from consensuslab.errors import ModelError

#: set on every class a decorator of this module made safe to compare
TYPED_EQ = "__consensuslab_typed_eq__"


def state(cls=None, **kwargs):
    """Declare a per-role local state or a record: a frozen, hashable attrs class with a cached hash.

    Fields hold immutable values only (``tuple``, ``frozenset``, other records).
    Two values are equal only if they have the same class and equal fields.
    On a ``typing.NamedTuple`` class it does what ``@record`` does.
    """
    kwargs.setdefault("cache_hash", True)

    def wrap(c):
        if _is_namedtuple(c):
            if kwargs.keys() - {"cache_hash"}:
                raise ModelError(f"{c.__name__}: a NamedTuple takes no attrs options "
                                 f"({', '.join(sorted(kwargs.keys() - {'cache_hash'}))}); drop them or "
                                 f"declare a plain class")
            return record(c)
        if issubclass(c, tuple):
            raise ModelError(f"{c.__name__}: a tuple subclass cannot be an attrs class; "
                             f"declare it as a typing.NamedTuple with @record, or as a plain class")
        made = attrs.frozen(c, **kwargs)
        setattr(made, TYPED_EQ, True)
        return made

    return wrap(cls) if cls is not None else wrap


def message(cls=None, **kwargs):
    """Declare a message: a frozen, hashable value (as ``@state``); messages of different types never
    compare equal, so ``Ack(1, "v1")`` and ``Replicate(1, "v1")`` are two messages in a set."""
    return state(cls, **kwargs)


def record(cls):
    """Declare a ``typing.NamedTuple`` record (a spec's state, or a message): typed equality, fast update.

    * ``==`` compares the type too, so records of different classes never compare
      equal (plain NamedTuples do: they are tuples), nor does a record equal a plain
      tuple; hashing stays tuple's.  Other objects are asked in turn (``NotImplemented``),
      which is how the compiled engine's read-recording views compare.
    * ``_replace`` is generated for the fields: NamedTuple's own goes through
      ``_make`` and ``map`` (measured: 0.41 us against 0.94 us per call), and spec
      actions call it on every transition.

    Everything else stays a NamedTuple: indexing, unpacking, ``_fields``,
    ``_asdict``, and the compiled engine's packing of states.
    """
    if not _is_namedtuple(cls):
        raise ModelError(f"{getattr(cls, '__name__', cls)}: @record is for typing.NamedTuple classes; "
                         f"declare a plain class with @state or @message")
    fields = cls._fields
    params = ", ".join(f"{f}=_KEEP" for f in fields)
    items = ", ".join(f"self[{i}] if {f} is _KEEP else {f}" for i, f in enumerate(fields))
    namespace = {"_KEEP": _KEEP, "_new": tuple.__new__, "_cls": cls}
    # constants as default arguments: local look-ups, measurably cheaper on the seen-set's hot path
    consts = "_type=type, _teq=tuple.__eq__, _sub=issubclass, _tuple=tuple"
    src = (f"def _replace(self, *, {params}):\n    return _new(_cls, ({items},))\n"
           f"def __eq__(self, other, {consts}):\n    t = _type(other)\n    if t is _type(self):\n"
           "        return _teq(self, other)\n    return False if _sub(t, _tuple) else NotImplemented\n"
           f"def __ne__(self, other, {consts}):\n    t = _type(other)\n    if t is _type(self):\n"
           "        return not _teq(self, other)\n    return True if _sub(t, _tuple) else NotImplemented\n")
    exec(compile(src, f"<record {cls.__name__}>", "exec"), namespace)
    cls._replace = namespace["_replace"]
    cls.__eq__ = namespace["__eq__"]
    cls.__ne__ = namespace["__ne__"]
    cls.__hash__ = tuple.__hash__  # defining __eq__ would otherwise make the class unhashable
    setattr(cls, TYPED_EQ, True)
    return cls


_KEEP = object()


def _is_namedtuple(cls) -> bool:
    return isinstance(cls, type) and issubclass(cls, tuple) and hasattr(cls, "_fields")


def untyped_value(value: Any, depth: int = 6) -> type | None:
    """A NamedTuple class found inside ``value`` that compares by value only (not declared), or None.

    Looks into tuples, frozensets and declared records, ``depth`` levels down.
    """
    if depth < 0:
        return None
    kind = type(value)
    if isinstance(value, tuple):
        if hasattr(kind, "_fields") and not getattr(kind, TYPED_EQ, False):
            return kind
        items = value
    elif isinstance(value, frozenset):
        items = value
    elif getattr(kind, TYPED_EQ, False) and attrs.has(kind):
        items = tuple(getattr(value, f.name) for f in attrs.fields(kind))
    else:
        return None
    for item in items:
        found = untyped_value(item, depth - 1)
        if found is not None:
            return found
    return None


def evolve(value, **changes):
    """A copy of ``value`` with ``changes``; works for attrs classes and NamedTuple records."""
    if hasattr(value, "_replace"):
        return value._replace(**changes)
    return attrs.evolve(value, **changes)


def replace_at(tup: tuple, index: int, value: Any) -> tuple:
    """``tup`` with position ``index`` set to ``value`` (TLA+'s EXCEPT ![i] = v on a tuple).

    On a traced view (``checkers/compiled/views.py``) this records one slot written, not a read of the rest.
    """
    if type(tup) is not tuple:
        edit = getattr(tup, "_replaced", None)
        if edit is not None:
            return edit(index, value)
    return tup[:index] + (value,) + tup[index + 1:]
