"""Grid fields (a tuple of equal-length tuples) packed one slot per cell (``tuple_views.py``)."""

from __future__ import annotations

from typing import NamedTuple

import pytest

from consensuslab import Param, Spec, action, always, check, record, replace_at
from consensuslab.checkers.compiled.engine import CompiledSearch
from consensuslab.checkers.compiled.packing import GRID, TUPLE, Layout
from consensuslab.checkers.compiled.views import Reads, StateView
from consensuslab.checkers.compiled.writes import encode_writes, writes_of


@record
class Mesh(NamedTuple):
    clock: tuple  # clock[p]
    chan: tuple  # chan[p][q]: messages from p to q (a FIFO tuple)


def mesh(n: int = 3) -> Mesh:
    return Mesh((0,) * n, tuple(tuple((("hi", p),) if q != p else () for q in range(n)) for p in range(n)))


def view_of(state):
    layout = Layout.learn([state])
    for value in ((), (("hi", 2), ("ack", 2))):  # values the edits below write, with room for them
        layout.by_name["chan"].interner.id(value)
    layout.widen()
    reads = Reads()
    return layout, reads, StateView(layout.encode(state), layout, reads)


def test_a_cell_read_records_its_slot_alone():
    layout, reads, view = view_of(mesh())
    f = layout.by_name["chan"]
    assert (f.kind, f.rows, f.columns) == (GRID, 3, 3)
    row = view.chan[1]
    assert reads.mask == 0 and len(row) == 3 and isinstance(row, tuple)
    assert row[2] == (("hi", 1),) and reads.mask == f.slot_bits(1 * 3 + 2)
    assert view.chan == mesh().chan and reads.mask & f.mask == f.mask  # the whole value reads every cell


def test_replace_at_on_a_row_writes_the_cell_it_sets():
    state = mesh()
    layout, reads, view = view_of(state)
    f = layout.by_name["chan"]
    moved = replace_at(view.chan, 0, replace_at(view.chan[0], 1, ()))
    moved = replace_at(moved, 2, replace_at(moved[2], 0, moved[2][0] + (("ack", 2),)))
    changes = writes_of(view._replace(chan=moved), view)
    mask, bits = encode_writes(changes, layout)
    assert mask == f.slot_bits(1) | f.slot_bits(6)  # cells (0, 1) and (2, 0)
    assert reads.mask == f.slot_bits(6)  # appending to a channel reads it; emptying one does not
    after = layout.decode(layout.encode(state) & ~mask | bits)
    assert after.chan[0][1] == () and after.chan[2][0] == (("hi", 2), ("ack", 2)) and after.chan[1] == state.chan[1]


def test_a_row_copied_from_another_row_reads_it_and_writes_every_cell():
    state = mesh()
    layout, reads, view = view_of(state)
    f = layout.by_name["chan"]
    mask, bits = encode_writes(writes_of(view._replace(chan=replace_at(view.chan, 0, view.chan[1])), view), layout)
    assert mask == f.slot_bits(0) | f.slot_bits(1) | f.slot_bits(2)
    assert reads.mask == f.slot_bits(3) | f.slot_bits(4) | f.slot_bits(5)
    assert layout.decode(layout.encode(state) & ~mask | bits).chan[0] == state.chan[1]


class Gossip(Spec):
    """Processes pass a token along FIFO channels; ``Grow`` may give row 0 another column (a ragged grid)."""

    name = "gossip"
    params = {"n": Param(3, "processes"), "ragged": Param(False, "let Grow change a row's length")}

    def init(self):
        yield mesh(self.n)

    @action(p="P", q="P")
    def Receive(self, s, p, q):
        channel = s.chan[q][p]
        if not channel or s.clock[p] >= 2:
            return None
        chan = replace_at(s.chan, q, replace_at(s.chan[q], p, channel[1:]))
        if s.clock[p] < 1:
            chan = replace_at(chan, p, replace_at(chan[p], q, chan[p][q] + (("ack", p),)))
        return s._replace(clock=replace_at(s.clock, p, s.clock[p] + 1), chan=chan)

    @action(p="P")
    def Swap(self, s, p):
        if p + 1 < self.n and s.clock[p] == 1:
            return s._replace(chan=replace_at(replace_at(s.chan, p, s.chan[p + 1]), p + 1, s.chan[p]))

    @action
    def Grow(self, s):
        if self.ragged and len(s.chan[0]) == self.n and s.clock[0] == 1:
            return s._replace(chan=replace_at(s.chan, 0, s.chan[0] + ((),)))

    @always
    def Bounded(self, s):
        return all(len(c) <= 3 for row in s.chan for c in row)

    def setup(self):
        self.P = range(self.n)


@pytest.mark.parametrize("params", [{}, {"ragged": True}, {"n": 2}])
def test_a_spec_over_a_grid_counts_as_the_interpreted_engine(params):
    compiled = check(Gossip(params).compile(), engine="compiled", progress=False)
    interpreted = check(Gossip(params).compile(), engine="interpreted", progress=False)
    assert compiled.extra["engine"] == "compiled"
    assert (compiled.status, compiled.distinct_states, compiled.states_generated) == \
        (interpreted.status, interpreted.distinct_states, interpreted.states_generated)
    assert compiled.distinct_states > 10


def test_a_ragged_grid_is_packed_as_a_tuple_of_rows():
    search = CompiledSearch(Gossip({"ragged": True}).compile(), progress=False, insist=True)
    assert search.run().extra["engine"] == "compiled"
    assert search.layout.by_name["chan"].kind == TUPLE and search.restarts >= 1


def test_a_receive_reads_two_cells_and_one_clock():
    search = CompiledSearch(Gossip({}).compile(), progress=False, insist=True)
    search.run()
    f, clock = search.layout.by_name["chan"], search.layout.by_name["clock"]
    receive = next(u for u in search.actions if str(u.label) == "Receive(1, 2)")
    assert receive.mask == f.slot_bits(2 * 3 + 1) | f.slot_bits(1 * 3 + 2) | clock.slot_bits(1)


def test_iterating_a_tuple_field_reads_each_position_as_it_is_reached():
    """``all``/``any`` over a tuple field stop early: the key is the prefix read, not the whole field."""
    layout, reads, view = view_of(Mesh((0, 1, 0), mesh().chan))
    clock = layout.by_name["clock"]
    assert not all(c == 0 for c in view.clock)
    assert reads.mask == clock.slot_bits(0) | clock.slot_bits(1)  # stopped at the 1 in position 1
    reads.mask = 0
    assert any(len(ch) == 0 for ch in view.chan[0]) and reads.mask == layout.by_name["chan"].slot_bits(0)
    reads.mask = 0
    assert tuple(view.clock) == (0, 1, 0) and reads.mask == clock.mask  # a whole tuple reads every position
