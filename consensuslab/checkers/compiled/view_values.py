"""What every read-recording view shares: methods that read the whole value, and turning a view into its value.

Kept apart from the views themselves (``views.py``, ``tuple_views.py``) so
that each kind of view can be written in its own module.
"""

from __future__ import annotations


def whole(name):
    """A method that reads the whole value and answers from the real thing."""

    def method(self, *args):
        return getattr(self._real(), name)(*[real(a) for a in args])

    method.__name__ = name
    return method


OPAQUE = ("__eq__", "__ne__", "__lt__", "__le__", "__gt__", "__ge__", "__hash__", "__iter__",
          "__repr__", "__str__", "__format__", "__mul__", "__rmul__")


#: every view class, added as each is defined (at import; never after): ``real`` is on the hot path of
#: tracing, and a set look-up by type costs 45 ns where a class attribute costs 200
_VIEW_TYPES: set[type] = set()


def view_type(cls):
    """Mark ``cls`` as a view: ``real`` turns its instances into their values."""
    _VIEW_TYPES.add(cls)
    return cls


def opaque(cls):
    """A view class whose comparisons, hashing, iteration and printing read the whole value."""
    for name in OPAQUE:
        if name not in vars(cls):
            setattr(cls, name, whole(name))
    return view_type(cls)


def is_view(x) -> bool:
    return type(x) in _VIEW_TYPES


def real(x):
    """``x`` as a real value (reading what it needs from the state)."""
    return x._real() if type(x) in _VIEW_TYPES else x


def holds_view(x, depth: int = 0) -> bool:
    """Does a value built during a traced call still contain a view inside it?"""
    if is_view(x):
        return True
    t = type(x)
    if depth > 8:
        return False
