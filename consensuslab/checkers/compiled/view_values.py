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


def opaque(cls):
    """A view class whose comparisons, hashing, iteration and printing read the whole value; a view."""
    for name in OPAQUE:
        if name not in vars(cls):
            setattr(cls, name, whole(name))
    cls.is_view = True
    return cls


def is_view(x) -> bool:
    return getattr(type(x), "is_view", False)


def real(x):
    """``x`` as a real value (reading what it needs from the state)."""
    return x._real() if getattr(type(x), "is_view", False) else x
