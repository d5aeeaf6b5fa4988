"""Set fields decoded 16 bits at a time; remembered encodings; a memo key that widens keeps its narrower table."""

from __future__ import annotations

import random
from typing import NamedTuple

from consensuslab.checkers.compiled.memo import Unit
from consensuslab.checkers.compiled.packing import SET, Layout


class Bag(NamedTuple):
    items: frozenset
    n: int


def test_sets_over_several_chunks_decode_to_what_was_encoded():
    rng = random.Random(7)
    states = [Bag(frozenset(rng.sample(range(70), k)), k) for k in range(40)]
    layout = Layout.learn(states)
    f = layout.by_name["items"]
    assert f.kind == SET and f.width > 48  # four chunks and more
    for s in states:
        assert layout.decode(layout.encode(s)) == s
    assert f.chunks  # remembered


def test_remembered_chunks_stay_right_when_the_layout_widens():
    layout = Layout.learn([Bag(frozenset({1, 2}), 0)])
    first = layout.encode(Bag(frozenset({1, 2}), 0))
    assert layout.decode(first).items == {1, 2}
    more = [Bag(frozenset(range(k)), k) for k in range(3, 40)]
    layout.encode_all(more)  # widens: every field moves, element numbers do not
    for s in more:
        assert layout.by_name["items"].decode(layout.encode(s)) == s.items


def test_a_remembered_encoding_is_forgotten_with_the_numbers_it_used():
    layout = Layout.learn([Bag(frozenset({1}), 0)])
    mark = len(layout.numbered)
    trial = layout.encode(Bag(frozenset({5}), 0))  # numbers 5, as a computation that must not number might
    layout.forget_since(mark)  # 5's number is free again
    other = layout.encode(Bag(frozenset({9}), 0))  # and 9 takes it
    assert other == trial
    again = layout.encode(Bag(frozenset({5}), 0))
    assert again != other and layout.decode(again).items == {5}


def test_a_field_has_room_for_twice_the_values_it_has_seen():
    states = [Row((k % 8, 0, 0)) for k in range(8)]  # eight values of xs, ids 0..7
    layout = Layout.learn(states)
    layout.widen()
    # sixteen ids (4 bits), then one more bit of the word's 52 spare ones: never a word more
    assert layout.by_name["xs"].width == 5 and layout.bits <= 64
    assert all(layout.decode(layout.encode(s)) == s for s in states)


class Three(NamedTuple):
    a: tuple
    b: int
    c: bool


def test_the_spare_bits_of_the_last_word_go_to_the_fullest_fields_first():
    """a: 12 slots of 6 values (4 bits each, 37% full), b: 30 values (6 bits, 47%), c: 2 values (2 bits, 50%):
    56 bits, 8 spare.  c and b take one more bit each; a's 12 would need a second word."""
    states = [Three(tuple(k % 6 for _ in range(12)), k, k % 2 == 0) for k in range(30)]
    layout = Layout.learn(states)
    widths = {f.name: f.width for f in layout.fields}
    assert widths == {"a": 4, "b": 7, "c": 3} and layout.bits == 58
    assert all(layout.decode(layout.encode(s)) == s for s in states)


class Row(NamedTuple):
    xs: tuple


def all_zero(s):
    return all(x == 0 for x in s.xs)


def test_a_key_that_widens_keeps_answering_from_the_narrower_table():
    states = [Row((1, 0, 0)), Row((0, 1, 0)), Row((1, 1, 1)), Row((0, 0, 0))]
    layout = Layout.learn(states)
    unit = Unit("all_zero", all_zero, (), "all_zero", False, layout)
    first = layout.by_name["xs"].slot_bits(0)
    assert unit.value(layout.encode(states[0])) is False and unit.mask == first  # read xs[0] alone
    assert unit.value(layout.encode(states[1])) is False and unit.mask != first  # read further: a wider key
    assert unit.traced == 2
    assert unit.value(layout.encode(states[2])) is False  # xs[0] == 1: the narrower table knows
    assert unit.traced == 2
    assert unit.value(layout.encode(states[3])) is True and unit.traced == 3


class Ring(NamedTuple):
    active: tuple
    pos: int


def compare_rings(s):
    """Reads every slot of ``active`` (a whole-tuple comparison) and notes what a traced call was handed."""
    if type(s) is not Ring:  # a view, not the real state its answer is confirmed on
        compare_rings.handed.append(type(s.active).__name__)
    return s.active == (True, False, True) or s.pos == 0


def bump(s):
    """An action that rebuilds the record from the field it was handed, changing only ``pos``."""
    if s.active[0]:
        return Ring(s.active, (s.pos + 1) % 3)


def test_a_tuple_field_the_key_already_holds_is_handed_over_whole():
    states = [Ring((True, False, True), 1), Ring((False, False, True), 1), Ring((True, True, True), 2)]
    layout = Layout.learn(states + [Ring((False, False, True), 0)])
    field = layout.by_name["active"]
    compare_rings.handed = []
    unit = Unit("compare_rings", compare_rings, (), "compare_rings", False, layout)
    assert unit.value(layout.encode(states[0])) is True
    assert unit.mask & field.mask == field.mask  # the comparison read every slot
    assert unit.value(layout.encode(states[1])) is False and unit.value(layout.encode(states[2])) is False
    assert compare_rings.handed == ["TupleView", "tuple", "tuple"]  # a view first, then the real tuple
    assert unit.traced == 3 and unit.mask & field.mask == field.mask
    assert unit.value(layout.encode(Ring((False, False, True), 0))) is True  # ``pos`` decides: a new key


def test_an_action_that_keeps_a_handed_tuple_writes_only_what_it_changes():
    states = [Ring((True, False, True), 1), Ring((True, True, True), 2), Ring((False, True, True), 0)]
    layout = Layout.learn(states)
    active, pos = layout.by_name["active"], layout.by_name["pos"]
    action = Unit("bump", bump, (), "bump", True, layout)
    action.mask = active.mask | pos.mask  # a key over both fields: ``active`` is handed over whole
    for s in states[:2]:
        written, bits = action.value(layout.encode(s))
        assert written == pos.mask  # ``active`` came back as it was handed: not written
        assert layout.decode(layout.encode(s) & ~written | bits) == bump(s)
