"""A domain over a set field (``m=lambda self, s: s.msgs``) tested by membership, and static helpers traced too."""

from __future__ import annotations

from typing import NamedTuple

import pytest

from consensuslab import check
from consensuslab.checkers.compiled import domains as domains_module
from consensuslab.checkers.compiled import filtering
from consensuslab.checkers.compiled.domains import StateDomains
from consensuslab.checkers.compiled.filtering import TracedSpec
from consensuslab.checkers.compiled.membership import Member
from consensuslab.checkers.compiled.packing import Layout
from consensuslab.models.properties import always
from consensuslab.models.records import record, replace_at
from consensuslab.models.spec import Spec, action


@record
class Tell(NamedTuple):
    src: int
    dst: int
    val: str


@record
class Gossip(NamedTuple):
    known: tuple  # per node: the values it has heard of
    msgs: frozenset  # every message sent, kept (as Paxos.tla keeps its messages)


class Gossiping(Spec):
    """Each node tells the others what it knows; a node learns from any message sent to it.

    ``Learn`` is written as the tutorial writes ``\\E m \\in msgs``: a domain that reads the state."""

    name = "gossiping"
    Nodes = (0, 1, 2)

    def init(self):
        yield Gossip(tuple(frozenset({v}) for v in "abc"), frozenset())

    @action(i="Nodes", j="Nodes", v=("a", "b", "c"))
    def Send(self, s, i, j, v):
        if i != j and v in s.known[i] and Tell(i, j, v) not in s.msgs:
            return s._replace(msgs=s.msgs | {Tell(i, j, v)})

    @action(m=lambda self, s: s.msgs)
    def Learn(self, s, m):
        if m.val not in s.known[m.dst]:
            return s._replace(known=replace_at(s.known, m.dst, s.known[m.dst] | {m.val}))

    @always
    def KnowsOnlyValues(self, s):
        return all(k <= {"a", "b", "c"} for k in s.known)

    def done(self, s):
        return True


class FilteredGossiping(Gossiping):
    """The same, with the receiver a parameter and its messages filtered by a condition that reads the state."""

    name = "filtered-gossiping"

    @action(i="Nodes", m=lambda self, s, i: sorted(m for m in s.msgs if m.dst == i and m.val not in s.known[i]))
    def Learn(self, s, i, m):
        return s._replace(known=replace_at(s.known, i, s.known[i] | {m.val}))


class Forms(Gossiping):
    """Domains in forms the membership test takes, and in forms it leaves to the listing."""

    name = "forms"

    @action(m=lambda self, s: [m for m in s.msgs if m.val == "a"])
    def Kept(self, s, m):
        return None

    @action(m=lambda self, s: self.pending(s))
    def Called(self, s, m):
        return None

    @action(i="Nodes", m=lambda self, s, i: self.addressed(s, i))
    def CalledWithArgument(self, s, i, m):
        return None

    @action(m=lambda self, s: about_b(s))
    def CalledFunction(self, s, m):
        return None

    @action(m=lambda self, s: self.about_c(s))
    def CalledStatic(self, s, m):
        return None

    @action(m=lambda self, s: [m.val for m in s.msgs])
    def Mapped(self, s, m):
        return None

    @action(m=lambda self, s: self.two_statements(s))
    def CalledLonger(self, s, m):
        return None

    @action(x="Nodes", m=lambda self, s, x: self.binding_x(s, x))
    def CalledShadowing(self, s, x, m):
        return None

    @action(i="Nodes", m=lambda self, s, i: self.not_from_i(s, i))
    def CalledFree(self, s, i, m):
        return None

    def not_from_i(self, s, node):  # its ``i`` is the module's: renamed into the lambda, it would be the lambda's
        return [m for m in s.msgs if m.dst == node and m.src != i]

    def pending(self, s):
        """``\\E m \\in msgs`` behind a helper, as a PlusCal ``define`` block's operator is transcribed."""
        return list(s.msgs)

    def addressed(self, s, node):
        return [m for m in s.msgs if m.dst == node]

    @staticmethod
    def about_c(s):
        return [m for m in s.msgs if m.val == "c"]

    def two_statements(self, s):
        msgs = s.msgs
        return [m for m in msgs if m.val == "a"]

    def binding_x(self, s, node):  # renamed into the lambda, ``node`` would become the comprehension's own x
        return [x for x in s.msgs if x.dst == node]


class ShadowedLearning(Gossiping):
    """Gossiping whose ``Learn`` takes its messages from a helper that must not be inlined (``binding_x``)."""

    name = "shadowed-learning"
    Nodes = (0, 1)

    def init(self):
        yield Gossip((frozenset("a"), frozenset("b")), frozenset())

    @action(x="Nodes", m=lambda self, s, x: self.binding_x(s, x))
    def Learn(self, s, x, m):
        if m.val not in s.known[x]:
            return s._replace(known=replace_at(s.known, x, s.known[x] | {m.val}))

    binding_x = Forms.binding_x


i = 2  # read by ``Forms.not_from_i``


def about_b(s):
    return [m for m in s.msgs if m.val == "b"]


#: states the traced-call comparisons search (the gossip specs reach 140,608)
LIMIT = 20000


def outcome(result) -> tuple:
    return result.status, result.distinct_states, result.states_generated, result.properties


@pytest.mark.parametrize("spec", [Gossiping, FilteredGossiping])
def test_a_domain_over_a_set_field_compiles_with_the_interpreted_counts(spec):
    model = spec().compile()
    compiled = check(model, progress=False, engine="compiled")
    assert compiled.extra["engine"] == "compiled"
    assert outcome(compiled) == outcome(check(model, progress=False, engine="interpreted"))
    assert compiled.distinct_states > 1000


def test_membership_spares_the_traced_calls_a_listed_domain_costs(monkeypatch):
    """Listed, each row's guard iterates the whole set, so every row misses on every new set of messages."""
    by_membership = check(Gossiping().compile(), progress=False, engine="compiled", max_states=LIMIT)
    monkeypatch.setattr(domains_module, "member_domain", lambda *args: None)
    listed = check(Gossiping().compile(), progress=False, engine="compiled", max_states=LIMIT)
    assert outcome(by_membership) == outcome(listed)
    assert by_membership.extra["compiled"]["traced_calls"] * 4 < listed.extra["compiled"]["traced_calls"]


def test_the_recognised_forms_become_membership_tests_and_the_others_stay_listed():
    model = Forms().compile()
    domains = StateDomains(model)
    assert set(domains.members) == {"Learn", "Kept", "Called", "CalledWithArgument", "CalledFunction",
                                    "CalledStatic"}
    state = Gossip((frozenset("a"),) * 3, frozenset({Tell(0, 1, "a"), Tell(1, 0, "b")}))
    [kept] = domains.members["Kept"]
    assert isinstance(kept, Member) and kept.field == "msgs"
    spec = model.spec
    assert kept.test(spec, state, Tell(0, 1, "a")) and not kept.test(spec, state, Tell(1, 0, "b"))
    assert not kept.test(spec, state, Tell(2, 0, "a"))  # passes the condition, but was never sent
    # a helper's parameter renamed to the call's argument: node -> i
    _, addressed = domains.members["CalledWithArgument"]
    assert addressed.test(spec, state, 1, Tell(0, 1, "a")) and not addressed.test(spec, state, 0, Tell(0, 1, "a"))
    [about] = domains.members["CalledFunction"]
    assert about.test(spec, state, Tell(1, 0, "b")) and not about.test(spec, state, Tell(0, 1, "a"))
    [static] = domains.members["CalledStatic"]
    assert static.test(spec, Gossip(state.known, frozenset({Tell(2, 0, "c")})), Tell(2, 0, "c"))
    assert not static.test(spec, state, Tell(0, 1, "a"))
    [called] = domains.members["Called"]
    assert called.test(spec, state, Tell(1, 0, "b")) and not called.test(spec, state, Tell(2, 1, "b"))


def test_a_helper_whose_inlining_could_change_a_name_keeps_its_listing_and_the_counts():
    """``binding_x`` inlined would read ``[x for x in s.msgs if x.dst == x]``; it stays listed, and the compiled
    search, membership and listing side by side, still counts as the interpreted one."""
    members = StateDomains(Forms().compile()).members
    assert "CalledShadowing" not in members and "CalledFree" not in members
    model = ShadowedLearning().compile()
    assert "Learn" not in StateDomains(model).members
    compiled = check(model, progress=False, engine="compiled")
    assert compiled.extra["engine"] == "compiled"
    assert outcome(compiled) == outcome(check(model, progress=False, engine="interpreted"))
    assert compiled.status == "ok" and compiled.distinct_states > 10


def test_a_membership_test_that_disagrees_with_the_listing_is_dropped():
    model = Gossiping().compile()
    domains = StateDomains(model)
    first = model.initial_states()[0]
    sent = first._replace(msgs=frozenset({Tell(0, 1, "a")}))
    domains.confirm([first, sent])
    assert "Learn" in domains.members
    domains.members["Learn"] = [Member("msgs", lambda self, s, m: m.val == "a")]  # not "m in s.msgs"
    domains.confirm([first, sent])
    assert "Learn" not in domains.members


class Helpers(Spec):
    name = "helpers"

    def init(self):
        yield Gossip((frozenset(),), frozenset())

    @staticmethod
    def to(s, dst) -> list:
        return [m for m in s.msgs if m.dst == dst]

    @classmethod
    def values(cls, s, dst) -> set:
        return {m.val for m in s.msgs if m.dst == dst}

    @action(i=(0,))
    def Noop(self, s, i):
        return None


def test_static_and_class_methods_are_traced_with_filtered_iteration():
    """A helper such as ``self.of(s, P1b, b, q)`` (a static method) iterated the whole message set on a view."""
    spec = Helpers()
    twin = TracedSpec(spec).twin
    assert twin is not None
    for name in ("to", "values"):
        assert getattr(type(twin), name) is not getattr(Helpers, name)
    state = Gossip((frozenset(),), frozenset({Tell(0, 1, "a"), Tell(1, 0, "b")}))
    assert twin.to(state, 1) == Helpers.to(state, 1) == [Tell(0, 1, "a")]
    assert twin.values(state, 0) == Helpers.values(state, 0) == {"b"}


def test_no_row_is_made_for_an_element_the_conditions_rule_out_on_every_state():
    """``[m for m in s.msgs if m.val == "a"]``: a message of another value is never in the domain, whatever the
    state, so it gets no row (Fast Paxos ``-p ballots=4``: 576 of its 656 candidate rows, ``type(m) is P2a``)."""
    model = Forms().compile()
    initial = model.initial_states()
    layout = Layout.learn(initial)
    sent = [Tell(0, 1, "a"), Tell(1, 0, "b"), Tell(2, 0, "a")]
    layout.encode_all([initial[0]._replace(msgs=frozenset(sent))])  # numbers the three messages
    domains = StateDomains(model)
    domains.seed(initial)
    domains.bind(layout)
    rows = domains.rows()
    assert sorted(args for label, _, args in rows if label.name == "Kept") == [(Tell(0, 1, "a"),), (Tell(2, 0, "a"),)]
    assert sorted(args for label, _, args in rows if label.name == "Learn") == sorted((m,) for m in sent)


class Quiet(Gossiping):
    """``Learn`` also asks whether the receiver itself told anyone of the value: a filtered iteration in the body."""

    name = "quiet"

    @action(m=lambda self, s: s.msgs)
    def Learn(self, s, m):
        if m.val not in s.known[m.dst] and not any(t.val == m.val for t in s.msgs if t.src == m.dst):
            return s._replace(known=replace_at(s.known, m.dst, s.known[m.dst] | {m.val}))


def test_the_rows_of_a_state_reading_domain_run_the_spec_s_filtered_iteration_on_views(monkeypatch):
    """On views a row runs the spec's twin (``filtering.TracedSpec``), as the action table's rows do: the original
    body's ``any(... for t in s.msgs if ...)`` read every message (15,789 traced calls on the whole search, against
    243; 537,423 before a trace that exits early was kept under the bits it read, ``memo.Unit._keep_narrow``)."""
    model = Quiet().compile()
    twin = check(model, progress=False, engine="compiled", max_states=LIMIT)
    monkeypatch.setattr(StateDomains, "view_fn", lambda self, label: None)
    original = check(Quiet().compile(), progress=False, engine="compiled", max_states=LIMIT)
    assert outcome(original) == outcome(twin)
    assert twin.extra["compiled"]["traced_calls"] * 20 < original.extra["compiled"]["traced_calls"]


def told_by(s, src) -> list:
    """The messages ``src`` sent: a helper written beside the spec class, not inside it."""
    return [m for m in s.msgs if m.src == src]


class QuietWithAHelper(Gossiping):
    """``Quiet``, its filter in a function of the module."""

    name = "quiet-with-a-helper"

    @action(m=lambda self, s: s.msgs)
    def Learn(self, s, m):
        if m.val not in s.known[m.dst] and not any(t.val == m.val for t in told_by(s, m.dst)):
            return s._replace(known=replace_at(s.known, m.dst, s.known[m.dst] | {m.val}))


def test_a_helper_function_of_the_spec_s_module_is_traced_with_filtered_iteration(monkeypatch):
    """Called as it is, ``told_by`` iterated every message on a view, so every row's key held the whole set."""
    twin = check(QuietWithAHelper().compile(), progress=False, engine="compiled", max_states=LIMIT)
    monkeypatch.setattr(filtering, "helper_twins", lambda module_globals, module: ({**module_globals,
                                                                                     **filtering.RUNTIME}, set()))
    original = check(QuietWithAHelper().compile(), progress=False, engine="compiled", max_states=LIMIT)
    assert outcome(original) == outcome(twin)
    assert twin.extra["compiled"]["traced_calls"] * 10 < original.extra["compiled"]["traced_calls"]  # 2,499: 44,103


class SilentZero(Gossiping):
    """An invariant piece that calls the module's helper directly: node 0 never tells itself anything."""

    name = "silent-zero"

    @always
    def ZeroNeverTellsItself(self, s):
        if any(m.dst == 0 for m in told_by(s, 0)):
            return False
        return all(k <= {"a", "b", "c"} for k in s.known)


def test_an_invariant_piece_calls_the_module_s_helpers_as_their_twins(monkeypatch):
    traced = check(SilentZero().compile(), progress=False, engine="compiled", max_states=LIMIT)
    monkeypatch.setattr(filtering, "helper_twins", lambda module_globals, module: ({**module_globals,
                                                                                     **filtering.RUNTIME}, set()))
    original = check(SilentZero().compile(), progress=False, engine="compiled", max_states=LIMIT)
    assert outcome(original) == outcome(traced)
    assert traced.extra["compiled"]["traced_calls"] * 10 < original.extra["compiled"]["traced_calls"]
