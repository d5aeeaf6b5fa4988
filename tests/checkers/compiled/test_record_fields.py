"""Records fields (a record, or a tuple of records of one type) packed one part per attribute (``records.py``)."""

from __future__ import annotations

from typing import NamedTuple

import pytest

from benchmark_specs import spec_class
from consensuslab import Param, Spec, action, always, always_step, check, record, replace_at
from consensuslab.checkers.compiled.engine import CompiledSearch
from consensuslab.checkers.compiled.packing import RECORDS, TUPLE, Layout
from consensuslab.checkers.compiled.records import records_of, type_tested
from consensuslab.checkers.compiled.views import Reads, StateView
from consensuslab.checkers.compiled.writes import encode_writes, writes_of


@record
class Peer(NamedTuple):
    vote: str
    alive: bool
    decision: str
    faulty: bool


@record
class Boss(NamedTuple):
    sent: tuple
    alive: bool
    decision: str


@record
class Crowd(NamedTuple):
    peer: tuple  # peer[k]: a Peer
    boss: Boss


def crowd(n: int = 3) -> Crowd:
    return Crowd(tuple(Peer("yes" if k % 2 == 0 else "no", True, "none", False) for k in range(n)),
                 Boss((False,) * n, True, "none"))


def view_of(state):
    layout = Layout.learn([state], records_of())
    for value in ("commit", "abort"):  # values the edits below write, with room for them
        layout.by_name["peer"].parts[2].interner.id(value)
        layout.by_name["boss"].parts[2].interner.id(value)
    layout.widen()
    reads = Reads()
    return layout, reads, StateView(layout.encode(state), layout, reads)


def cell(f, k: int, attr: str) -> int:
    """The bits of attribute ``attr`` of record ``k`` of records field ``f``."""
    return f.parts[f.attrs[attr]].slot_bits(k)


def test_an_attribute_of_a_record_in_a_tuple_reads_its_cell_alone():
    layout, reads, view = view_of(crowd())
    f = layout.by_name["peer"]
    assert (f.kind, f.rows, f.columns) == (RECORDS, 3, 4)
    p = view.peer[1]
    assert reads.mask == 0 and isinstance(p, Peer) and len(p) == 4
    assert p.faulty is False and reads.mask == cell(f, 1, "faulty")
    assert p.vote == "no" and reads.mask == cell(f, 1, "faulty") | cell(f, 1, "vote")
    reads.mask = 0
    assert not any(q.faulty for q in view.peer)
    assert reads.mask == cell(f, 0, "faulty") | cell(f, 1, "faulty") | cell(f, 2, "faulty")
    reads.mask = 0
    assert view.peer[-1] == crowd().peer[2] and reads.mask == f.parts[0].slot_bits(2) | cell(f, 2, "alive") | \
        cell(f, 2, "decision") | cell(f, 2, "faulty")  # comparing a whole record reads all of it


def test_an_attribute_of_a_record_field_reads_its_cell_alone():
    layout, reads, view = view_of(crowd())
    f = layout.by_name["boss"]
    assert (f.kind, f.single) == (RECORDS, True)
    assert isinstance(view.boss, Boss) and view.boss.alive and reads.mask == cell(f, 0, "alive")
    assert view.boss.sent[2] is False and reads.mask == cell(f, 0, "alive") | cell(f, 0, "sent")


def test_replace_on_a_record_in_a_tuple_writes_the_cells_it_sets():
    state = crowd()
    layout, reads, view = view_of(state)
    f = layout.by_name["peer"]
    new = view._replace(peer=replace_at(view.peer, 1, view.peer[1]._replace(faulty=True, alive=False)))
    mask, bits = encode_writes(writes_of(new, view), layout)
    assert mask == cell(f, 1, "faulty") | cell(f, 1, "alive") and reads.mask == 0
    after = layout.decode(layout.encode(state) & ~mask | bits)
    assert after == state._replace(peer=replace_at(state.peer, 1, state.peer[1]._replace(faulty=True, alive=False)))


def test_replace_on_a_record_field_writes_the_cells_it_sets():
    state = crowd()
    layout, reads, view = view_of(state)
    f = layout.by_name["boss"]
    new = view._replace(boss=view.boss._replace(decision="abort"))
    mask, bits = encode_writes(writes_of(new, view), layout)
    assert mask == cell(f, 0, "decision") and reads.mask == 0
    assert layout.decode(layout.encode(state) & ~mask | bits).boss == state.boss._replace(decision="abort")


def test_a_record_from_elsewhere_is_read_and_written_whole():
    state = crowd()
    layout, reads, view = view_of(state)
    f = layout.by_name["peer"]
    moved = replace_at(view.peer, 0, view.peer[1]._replace(decision="commit"))
    mask, bits = encode_writes(writes_of(view._replace(peer=moved), view), layout)
    assert mask == sum(cell(f, 0, a) for a in Peer._fields)
    assert reads.mask == cell(f, 1, "vote") | cell(f, 1, "alive") | cell(f, 1, "faulty")  # not its decision
    assert layout.decode(layout.encode(state) & ~mask | bits).peer[0] == state.peer[1]._replace(decision="commit")


class Commit(Spec):
    """Peers vote, die, and learn a boss's decision."""

    name = "records-commit"
    params = {"n": Param(3, "peers")}

    def setup(self):
        self.P = range(self.n)

    def init(self):
        for votes in ((("yes",) * self.n), ("no",) + ("yes",) * (self.n - 1)):
            yield Crowd(tuple(Peer(v, True, "none", False) for v in votes), Boss((False,) * self.n, True, "none"))

    @action(k="P")
    def Send(self, s, k):
        if s.boss.alive and not s.boss.sent[k]:
            return s._replace(boss=s.boss._replace(sent=replace_at(s.boss.sent, k, True)))

    @action
    def Decide(self, s):  # unlabelled branches editing different cells of the boss
        b = s.boss
        if b.alive and b.decision == "none" and all(b.sent):
            yield s._replace(boss=b._replace(decision="abort"))
            if all(p.vote == "yes" for p in s.peer):
                yield s._replace(boss=b._replace(decision="commit"))

    @action(k="P")
    def Learn(self, s, k):  # unlabelled branches editing different cells of one peer
        p = s.peer[k]
        if p.alive and p.decision == "none":
            if s.boss.decision != "none":
                yield s._replace(peer=replace_at(s.peer, k, p._replace(decision=s.boss.decision)))
            if not s.boss.alive:
                yield s._replace(peer=replace_at(s.peer, k, p._replace(decision="abort", vote="no")))

    @action(k="P")
    def Die(self, s, k):
        if s.peer[k].alive and sum(p.faulty for p in s.peer) < 2:
            return s._replace(peer=replace_at(s.peer, k, s.peer[k]._replace(alive=False, faulty=True)))

    @action(k="P")
    def Copy(self, s, k):  # a whole record from another slot
        if 0 < k and s.peer[k - 1].decision == "abort" and s.peer[k].decision == "none" and s.peer[k].alive:
            return s._replace(peer=replace_at(s.peer, k, Peer(s.peer[k].vote, True, "abort", False)))

    @action
    def BossDies(self, s):
        if s.boss.alive:
            return s._replace(boss=Boss(s.boss.sent, False, s.boss.decision))

    @always
    def TypeOK(self, s):
        return all(p.decision in ("none", "commit", "abort") for p in s.peer)

    @always_step
    def FaultyStable(self, s, act, t):
        return all(not p.faulty or q.faulty for p, q in zip(s.peer, t.peer)) and (s.boss.alive or not t.boss.alive)


class TypedCommit(Commit):
    """``Commit`` with an invariant that asks each peer's type, as MultiPaxos's ``TypeOK`` does."""

    name = "records-commit-typed"

    @always
    def Typed(self, s):
        return all(type(p) is Peer for p in s.peer)


class NamedTypeCommit(Commit):
    """``Commit`` asking each peer's type by name, which the scan for ``type(...)`` comparisons does not see."""

    name = "records-commit-named-type"

    @always
    def Typed(self, s):
        return all(type(p).__name__ == "Peer" for p in s.peer)


@pytest.mark.parametrize("spec, params", [(Commit, {}), (Commit, {"n": 2}), (TypedCommit, {}),
                                          (NamedTypeCommit, {})])
def test_a_spec_over_records_counts_as_the_interpreted_engine(spec, params):
    compiled = check(spec(params).compile(), engine="compiled", progress=False)
    interpreted = check(spec(params).compile(), engine="interpreted", progress=False)
    assert compiled.extra["engine"] == "compiled"
    assert (compiled.status, compiled.distinct_states, compiled.states_generated, compiled.depth) == \
        (interpreted.status, interpreted.distinct_states, interpreted.states_generated, interpreted.depth)
    assert compiled.distinct_states > 50


def test_a_record_view_that_answers_otherwise_packs_its_field_whole():
    """``type(p).__name__`` is not ``Peer`` on a record's view: the field is packed as a tuple of records again,
    and the search restarts."""
    plain = CompiledSearch(Commit({}).compile(), progress=False, insist=True)
    plain.run()
    search = CompiledSearch(NamedTypeCommit({}).compile(), progress=False, insist=True)
    assert search.run().extra["engine"] == "compiled"
    assert search.layout.by_name["peer"].kind == TUPLE and search.restarts == plain.restarts + 1
    assert search.layout.by_name["boss"].kind == RECORDS  # Typed reads no boss


def test_a_spec_that_compares_a_records_type_keeps_those_records_whole_from_the_start():
    """``type(p) is Peer`` in the spec's class: its peers are packed whole before the search, with no restart;
    ``Commit``, which asks no type, keeps them per attribute (the scan reads the spec's own classes)."""
    assert type_tested(TypedCommit({})) >= {"Peer"} and "Peer" not in type_tested(Commit({}))
    plain = CompiledSearch(Commit({}).compile(), progress=False, insist=True)
    plain.run()
    search = CompiledSearch(TypedCommit({}).compile(), progress=False, insist=True)
    assert search.run().extra["engine"] == "compiled"
    assert search.layout.by_name["peer"].kind == TUPLE and search.restarts == plain.restarts  # none for the type
    assert search.layout.by_name["boss"].kind == RECORDS


def test_a_die_reads_the_cells_it_asks():
    search = CompiledSearch(Commit({}).compile(), progress=False, insist=True)
    search.run()
    peer, boss = search.layout.by_name["peer"], search.layout.by_name["boss"]
    assert peer.kind == boss.kind == RECORDS
    die = next(u for u in search.actions if str(u.label) == "Die(1)")
    assert die.mask & peer.mask == cell(peer, 0, "faulty") | cell(peer, 1, "faulty") | cell(peer, 2, "faulty") | \
        cell(peer, 1, "alive") and not die.mask & boss.mask


@pytest.mark.parametrize("scenario", ["small", "cfg"])
def test_acp_sb_counts_as_the_interpreted_engine_and_reads_narrowly(scenario):
    spec = spec_class("acp_sb")
    params = {"n": 2 if scenario == "small" else 3}
    compiled = check(spec(params).compile(), engine="compiled", progress=False)
    interpreted = check(spec(params).compile(), engine="interpreted", progress=False)
    assert compiled.extra["engine"] == "compiled"
    assert (compiled.distinct_states, compiled.states_generated, compiled.depth) == \
        (interpreted.distinct_states, interpreted.states_generated, interpreted.depth)
    assert compiled.distinct_states == (1832 if scenario == "small" else 54944)
    # one interned Participant per slot: 277,152 traced calls on cfg (14,419 on small), most of them by
    # FaultyStable, AC4_alt and VoteStable, whose keys held every participant whole
    assert compiled.extra["compiled"]["traced_calls"] < (5000 if scenario == "cfg" else 3000)
