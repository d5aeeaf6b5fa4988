"""A record with one field of each kind branch numbering tells apart (a tuple, a set, a scalar), and a state of
it: the numbering's tests and the compiled engine's traced numbering start from the same state."""

from __future__ import annotations

from typing import NamedTuple

from consensuslab import record


@record
class Cell(NamedTuple):
    a: tuple
    b: frozenset
    c: int


BASE = Cell((0, 1, 2), frozenset({1, 3}), 1)
