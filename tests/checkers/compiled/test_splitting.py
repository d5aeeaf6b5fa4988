"""Invariants cut into pieces: on every reachable state the pieces, combined, give exactly the invariant.

The pieces are evaluated on real states as the compiled search combines them
(conjuncts all hold; of each clause of alternatives, the first that does not
answer False decides, and one that raises fails it), and compared with the
invariant itself; then both engines check the spec, including broken
variants where a piece fails.
"""

from __future__ import annotations

import itertools
import random
from typing import NamedTuple

import pytest

from consensuslab import check
from consensuslab.checkers.compiled import splitting
from consensuslab.checkers.compiled.engine import CompiledSearch
from consensuslab.checkers.compiled.filtering import TracedSpec
from consensuslab.checkers.compiled.packing import Layout
from consensuslab.checkers.compiled.piece_functions import invariant_pieces
from consensuslab.errors import UsageError
from consensuslab.loader import import_file
from consensuslab.models.params import Param
from consensuslab.models.properties import always
from consensuslab.models.records import record, replace_at
from consensuslab.models.spec import Spec, action
from consensuslab.protocols.paxos import Paxos


@record
class Cells(NamedTuple):
    a: tuple
    b: tuple
    done: tuple


class Shapes(Spec):
    """Invariants of every shape the splitter cuts; ``bug`` makes one of them fail somewhere."""

    name = "shapes"
    params = {"n": Param(3, min=2), "bug": Param(0)}
    check_deadlock = False

    def init(self):
        yield Cells((0,) * self.n, ((),) * self.n, (False,) * self.n)

    @action(i=lambda self: range(self.n))
    def Bump(self, s, i):
        if s.a[i] < 2 and not s.done[i]:
            return s._replace(a=replace_at(s.a, i, s.a[i] + 1), b=replace_at(s.b, i, s.b[i] + (s.a[i],)))

    @action(i=lambda self: range(self.n))
    def Finish(self, s, i):
        if s.a[i] == 2 or (self.bug == 1 and s.a[i] == 1):
            return s._replace(done=replace_at(s.done, i, True))

    def finished(self, s, i):
        return s.done[i]

    @always
    def per_element_or(self, s):  # all(A or B for x in tuple): one clause per element
        return all(x == 2 or not d for x, d in zip(s.a, s.done)) and all(
            c == () or c[0] == 0 for c in s.b)

    @always
    def checks_and_loops(self, s):
        if len(s.a) != self.n:
            return False
        total = 0 if self.bug == 2 else None
        for i in range(self.n):
            if self.finished(s, i):
                if s.a[i] != 2:
                    return False
            elif len(s.b[i]) != s.a[i]:
                return False
        if total is not None and sum(s.a) > 4:
            return False
        return not any(len(c) > 2 for c in s.b) and self.in_range(s)

    def in_range(self, s):
        return all(0 <= x <= 2 for x in s.a)

    @always
    def alternatives(self, s):  # a disjunction whose second part raises where the first holds
        return s.b[0] == () or s.b[0][len(s.b[0]) - 1] < 2 and (self.bug != 3 or s.a[1] < 2)

    @always
    def early_returns(self, s):  # a ``continue`` before checks in a loop; ``return True`` before more checks
        for i in range(self.n):
            if not s.done[i]:
                continue  # the check below applies to finished cells only
            if s.a[i] != 2:
                return False
        if s.a[0] == 0:
            return True  # what follows applies where a[0] != 0 only
        return len(s.b[0]) == s.a[0] and (self.bug != 4 or s.a[0] < 2)


def combined(pieces, state) -> bool:
    """The pieces' answer as the compiled search combines them."""
    decided: dict = {}  # clause -> None (no alternative decided yet), True or False
    for _, fn, _, args, clause, _ in pieces:
        try:
            value = bool(fn(state, *args))
        except Exception:
            value = "raised"
        if clause is None:
            if value is not True:
                return False
            continue
        decided.setdefault(clause, None)
        if decided[clause] is None and value is not False:
            decided[clause] = value is True
    return all(v is True for v in decided.values())


def reachable(model, limit: int = 5000) -> list:
    states, frontier, seen = [], list(model.initial_states()), set()
    while frontier and len(states) < limit:
        s = frontier.pop()
        if s in seen:
            continue
        seen.add(s)
        states.append(s)
        frontier += [t for _, t in model.successors(s)]
    return states


@pytest.mark.parametrize("bug", [0, 1, 2, 3, 4])
def test_pieces_combine_to_the_invariant_on_every_reachable_state(bug):
    spec = Shapes({"n": 3, "bug": bug})
    model = spec.compile()
    layout = Layout.learn(model.initial_states())
    twin = TracedSpec(spec)
    states = reachable(model)
    for prop in model.invariants:
        pieces = invariant_pieces(prop, spec, twin, layout)
        assert len(pieces) > 1, prop.name  # every shape here is cut
        for s in states:
            try:
                expected = bool(prop.fn(s))
            except Exception:
                expected = False
            assert combined(pieces, s) == expected, (prop.name, s)


def test_clauses_inside_a_loop_are_one_per_element():
    spec = Shapes({"n": 3})
    pieces = invariant_pieces(spec.compile().invariants[0], spec, TracedSpec(spec),
                              Layout.learn(list(spec.init())))
    clauses = {c for *_, c, _ in pieces if c is not None}
    assert len(clauses) == 3  # all(A or B for x in a 3-tuple): three clauses of two alternatives


@pytest.mark.parametrize("bug", [0, 1, 2, 3, 4])
def test_both_engines_agree_on_the_cut_invariants(bug):
    model = Shapes({"n": 3, "bug": bug}).compile()
    plain = check(model, progress=False, engine="interpreted")
    compiled = check(model, progress=False, engine="compiled")
    assert (compiled.status, compiled.violation and compiled.violation.property) == \
        (plain.status, plain.violation and plain.violation.property)
    assert (plain.status == "ok") == (bug == 0)
    if plain.status == "ok":
        assert (compiled.distinct_states, compiled.states_generated) == (plain.distinct_states, plain.states_generated)


def test_paxos_inv_is_cut_per_acceptor_and_check():
    spec = Paxos({"ballots": 2})
    model = spec.compile()
    inv = next(p for p in model.invariants if p.name == "Inv")
    pieces = invariant_pieces(inv, spec, TracedSpec(spec), Layout.learn(model.initial_states()))
    names = [name for name, *_ in pieces]
    assert len(names) > 12 and any(name.endswith("[(0, 'a1')]") for name in names)


@record
class Pair(NamedTuple):
    x: int
    y: int


class LateCheck(Spec):
    """An invariant whose only failing states lie past its early ``return True`` (``x == 0``): y moves once x has."""

    name = "late-check"
    check_deadlock = False

    def init(self):
        yield Pair(0, 0)

    @action
    def MoveX(self, s):
        if s.x < 3:
            return s._replace(x=s.x + 1)

    @action
    def MoveY(self, s):
        if s.y < 3 and s.x > 0:
            return s._replace(y=s.y + 1)

    @always
    def Bounded(self, s):
        if s.x == 0:
            return True
        return s.y < 2 and s.x >= 0


def test_a_check_after_an_early_return_is_not_lost():
    """The checks after ``if C: return True`` apply where C does not hold (they were guarded by C: wrongly ok)."""
    model = LateCheck().compile()
    plain = check(model, progress=False, engine="interpreted")
    compiled = check(model, progress=False, engine="compiled")
    assert plain.status == compiled.status == "violation"
    assert compiled.extra["engine"] == "compiled"
    assert compiled.violation.trace.states == plain.violation.trace.states
    assert compiled.violation.trace.states[-1] == Pair(1, 2)


def test_a_wrong_cut_is_caught_by_the_audit_of_the_invariants(monkeypatch):
    """Each piece is confirmed only against itself: the audited states' invariants are evaluated whole, and a
    cut with its guards reversed no longer hides the violation (with ``--engine compiled``: a clear error)."""
    real_path = splitting.path_condition  # the cut's old fault: what follows guarded by the opposite test
    monkeypatch.setattr(splitting, "path_condition",
                        lambda ctx, after: [splitting.negated(c) for c in real_path(ctx, after)])
    with pytest.raises(UsageError, match="an invariant does not hold on a state where its memoised pieces hold"):
        check(LateCheck().compile(), progress=False, engine="compiled")


# -- loops over a set field, cut per element -------------------------------------------------------------
@record
class Ledger(NamedTuple):
    open: frozenset  # transactions open, of 0..3 (numbered as the search meets them)
    paid: tuple  # paid[t] for t in 0..3
    owed: tuple


class Ledgers(Spec):
    """``for t in s.open`` checks each open transaction; ``bug`` lets transaction 3, opened last, break it."""

    name = "ledgers"
    params = {"bug": Param(0, "1: transaction 3 may be paid past what it owes", min=0, max=1)}
    check_deadlock = False
    T = (0, 1, 2, 3)

    def init(self):
        yield Ledger(frozenset({0}), (0, 0, 0, 0), (1, 1, 2, 1))

    @action(t="T")
    def Open(self, s, t):
        if t not in s.open and (t == 0 or t - 1 in s.open):
            return s._replace(open=s.open | {t})

    @action(t="T")
    def Pay(self, s, t):
        limit = s.owed[t] + (1 if self.bug and t == 3 else 0)
        if t in s.open and s.paid[t] < limit:
            return s._replace(paid=replace_at(s.paid, t, s.paid[t] + 1))

    @always
    def NeverOverpaid(self, s):
        for t in s.open:
            if s.owed[t] < 1:
                return False
            if s.paid[t] > s.owed[t]:
                return False
        return True

    @always
    def Quantified(self, s):
        """The same checks as ``all`` and ``not any``, with a condition, over pairs made from the set."""
        return (all(s.paid[t] <= s.owed[t] for t in s.open if t > 0)
                and not any(s.owed[t] < 1 or s.paid[t] > 2 for t in s.open)
                and all(s.paid[t] >= 0 for t, _ in ((t, 1) for t in s.open)))

    @always
    def SomeoneOwes(self, s):
        """Alternatives: ``or any(...)`` over the set, with a condition."""
        return len(s.open) < 4 or any(s.paid[t] < s.owed[t] + 1 for t in s.open if t != 2)


def ledger_pieces(numbered: list, name: str = "NeverOverpaid") -> list:
    spec = Ledgers()
    model = spec.compile()
    layout = Layout.learn(model.initial_states())
    for t in numbered:
        layout.by_name["open"].element_bit(t)
    prop = next(p for p in model.invariants if p.name == name)
    return invariant_pieces(prop, spec, TracedSpec(spec), layout)


def test_a_loop_over_a_set_field_is_one_piece_per_element_numbered_and_one_for_the_rest():
    names = [name for name, *_ in ledger_pieces([0, 1])]
    assert names == ["NeverOverpaid[1][0]", "NeverOverpaid[1][1]", "NeverOverpaid[2][0]", "NeverOverpaid[2][1]",
                     "NeverOverpaid[3][frozenset({0, 1})]"]
    assert [name for name, *_ in ledger_pieces([])] == ["NeverOverpaid[1][0]", "NeverOverpaid[2][0]",
                                                        "NeverOverpaid[3][frozenset({0})]"]


def test_the_pieces_of_a_set_loop_agree_with_the_invariant_on_elements_numbered_later():
    """Cut with 0 and 1 numbered: on every state of every ``open`` and ``paid``, the pieces' conjunction is the
    invariant, 2 and 3 being answered by the piece for the rest."""
    spec = Ledgers({"bug": 1})
    for name in ("NeverOverpaid", "Quantified", "SomeoneOwes"):
        pieces = ledger_pieces([0, 1], name)
        assert len(pieces) >= 4, name
        for k in range(5):
            for opened in itertools.combinations(Ledgers.T, k):
                for paid in itertools.product(range(4), repeat=4):
                    s = Ledger(frozenset(opened), paid, (1, 1, 2, 1))
                    assert holds(pieces, s) == getattr(spec, name)(s), (name, s)


def holds(pieces: list, s) -> bool:
    """The conjunction of the pieces, a clause of alternatives holding where one of them does."""
    clauses: dict = {}
    for k, (_, fn, _, args, clause, _) in enumerate(pieces):
        clauses.setdefault(("clause", clause) if clause is not None else ("piece", k), []).append(fn(s, *args))
    return all(any(answers) for answers in clauses.values())


@pytest.mark.parametrize("bug", [0, 1])
def test_a_set_loop_s_violation_on_an_element_numbered_during_the_search_is_found(bug):
    """No probe numbers the elements first: the cut knows transaction 0 alone (the initial state's), the piece
    for the rest answers for 1 to 3, and transaction 3's overpayment is found as the interpreted search finds it."""
    model = Ledgers({"bug": bug}).compile()
    plain = check(model, progress=False, engine="interpreted")
    compiled = CompiledSearch(model, progress=False, insist=True).run()
    assert (compiled.status, compiled.distinct_states) == (plain.status, plain.distinct_states)
    assert compiled.status == ("violation" if bug else "ok")
    if bug:
        assert compiled.violation.trace.states == plain.violation.trace.states
        assert compiled.violation.trace.states[-1].paid[3] == 2


# -- generated shapes ---------------------------------------------------------------------------------
# The hand-written shapes above missed one the splitter got wrong (the checks after ``if C: return True`` were
# guarded by ``C``, and a violation past the early return was reported ok).  Here seeded random invariants (nested
# ``if``/``else`` with every kind of ``return``, ``continue`` in loops over constants and over tuple fields,
# assignments, ``and``/``or``/``not``, ``all``/``any``, an inlined method) are written to a module, cut, and compared
# with the invariant on all 81 states of two 2-slot tuples.

#: invariants generated per seed, and seeds
PER_SEED, SEEDS = 12, 40

HEADER = '''
from typing import NamedTuple
from consensuslab.models.properties import always
from consensuslab.models.records import record
from consensuslab.models.spec import Spec, action


@record
class Two(NamedTuple):
    a: tuple
    b: tuple


class Generated(Spec):
    name = "generated"
    check_deadlock = False

    def init(self):
        yield Two((0, 0), (0, 0))

    @action
    def Stay(self, s):
        return None

    def small(self, s, i):
        if s.a[i] == 2:
            return s.b[i] < 2
        return True
'''


class Writer:
    """Random invariant bodies over ``s.a`` and ``s.b`` (tuples of two values in 0..2)."""

    def __init__(self, rng: random.Random):
        self.rng = rng

    def atom(self, loop: str | None) -> str:
        r = self.rng
        slot = r.choice([loop, "0", "1"] if loop else ["0", "1"])
        left = f"s.{r.choice('ab')}[{slot}]"
        right = r.choice(["0", "1", "2", f"s.{r.choice('ab')}[{r.choice(['0', '1'])}]", "x"]
                         + (["y"] if r.random() < 0.3 else []))  # a name a loop's pass assigns: maybe not yet
        return f"{left} {r.choice(['==', '!=', '<', '<=', '>'])} {right}"

    def cond(self, loop: str | None, depth: int = 0) -> str:
        r = self.rng
        k = r.randrange(9 if depth < 2 else 4)
        if k < 4:
            return self.atom(loop)
        if k == 4:
            return f"not ({self.cond(loop, depth + 1)})"
        if k == 5:
            return f"({self.cond(loop, depth + 1)} and {self.cond(loop, depth + 1)})"
        if k == 6:
            return f"({self.cond(loop, depth + 1)} or {self.cond(loop, depth + 1)})"
        if k == 7:
            j = "j" + str(depth)
            return f"{r.choice(['all', 'any'])}({self.atom(j)} for {j} in range(2))"
        return f"self.small(s, {r.choice(['0', '1'])})" if not loop else self.atom(loop)

    def block(self, indent: int, loop: str | None, depth: int, top: bool) -> list[str]:
        r = self.rng
        pad = " " * indent
        lines: list[str] = []
        for _ in range(r.randint(1, 3)):
            k = r.randrange(10 if depth < 2 else 6)
            if k == 0:
                lines += [f"{pad}if {self.cond(loop)}:", f"{pad}    return False"]
            elif k == 1 and not loop:
                lines += [f"{pad}if {self.cond(loop)}:", f"{pad}    return True"]
            elif k == 1:
                lines += [f"{pad}if {self.cond(loop)}:", f"{pad}    continue"]
            elif k == 2 and not loop:
                lines += [f"{pad}if {self.cond(loop)}:", f"{pad}    return {self.cond(loop)}"]
            elif k == 3 and top:
                lines += [f"{pad}x = s.{r.choice('ab')}[{r.choice('01')}]"]
            elif k == 3 and loop:  # a loop's own name (``k = i - 1``), or one the function has outside the loop
                lines += [f"{pad}{r.choice(['y', 'y', 'x'])} = s.{r.choice('ab')}[{loop}]"]
            elif k in (4, 5):
                lines += [f"{pad}if not ({self.cond(loop)}):", f"{pad}    return False"]
            elif k in (6, 7):
                lines += [f"{pad}if {self.cond(loop)}:"] + self.block(indent + 4, loop, depth + 1, False)
                if r.random() < 0.6:
                    lines += [f"{pad}else:"] + self.block(indent + 4, loop, depth + 1, False)
            elif k == 8 and not loop:
                i = "i" + str(depth)
                head = r.choice([f"for {i} in range(2):", f"for {i}, _v in enumerate(s.{r.choice('ab')}):"])
                lines += [f"{pad}{head}"] + self.block(indent + 4, i, depth + 1, False)
            else:
                lines += [f"{pad}if {self.cond(loop)}:", f"{pad}    return False"]
        return lines

    def invariant(self, k: int) -> str:
        r = self.rng
        body = ["        x = 1"] + self.block(8, None, 0, True)
        last = r.choice(["True", self.cond(None), f"{self.cond(None)} and {self.cond(None)}",
                         f"{self.cond(None)} or {self.cond(None)}"])
        body.append(f"        return {last}")
        return "\n".join(["", "    @always", f"    def inv{k}(self, s):"] + body) + "\n"


def generated_spec(tmp_path, seed: int):
    writer = Writer(random.Random(seed))
    source = HEADER + "".join(writer.invariant(k) for k in range(PER_SEED))
    path = tmp_path / f"generated_{seed}.py"
    path.write_text(source)
    return import_file(str(path)), source  # registered: inspect.getsource finds the file through it


@pytest.mark.parametrize("seed", range(SEEDS))
def test_generated_invariants_cut_into_pieces_that_combine_to_them(tmp_path, seed):
    module, source = generated_spec(tmp_path, seed)
    spec = module.Generated({})
    model = spec.compile()
    layout = Layout.learn(model.initial_states())
    twin = TracedSpec(spec)
    states = [module.Two(a, b) for a in itertools.product(range(3), repeat=2)
              for b in itertools.product(range(3), repeat=2)]
    cut = 0
    for prop in model.invariants:
        pieces = invariant_pieces(prop, spec, twin, layout)
        cut += len(pieces) > 1
        for s in states:
            try:
                expected = bool(prop.fn(s))
            except Exception:
                expected = False
            assert combined(pieces, s) == expected, (prop.name, s, source)
    assert cut >= PER_SEED // 2  # most generated shapes are cut: the comparison is not vacuous


@record
class Queue(NamedTuple):
    q: tuple
    armed: bool


class Armed(Spec):
    """``bool(s.q) and s.q[0] != 0`` is cut in two, and the second raises where the first is False."""

    name = "armed"
    check_deadlock = False

    def init(self):
        yield Queue((1,), False)

    @action
    def Arm(self, s):
        if not s.armed:
            return s._replace(armed=True)

    @action
    def Pop(self, s):
        if s.q:
            return s._replace(q=s.q[1:])

    @action
    def Push(self, s):
        if len(s.q) < 2:
            return s._replace(q=s.q + (1,))

    @always
    def HeadSet(self, s):
        if s.armed:
            return bool(s.q) and s.q[0] != 0
        return True


def test_a_piece_that_raises_where_the_check_before_it_fails_fails_its_state():
    """It was an internal error past the first level (the stop looked for the state one level too early), and
    the stop it made was not the interpreted search's: now the state fails, and the search stops where the
    interpreted one does, counts and counterexample alike."""
    model = Armed().compile()
    plain = check(model, progress=False, engine="interpreted")
    compiled = check(model, progress=False, engine="compiled")
    assert plain.status == "violation" and plain.violation.trace.states[-1] == Queue((), True)
    assert compiled.extra["engine"] == "compiled"
    assert (compiled.status, compiled.distinct_states, compiled.states_generated) == \
        (plain.status, plain.distinct_states, plain.states_generated)
    assert compiled.violation.trace.states == plain.violation.trace.states


@record
class Row(NamedTuple):
    a: tuple
    b: tuple


class Locals(Spec):
    """Loops whose passes name what they read, as a TLA+ ``\\A i : LET k == ... IN`` is written; and the names a
    cut must not move: one carried from one pass to the next, one read after the loop, one inside a method."""

    name = "locals"
    check_deadlock = False

    def init(self):
        yield Row((0, 0, 0), (0, 0, 0))

    @action(i=range(3), v=range(3))
    def Set(self, s, i, v):
        return s._replace(a=replace_at(s.a, i, v))

    @action(i=range(3), v=range(3))
    def Mark(self, s, i, v):
        return s._replace(b=replace_at(s.b, i, v))

    @always
    def named(self, s):  # cut per element and check: each piece reads a[i], b[i] and b[q]
        for i in range(3):
            k = i
            x = s.a[k]
            if x == 2 and s.b[k] == 0:
                return False
            if x == 1:
                q = (k + 1) % 3
                if s.b[q] == 2:
                    return False
        return True

    @always
    def sorted_a(self, s):  # ``prev`` is the pass before's: not cut per element
        for i in range(3):
            if i > 0 and s.a[i] < prev:  # noqa: F821 - assigned in the pass before
                return False
            prev = s.a[i]
        return True

    @always
    def last_read_after(self, s):  # ``last`` is read after the loop
        for i in range(3):
            last = s.b[i]
            if last == 2 and s.a[i] == 2:
                return False
        return last != 1 or s.a[2] != 0

    @always
    def through_a_method(self, s):
        return self.tail_of(s)

    def tail_of(self, s):
        for i in range(3):
            cell = s.a[i]
            if cell == 2 and s.b[i] == 1:
                return False
        return cell != 0 or s.b[0] != 2


def test_a_loop_that_names_what_it_reads_is_cut_and_names_it_must_keep_are_not_moved():
    spec = Locals({})
    model = spec.compile()
    layout = Layout.learn(model.initial_states())
    twin = TracedSpec(spec)
    states = [Row(a, b) for a in itertools.product(range(3), repeat=3) for b in itertools.product(range(3), repeat=3)]
    counts = {}
    for prop in model.invariants:
        pieces = invariant_pieces(prop, spec, twin, layout)
        counts[prop.name] = len(pieces)
        for s in states:
            assert combined(pieces, s) == bool(prop.fn(s)), (prop.name, s)
        assert any(not prop.fn(s) for s in states) and any(prop.fn(s) for s in states)  # not vacuous
    assert counts["named"] == 9  # three cells: two alternatives (not x == 2, not b[k] == 0) and the branch's check
    # each refused loop stays one piece with the rest of its function
    assert counts["sorted_a"] == counts["last_read_after"] == counts["through_a_method"] == 1


def test_both_engines_agree_on_loops_that_name_what_they_read():
    model = Locals({}).compile()
    plain = check(model, progress=False, engine="interpreted")
    compiled = check(model, progress=False, engine="compiled")
    assert plain.status == "violation"
    assert (compiled.status, compiled.violation.property, len(compiled.violation.trace)) == \
        (plain.status, plain.violation.property, len(plain.violation.trace))


class GuardThatRaises(Spec):
    """A guard no check follows, ``if C: return True``, where ``C`` raises on some states: the invariant raises
    there, so its pieces must fail those states too."""

    name = "guard-that-raises"
    check_deadlock = False

    def init(self):
        yield Row((0, 0, 0), (0, 0, 0))

    @always
    def guarded(self, s):
        if s.a[1] == 1:
            return False
        if s.a[2] == 1:
            return False
        if s.a[0] == 2 and 1 // s.b[0] > 0:  # raises where a[0] == 2 and b[0] == 0
            return True
        return True

    @action
    def Stay(self, s):
        return None


def test_a_guard_that_raises_fails_the_state_in_pieces_too():
    spec = GuardThatRaises({})
    model = spec.compile()
    [prop] = model.invariants
    pieces = invariant_pieces(prop, spec, TracedSpec(spec), Layout.learn(model.initial_states()))
    assert len(pieces) == 4  # two checks, and the two paths past the guard (each evaluates it)
    for a in itertools.product(range(3), repeat=3):
        for b in itertools.product(range(3), repeat=3):
            s = Row(a, b)
            try:
                expected = bool(prop.fn(s))
            except ZeroDivisionError:
                expected = False
            assert combined(pieces, s) == expected, s
