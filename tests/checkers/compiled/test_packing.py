"""Set fields decoded 16 bits at a time, each chunk's elements remembered."""

from __future__ import annotations

import random
from typing import NamedTuple

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
