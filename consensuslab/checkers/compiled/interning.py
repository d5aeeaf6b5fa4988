"""The values of a packed field, numbered in order of first sight: a slot or a set bit holds a value's number."""

from __future__ import annotations

from typing import Any


class Interner:
    """Values of one field (or elements of one set field) numbered in order of first sight.

    ``log`` (shared by a layout's interners) lists the interner of every value
    numbered, in order, so a computation that must not number anything can
    check one length and undo what it numbered (``Layout.forget_since``).
    """

    __slots__ = ("ids", "values", "log")

    def __init__(self, log: list | None = None):
        self.ids: dict[Any, int] = {}
        self.values: list[Any] = []
        self.log = [] if log is None else log

    def id(self, value) -> int:
        found = self.ids.get(value)
        if found is None:
            found = self.ids[value] = len(self.values)
            self.values.append(value)
            self.log.append(self)
        return found

    def __len__(self) -> int:
        return len(self.values)

    def forget_last(self) -> None:
        del self.ids[self.values.pop()]
