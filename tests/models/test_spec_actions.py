"""Spec actions: domains that depend on other arguments or on the state, actions with several next states,
declared faults, and each bad declaration as one line naming protocol, action and fix."""

import gc
from typing import NamedTuple

import pytest

from consensuslab import ModelError, ReplayError, Spec, action, always, check, record
from consensuslab.checkers.replay import replay_document
from consensuslab.models.action import Action
from consensuslab.models.spec import SpecModel
from consensuslab.traces.itf import trace_document

NODES = ("n1", "n2", "n3")


@record
class Net(NamedTuple):
    msgs: frozenset  # (src, dst) pairs sent
    got: frozenset  # (src, dst) pairs received


class Universe(Spec):
    """The old way: j over every node with a guard, m over every possible message with a guard."""

    name = "universe"
    Node = NODES
    check_deadlock = False  # everything sent and received is the end

    def init(self):
        yield Net(frozenset(), frozenset())

    @action(i="Node", j="Node")
    def Send(self, s, i, j):
        if i != j and (i, j) not in s.msgs:
            return s._replace(msgs=s.msgs | {(i, j)})

    @action(m=lambda self: [(i, j) for i in NODES for j in NODES if i != j])
    def Receive(self, s, m):
        if m in s.msgs and m not in s.got:
            return s._replace(got=s.got | {m})

    @always
    def received_only_what_was_sent(self, s):
        return s.got <= s.msgs


class Dependent(Universe):
    """``j \\in Node \\ {i}`` and ``\\E m \\in msgs``, as the spec says them."""

    name = "dependent"

    @action(i="Node", j=lambda self, i: [n for n in self.Node if n != i])
    def Send(self, s, i, j):
        if (i, j) not in s.msgs:
            return s._replace(msgs=s.msgs | {(i, j)})

    @action(m=lambda self, s: s.msgs - s.got)
    def Receive(self, s, m):
        return s._replace(got=s.got | {m})


def test_dependent_domains_give_the_guarded_universes_graph():
    old, new = Universe().compile(), Dependent().compile()
    r_old, r_new = check(old, progress=False), check(new, progress=False)
    assert r_old.status == r_new.status == "ok"
    assert r_old.distinct_states == r_new.distinct_states == 3 ** 6  # each of 6 messages: unsent, sent, received
    assert r_old.states_generated == r_new.states_generated
    for s in (new.initial_states()[0], Net(frozenset({("n1", "n2"), ("n3", "n1")}), frozenset({("n1", "n2")}))):
        assert old.successors(s) == new.successors(s)


def test_an_argument_dependent_domain_is_in_the_table_a_state_dependent_one_gets_rows_as_met():
    model = Dependent().compile()
    assert type(model) is SpecModel
    assert {row[0].name for row in model._table} == {"Send"} and len(model._table) == 6
    compiled = check(model, progress=False, engine="compiled")
    interpreted = check(Dependent().compile(), progress=False, engine="interpreted")
    assert compiled.extra["engine"] == "compiled"
    assert (compiled.status, compiled.distinct_states, compiled.states_generated) == \
        (interpreted.status, interpreted.distinct_states, interpreted.states_generated)

    class OnlyArgs(Dependent):
        name = "only-args"

        @action(m=lambda self: [(i, j) for i in NODES for j in NODES if i != j])
        def Receive(self, s, m):
            if m in s.msgs and m not in s.got:
                return s._replace(got=s.got | {m})

    compiled = OnlyArgs().compile()
    assert type(compiled) is SpecModel
    r = check(compiled, progress=False, engine="compiled")  # auto would answer this small model in its probe
    assert (r.extra["engine"], r.distinct_states) == ("compiled", 3 ** 6)


def test_listing_a_state_dependent_domain_leaves_no_garbage_for_the_cyclic_collector():
    """The searches run with the cyclic collector off: a listing that made a reference cycle (a recursive
    closure) kept every state's argument list (Fast Paxos with ``--symmetry``: 137 MB more)."""
    model = Dependent().compile()
    [receive] = model._per_state
    state = Net(frozenset({("n1", "n2"), ("n3", "n1")}), frozenset())
    gc.collect()
    gc.disable()
    try:
        for _ in range(50):
            assert sorted(receive.arguments(state)) == [(("n1", "n2"),), (("n3", "n1"),)]
        assert gc.collect() == 0
    finally:
        gc.enable()


def test_replay_checks_a_state_dependent_argument_against_its_domain():
    model = Dependent().compile()
    s0 = model.initial_states()[0]
    with pytest.raises(ReplayError, match="not enabled"):
        model.apply(s0, Action("step", "Receive", None, (("n1", "n2"),)))  # nothing sent yet
    s1 = model.apply(s0, Action("step", "Send", None, ("n1", "n2")))
    assert model.apply(s1, Action("step", "Receive", None, (("n1", "n2"),))).got == {("n1", "n2")}


# -- actions with several next states ----------------------------------------------------------
@record
class Votes(NamedTuple):
    decision: str
    round: int


class Decide(Spec):
    name = "decide"
    variants = {"unlabelled": "yield states without labels", "mixed": "label some branches only",
                "clash": "one label, two states", "broken": "may also decide 'maybe'"}

    def init(self):
        yield Votes("none", 0)

    @action
    def Choose(self, s):
        """``Decide == \\/ decision' = "commit" \\/ decision' = "abort"`` (one action, two next states)."""
        if s.decision != "none":
            return
        options = ("commit", "abort", "maybe") if self.variant == "broken" else ("commit", "abort")
        for d in options:
            if self.variant in ("unlabelled", "broken"):
                yield s._replace(decision=d)
            elif self.variant == "mixed" and d == "abort":
                yield s._replace(decision=d)
            elif self.variant == "clash":
                yield "same", s._replace(decision=d)
            else:
                yield d, s._replace(decision=d)

    @action
    def Next(self, s):
        if s.decision != "none" and s.round < 1:
            return s._replace(round=s.round + 1)

    @always
    def decided_properly(self, s):
        return s.decision in ("none", "commit", "abort")

    def done(self, s):
        return s.round == 1


def test_each_branch_is_its_own_step_with_its_label():
    model = Decide().compile()
    out = model.successors(model.initial_states()[0])
    assert [(str(a), t.decision) for a, t in out] == [("Choose(abort)", "abort"), ("Choose(commit)", "commit")]
    for engine in ("interpreted", "compiled"):  # the compiled engine gives each branch it meets a row
        r = check(Decide().compile(), engine=engine, progress=False)
        assert (r.extra["engine"], r.status, r.distinct_states) == (engine, "ok", 5)


class DeclaredBranches(Decide):
    name = "decide-declared"

    @action(branches=("abort", "commit"))
    def Choose(self, s):
        if s.decision == "none":
            yield "commit", s._replace(decision="commit")
            yield "abort", s._replace(decision="abort")
            if self.variant == "broken":
                yield "maybe", s._replace(decision="maybe")


def test_declared_branches_are_rows_of_the_action_table_and_compile():
    model = DeclaredBranches().compile()
    assert type(model) is SpecModel
    assert [str(row[0]) for row in model._table if row[0].name == "Choose"] == ["Choose(abort)", "Choose(commit)"]
    assert model.successors(model.initial_states()[0]) == Decide().compile().successors(model.initial_states()[0])
    r = check(model, engine="compiled", progress=False)
    assert (r.extra["engine"], r.status, r.distinct_states) == ("compiled", "ok", 5)
    with pytest.raises(ModelError, match=r"^decide-declared: action Choose yielded branch 'maybe', which is not among "
                                         r"its declared branches \('abort', 'commit'\)$"):
        DeclaredBranches(variant="broken").compile().successors(Votes("none", 0))


@record
class Walk(NamedTuple):
    x: int
    y: int


class CountedWalk(Spec):
    """``Step`` moves ``x`` up or down (two branches) and counts its runs on real states and on views."""

    name = "counted-walk"

    def setup(self):
        self.runs = {"real": 0, "view": 0}

    def init(self):
        yield Walk(0, 0)

    @action(branches=("up", "down"))
    def Step(self, s):
        self.runs["real" if type(s) is Walk else "view"] += 1
        if s.x < 20:
            yield "up", s._replace(x=s.x + 1)
        if s.x > 0:
            yield "down", s._replace(x=s.x - 1)

    @action
    def Flip(self, s):
        return s._replace(y=1 - s.y)


@pytest.mark.parametrize("engine", ["interpreted", "compiled"])
def test_the_rows_of_an_action_s_branches_share_one_run_of_it(engine):
    """42 states, each left by one or two of ``Step``'s branches: run once a state for both rows, not once a row;
    traced once a key (21 values of ``x``) for both rows, not once a row."""
    spec = CountedWalk()
    r = check(spec.compile(), progress=False, engine=engine)
    assert (r.extra["engine"], r.status, r.distinct_states, r.states_generated) == (engine, "ok", 42, 122)
    if engine == "interpreted":
        assert spec.runs == {"real": 42, "view": 0}
    else:
        assert r.extra["compiled"]["traced_calls"] >= 2 * 21  # each row's key: the 21 values of x
        assert 21 <= spec.runs["view"] <= 22  # one run a key serves both rows (each traced them all)


def test_branches_need_a_generator():
    class NoYield(Decide):
        name = "no-yield"

        @action(branches=("a", "b"))
        def Choose(self, s):
            return None

    with pytest.raises(ModelError, match=r"^no-yield: action Choose declares branches=\('a', 'b'\) but does not yield"):
        NoYield().compile()


def test_unlabelled_branches_are_numbered_in_a_canonical_order():
    model = Decide(variant="unlabelled").compile()
    out = model.successors(model.initial_states()[0])
    assert [(a.args, t.decision) for a, t in out] == [((1,), "abort"), ((2,), "commit")]  # "abort" < "commit"


def test_a_broken_branch_is_found_and_its_trace_replays():
    model = Decide(variant="broken").compile()
    r = check(model, progress=False)
    assert r.status == "violation" and r.violation.property == "decided_properly"
    assert [str(a) for a, _ in r.violation.trace.steps] == ["Choose(3)"]
    done = replay_document(trace_document(model, r.violation.trace, r.violation), Decide(variant="broken").compile())
    assert done.violation.property == "decided_properly"


@pytest.mark.parametrize("variant,message", [
    ("mixed", r"^decide: action Choose yields both labelled and unlabelled next states; label all of them"),
    ("clash", r"^decide: action Choose\(\): branch 'same' yielded two different next states; give each branch"),
])
def test_branch_mistakes_are_one_line(variant, message):
    model = Decide(variant=variant).compile()
    with pytest.raises(ModelError, match=message):
        model.successors(model.initial_states()[0])


# -- declared faults ---------------------------------------------------------------------------
class Failover(Spec):
    name = "failover"
    byz = ("n2",)

    def init(self):
        yield Votes("none", 0)

    @action
    def FailOver(self, s):  # a protocol step whose name says "fail": not a fault unless declared
        if s.round == 0:
            return s._replace(round=1)

    @action(fault=True)
    def Crash(self, s):
        if s.round == 1:
            return s._replace(round=2)

    @action(who=NODES, fault=lambda self, who: who in self.byz)
    def Lie(self, s, who):
        if s.round == 2:
            return s._replace(decision=who)


def test_faults_are_declared_not_guessed_from_names():
    model = Failover().compile()
    assert not model.is_fault(Action("step", "FailOver"))
    assert model.is_fault(Action("step", "Crash"))
    assert model.is_fault(Action("step", "Lie", None, ("n2",)))
    assert not model.is_fault(Action("step", "Lie", None, ("n1",)))


# -- bad declarations: one line naming the protocol, the action and the fix ---------------------
def bad(**domains):
    class Bad(Spec):
        name = "bad"
        Node = NODES

        def init(self):
            yield Votes("none", 0)

        @action(**domains)
        def Step(self, s, i, j):
            return None

    return Bad


@pytest.mark.parametrize("domains,message", [
    ({"i": "Node"}, r"^bad: action Step: no domain for parameter j \(declare @action\(j=\.\.\.\)\)$"),
    ({"i": "Node", "j": "Node", "k": "Node"}, r"^bad: action Step has no parameter 'k' for its domain"),
    ({"i": "Nodes", "j": "Node"}, r"^bad: action Step: the domain of i is 'Nodes', which is not an attribute of the "
                                  r"spec \(set self.Nodes in setup, or give the values\)$"),
    ({"i": "Node", "j": lambda self, k: ()}, r"^bad: action Step: the domain of j takes parameter k, which is neither "
                                              r"the state \(s\) nor an earlier parameter \(i\); a domain is a function"),
    ({"i": 3, "j": "Node"}, r"^bad: action Step: the domain of i is a int, not a collection of values$"),
])
def test_bad_domains_are_one_line(domains, message):
    with pytest.raises(ModelError, match=message):
        bad(**domains)().compile()
