"""``canon``: one total order over the values a state or an action holds, the same in every process.

It is dispatched on the value's type, decided once per type; these pin which rule each kind of value gets,
subclasses included (a bool is an int to Python, an IntEnum too, a NamedTuple a tuple)."""

import enum
from typing import NamedTuple

import pytest

from consensuslab.models.records import message, record
from consensuslab.models.values import canon


@record
class Pair(NamedTuple):
    a: int
    b: frozenset


@message
class Ping:
    to: str
    n: int


class Level(enum.IntEnum):
    LOW = 1


class Name(str):
    pass


class Plain(NamedTuple):
    x: int


def test_each_kind_of_value_has_its_rule():
    assert canon(None) == (0,)
    assert canon(True) == (1, 1) and canon(False) == (1, 0)  # a bool, not the int it also is
    assert canon(3) == (2, 3) and canon(Level.LOW) == (2, Level.LOW)
    assert canon("a") == (3, "a") and canon(Name("a")) == (3, "a")
    assert canon(b"\x01") == (4, b"\x01")
    assert canon((1, "a")) == (5, ((2, 1), (3, "a")))
    assert canon(frozenset({2, 1})) == canon({1, 2}) == (6, ((2, 1), (2, 2)))
    assert canon(Ping("s1", 2)) == (7, "Ping", ((3, "s1"), (2, 2)))
    assert canon(Pair(1, frozenset())) == (8, "Pair", ((2, 1), (6, ())))
    assert canon(Plain(4)) == (8, "Plain", ((2, 4),))
    assert canon({"k": (1,)}) == (9, (((3, "k"), (5, ((2, 1),))),))


def test_the_order_is_total_across_kinds_and_deep():
    values = [{"k": 1}, Pair(0, frozenset()), Ping("a", 1), frozenset({1}), (True, 2), b"x", "s", 7, False, None,
              ((1, frozenset({Ping("b", 0)})), "x")]
    ordered = sorted(values, key=canon)
    assert ordered[:9] == [None, False, 7, "s", b"x", (True, 2), ((1, frozenset({Ping("b", 0)})), "x"),
                           frozenset({1}), Ping("a", 1)]
    assert ordered[9:] == [Pair(0, frozenset()), {"k": 1}]
    assert canon(frozenset({Ping("b", 0), Ping("a", 9)})) < canon(frozenset({Ping("b", 0)}))  # "a" sorts first


def test_a_value_of_no_known_kind_is_refused():
    with pytest.raises(TypeError, match="value of type object cannot be part of a protocol state or action"):
        canon((1, object()))
