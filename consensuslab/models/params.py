"""Protocol parameters: declared with types, defaults and ranges; parsed from ``-p KEY=VALUE``.

A parameter's type is its default's: ``bool``, ``int``, ``float``, ``str``, or
a collection, ``tuple`` (TLA+ sequence) or ``frozenset`` (TLA+ set), of
``int``, ``float`` or ``str`` elements.  On the command line a collection is
written comma-separated (``-p nodes=a,b,c``, ``-p byzantine=`` for an empty
set); in the library it is given as a Python value (``{"nodes": ("a", "b")}``;
a list or set is converted).
"""

from __future__ import annotations

from typing import Any

import attrs

from consensuslab.errors import UsageError


COLLECTIONS = (tuple, frozenset)
ELEMENTS = (int, float, str)


@attrs.frozen
class Param:
    """One parameter: its default, its bounds, and what it means.

    ``min``/``max`` bound a number, or a collection's number of elements;
    ``choices`` lists the valid values (a collection's valid elements).  ``of``
    is a collection's element type (default: its default's elements', else ``str``).
    """

    default: Any
    help: str = ""
    min: int | None = None
    max: int | None = None
    choices: tuple | None = None
    of: type | None = None

    def __attrs_post_init__(self):
        if isinstance(self.default, (list, set)):
            object.__setattr__(self, "default", (tuple if isinstance(self.default, list) else frozenset)(self.default))
        if self.of is not None and self.of not in ELEMENTS:
            raise ValueError(f"Param(of={self.of!r}): elements are int, float or str")

    @property
    def type(self) -> type:
        return type(self.default)

    @property
    def element(self) -> type:
        """A collection's element type."""
        if self.of is not None:
            return self.of
        kinds = {type(x) for x in self.default}
        return kinds.pop() if len(kinds) == 1 and next(iter(kinds)) in ELEMENTS else str

    def parse(self, name: str, text: str) -> Any:
        kind = self.type
        if kind in COLLECTIONS:
            items = [t.strip() for t in text.split(",")] if text.strip() else []
            element = self.element
            try:
                values = [element(t) for t in items]
            except ValueError:
                raise UsageError(f"parameter {name}={text!r}: expected comma-separated "
                                 f"{_element_words(element)}, e.g. -p {name}={_example(element)}") from None
            return self.validate(name, kind(values))
        if kind is bool:
            low = text.strip().lower()
            if low in ("1", "true", "yes", "on"):
                return True
            if low in ("0", "false", "no", "off"):
                return False
            raise UsageError(f"parameter {name}={text!r}: expected true or false")
        if kind is int:
            try:
                value = int(text)
            except ValueError:
                raise UsageError(f"parameter {name}={text!r}: expected an integer{self._range()}") from None
        elif kind is float:
            try:
                value = float(text)
            except ValueError:
                raise UsageError(f"parameter {name}={text!r}: expected a number{self._range()}") from None
        else:
            value = text
        return self.validate(name, value)

    def validate(self, name: str, value: Any) -> Any:
        if self.type in COLLECTIONS:
            return self._collection(name, value)
        if self.type in (int, float) and isinstance(value, bool):
            raise UsageError(f"parameter {name}={value!r}: expected a number{self._range()}")
        if self.type is int and not isinstance(value, int):
            raise UsageError(f"parameter {name}={value!r}: expected an integer{self._range()}")
        if (self.min is not None and value < self.min) or (self.max is not None and value > self.max):
            raise UsageError(f"parameter {name}={value}: out of range{self._range()}")
        if self.choices is not None and value not in self.choices:
            raise UsageError(f"parameter {name}={value!r}: valid values are {', '.join(map(str, self.choices))}")
        return value

    def _collection(self, name: str, value: Any) -> Any:
        kind, element = self.type, self.element
        if not isinstance(value, (tuple, list, set, frozenset)):
            raise UsageError(f"parameter {name}={value!r}: expected a {'tuple' if kind is tuple else 'set'} of "
                             f"{_element_words(element)}")
        if kind is tuple and isinstance(value, (set, frozenset)):
            raise UsageError(f"parameter {name}={value!r}: expected a tuple (an ordered sequence), not a set")
        wrong = [x for x in value if not isinstance(x, element) or (element in (int, float) and isinstance(x, bool))]
        if wrong and element is float:
            wrong = [x for x in wrong if not isinstance(x, int) or isinstance(x, bool)]
        if wrong:
            raise UsageError(f"parameter {name}: element {wrong[0]!r} is not {_element_words(element, one=True)}")
        value = kind(value)
        if (self.min is not None and len(value) < self.min) or (self.max is not None and len(value) > self.max):
            raise UsageError(f"parameter {name}: {len(value)} elements; expected{self._range().replace(' of ', ' ')}")
        if self.choices is not None:
            bad = [x for x in value if x not in self.choices]
            if bad:
                raise UsageError(f"parameter {name}: element {bad[0]!r} is not valid; valid elements are "
                                 f"{', '.join(map(str, self.choices))}")
        return value

    def _range(self) -> str:
        if self.min is not None and self.max is not None:
            return f" from {self.min} to {self.max}"
        if self.min is not None:
            return f" of at least {self.min}"
        if self.max is not None:
            return f" of at most {self.max}"
        return ""


def _element_words(element: type, one: bool = False) -> str:
    words = {int: "integer", float: "number", str: "string"}[element]
    return f"a{'n' if words[0] == 'i' else ''} {words}" if one else f"{words}s"


def _example(element: type) -> str:
    return {int: "0,2", float: "0.5,1", str: "a,b,c"}[element]


def plain(value: Any) -> Any:
    """A parameter value as JSON can hold it: a set as a sorted list, a tuple as a list (``Param`` converts back)."""
    if isinstance(value, frozenset):
        return sorted(value, key=lambda x: (type(x).__name__, x))
    if isinstance(value, tuple):
        return list(value)
    return value


def parse_assignments(pairs: list[str] | None) -> dict[str, str]:
    """``["rm=3", "f=1"]`` -> ``{"rm": "3", "f": "1"}``, one-line errors for malformed pairs."""
    out: dict[str, str] = {}
    for pair in pairs or ():
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"parameter {pair!r}: expected KEY=VALUE, e.g. -p rm=3")
        out[key.strip()] = value.strip()
    return out


def resolve_params(protocol: str, declared: dict[str, Param], given: dict[str, Any]) -> dict[str, Any]:
    """Defaults overlaid with ``given`` (text or values), every value checked."""
    unknown = sorted(set(given) - set(declared))
    if unknown:
        valid = ", ".join(sorted(declared)) or "none"
        raise UsageError(f"unknown parameter {unknown[0]!r} for {protocol}; valid: {valid}")
    values = {}
    for name, param in declared.items():
        if name in given:
            raw = given[name]
            values[name] = param.parse(name, raw) if isinstance(raw, str) and param.type is not str else param.validate(name, raw)
        else:
            values[name] = param.default
    return values
