"""Actions that yield several next states without declaring their branches run on the compiled engine.

Each step the search meets is a row ``Name(args..., branch)``, as a domain that reads the state gives a row
per argument met (``compiled/domains.py``), and the branches of a traced view are numbered reading only the
places where they differ (``compiled/branch_order.py``).  Compared with the interpreted search: counts,
verdicts, counterexamples and the labels of every step.
"""

from __future__ import annotations

from typing import NamedTuple

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from consensuslab import Param, Spec, action, always, check, record, replace_at
from consensuslab.checkers.compiled import domains
from consensuslab.checkers.compiled.branch_order import view_order
from consensuslab.checkers.compiled.engine import CompiledSearch
from consensuslab.checkers.compiled.packing import Layout
from consensuslab.checkers.compiled.view_values import is_view, real
from consensuslab.checkers.compiled.views import Reads, StateView
from consensuslab.models.branch_numbers import change_order

from branch_cells import BASE, Cell


@record
class Rumours(NamedTuple):
    know: tuple  # per node: the rumours it knows
    sent: frozenset  # (src, dst, rumour) in flight
    budget: int


class Gossip(Spec):
    """Every kind of undeclared branch: over a constant domain, over a set the state holds (tested by
    membership), labelled without ``branches=``, and with no argument at all; equal next states are one step."""

    name = "gossip"
    params = {"n": Param(3, "nodes", min=2, max=4), "budget": Param(3, "sends", min=0, max=6)}
    variants = {"leak": "a receive may also learn a rumour the message does not carry"}
    check_deadlock = False

    def setup(self):
        self.Node = tuple(range(self.n))

    def init(self):
        yield Rumours(tuple(frozenset({i}) for i in self.Node), frozenset(), self.budget)

    @action(i="Node")
    def Send(self, s, i):
        """``\\E j \\in Node \\ {i}, r \\in know[i] : sent' = sent \\cup {<<i, j, r>>}``."""
        if s.budget == 0:
            return
        for j in self.Node:
            for r in sorted(s.know[i]):
                if j != i and (i, j, r) not in s.sent:
                    yield s._replace(sent=s.sent | {(i, j, r)}, budget=s.budget - 1)

    @action(m=lambda self, s: s.sent)
    def Receive(self, s, m):
        _, j, r = m
        yield "deliver", s._replace(sent=s.sent - {m}, know=replace_at(s.know, j, s.know[j] | {r}))
        yield "lose", s._replace(sent=s.sent - {m})
        if self.variant == "leak":
            yield "leak", s._replace(sent=s.sent - {m}, know=replace_at(s.know, j, s.know[j] | {r, (r + 1) % self.n}))

    @action
    def Forget(self, s):
        for i in self.Node:
            yield s._replace(know=replace_at(s.know, i, frozenset({i})))  # equal next states where i knew only i

    @always
    def OnlyWhatWasSent(self, s):
        """Each rumour a node learnt from others took a send (the leak learns two from one)."""
        return sum(len(k - {j}) for j, k in enumerate(s.know)) <= self.budget - s.budget


def outcome(r) -> tuple:
    v = r.violation
    return (r.status, r.distinct_states, r.states_generated, r.depth, v and v.property,
            v and [str(a) for a, _ in v.trace.steps], v and list(v.trace.states))


@pytest.mark.parametrize("params", [{}, {"n": 2, "budget": 4}, {"variant": "leak"}])
def test_undeclared_branches_compile_with_the_interpreted_answer(params):
    variant = params.pop("variant", None)
    interpreted = check(Gossip(params, variant=variant).compile(), engine="interpreted", progress=False)
    compiled = check(Gossip(params, variant=variant).compile(), engine="compiled", progress=False)
    assert compiled.extra["engine"] == "compiled"
    assert outcome(compiled) == outcome(interpreted)
    assert compiled.status == ("violation" if variant else "ok")
    if variant:  # the step that breaks it is a labelled branch, and the sends before it numbered ones
        steps = [str(a) for a, _ in compiled.violation.trace.steps]
        assert steps[-1].endswith(", leak)") and steps[0].startswith("Send(")


def test_each_row_reads_what_its_branches_read():
    """A receive's rows and the check that its branches have rows read their message's bit, not the whole set
    in flight; a send's rows read the bits of the messages it may add (which number its branches), not the
    others."""
    search = CompiledSearch(Gossip({"n": 3, "budget": 4}).compile(), progress=False, insist=True)
    assert search.run().status == "ok"
    sent = search.layout.by_name["sent"]
    numbered = len(sent.interner)
    receives = [u for u in search.actions if u.label.name == "Receive"]
    checks = [u for g in search.domain_groups for u in g.units if u.name.startswith("branches of Receive")]
    assert len(receives) == 2 * numbered and len(checks) == numbered  # deliver and lose per message met
    assert all((u.mask & sent.mask).bit_count() == 1 for u in receives + checks)
    sends = [u for u in search.actions if u.label.name == "Send"]
    assert sends and all(0 < (u.mask & sent.mask).bit_count() <= 6 < numbered for u in sends)


# -- the order of a traced view's branches is the canonical order of the real next states --------------------
EDITS = st.lists(st.one_of(
    st.tuples(st.just("a"), st.integers(0, 2), st.integers(0, 3)),
    st.tuples(st.just("b"), st.integers(0, 4), st.booleans()),
    st.tuples(st.just("c"), st.integers(0, 2), st.none()),
), max_size=3)


def apply(state, edits):
    """``state`` updated by ``edits`` (on a view: a ``Written`` of edits of its field views)."""
    out = state
    for field, x, y in edits:
        if field == "a":
            out = out._replace(a=replace_at(state.a, x, y))
        elif field == "b":
            out = out._replace(b=(state.b | {x}) if y else (state.b - {x}))
        else:
            out = out._replace(c=x)
    return out


def rebuilt(state):
    """The next state as a record built field by field (holding the view's fields, on a view)."""
    return Cell(state.a, state.b, state.c)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(EDITS, st.booleans()), min_size=1, max_size=5))
def test_view_order_is_the_order_of_the_real_next_states(branches):
    """Updates of the view, and (where one is) records built field by field, ordered as on the real state."""
    layout = Layout.learn([BASE, Cell((3, 3, 3), frozenset(range(5)), 2)])
    reads = Reads()
    view = StateView(layout.encode(BASE), layout, reads)
    on_view = view_order(view, [rebuilt(apply(view, e)) if whole else apply(view, e) for e, whole in branches])
    expected = change_order(BASE, [apply(BASE, e) for e, _ in branches])
    as_real = [real(x) if is_view(x) else Cell(*(real(v) for v in x)) for x in on_view]
    assert [layout.encode(x) for x in as_real] == [layout.encode(x) for x in expected]


def test_view_order_reads_only_where_branches_differ():
    layout = Layout.learn([BASE, Cell((3, 3, 3), frozenset(range(5)), 2)])
    reads = Reads()
    view = StateView(layout.encode(BASE), layout, reads)
    ordered = view_order(view, [view._replace(a=replace_at(view.a, 2, 0), b=view.b - {3}),
                                view._replace(b=view.b - {3}),
                                view._replace(a=replace_at(view.a, 2, 0), b=view.b - {3})])
    assert len(ordered) == 2  # the first and the third are one next state
    a = layout.by_name["a"]
    assert reads.mask == a.slot_bits(2)  # slot 2 of a tells them apart; b is edited alike; c untouched
    reads.mask = 0
    assert len(view_order(view, [view._replace(b=view.b | {k}) for k in (4, 0, 3)])) == 3
    b = layout.by_name["b"]
    assert reads.mask == b.element_bit(4) | b.element_bit(0) | b.element_bit(3)  # one bit per element added


def test_a_domain_of_many_elements_has_one_check_for_all(monkeypatch):
    """Past ``PER_ELEMENT_CHECKS`` elements, one check lists the domain (reading all of it): the same answer."""
    monkeypatch.setattr(domains, "PER_ELEMENT_CHECKS", 2)
    search = CompiledSearch(Gossip({"n": 3, "budget": 3}).compile(), progress=False, insist=True)
    compiled = search.run()
    interpreted = check(Gossip({"n": 3, "budget": 3}).compile(), engine="interpreted", progress=False)
    assert outcome(compiled) == outcome(interpreted)
    names = [u.name for g in search.domain_groups for u in g.units]
    assert "arguments of Receive" in names and not any(n.startswith("branches of Receive") for n in names)
