"""Invariant groups of few bits judged a bundle at a time (``compiled/bundles.py``): the same verdicts, counts and
counterexamples as the interpreted search, conjuncts and alternatives alike."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pytest

from consensuslab import check
from consensuslab.checkers.compiled import bundles
from consensuslab.checkers.compiled.engine import CompiledSearch
from consensuslab.checkers.compiled.kernels import judge_part
from consensuslab.checkers.compiled.keyindex import KeyIndex
from consensuslab.checkers.compiled.memo import RAISED
from consensuslab.models.params import Param
from consensuslab.models.properties import always
from consensuslab.models.records import record, replace_at
from consensuslab.models.spec import Spec, action


@record
class Dials(NamedTuple):
    x: tuple  # eight dials, each 0, 1 or 2


class Panel(Spec):
    """Eight dials turned up one notch at a time.  ``bug`` 1: two neighbours may not both be at 2; 2: not every
    dial may be at 2; 3: a dial at 2 needs a dial before it below 2 (a disjunction wider than a bundle)."""

    name = "dial-panel"
    params = {"bug": Param(0, "which invariant is too strict", min=0, max=3)}
    check_deadlock = False
    Dials = tuple(range(8))

    def init(self):
        yield Dials((0,) * 8)

    @action(i="Dials")
    def Turn(self, s, i):
        if s.x[i] < 2:
            return s._replace(x=replace_at(s.x, i, s.x[i] + 1))

    @always
    def TypeOK(self, s):  # a conjunct per dial
        return all(v in (0, 1, 2) for v in s.x)

    @always
    def Neighbours(self, s):  # a conjunct per pair of neighbours
        return all(s.x[i] + s.x[i + 1] <= (3 if self.bug == 1 else 4) for i in range(7))

    @always
    def SomeBelow(self, s):  # one clause of eight alternatives (16 bits: cut into bundles of consecutive ones)
        return any(v < (2 if self.bug == 2 else 3) for v in s.x)

    @always
    def EarlierBelow(self, s):  # a clause per dial: "not at 2, or a dial before it below 2"
        return all(s.x[i] < 2 or self.bug != 3 or any(s.x[j] < 2 for j in range(i)) for i in range(1, 8))


def _run(bug: int):
    search = CompiledSearch(Panel({"bug": bug}).compile(), progress=False, insist=True)
    return search, search.run()


@pytest.mark.parametrize("bug", [0, 1, 2, 3])
def test_bundled_invariants_answer_as_the_interpreted_search(bug):
    search, compiled = _run(bug)
    interpreted = check(Panel({"bug": bug}).compile(), engine="interpreted", progress=False)
    assert compiled.status == interpreted.status == ("ok" if bug == 0 else "violation")
    assert compiled.distinct_states == interpreted.distinct_states
    assert compiled.depth == interpreted.depth
    if bug:
        assert compiled.violation.property == interpreted.violation.property
        assert compiled.violation.property == {1: "Neighbours", 2: "SomeBelow", 3: "EarlierBelow"}[bug]
        assert compiled.violation.trace.states == interpreted.violation.trace.states
    else:
        assert compiled.distinct_states == 3 ** 8


class _Group:
    def __init__(self, clause):
        self.clause = clause


class _Table:
    """A memo group's table as the kernel reads it: its mask, its keys' rows, each key's answer."""

    def __init__(self, mask: int, answers: dict, clause=None):
        self.mask, self.group = mask, _Group(clause)
        self.keys = np.array(sorted(answers), dtype=np.uint64)
        self.ok = np.array([answers[k] for k in sorted(answers)], dtype=np.int8)
        self.index = KeyIndex(mask, self.keys)


def _field(rng, shift: int, width: int, answers=(0, 1), missing: float = 0.05) -> dict:
    """Answers for the keys of ``width`` bits at ``shift``: most values known, a few not (their states are
    deferred)."""
    out = {}
    for v in range(1 << width):
        if rng.random() >= missing:
            out[v << shift] = int(rng.choice(answers, p=[0.1, 0.9] if len(answers) == 2 else None))
    return out


def _tables(seed: int) -> list:
    rng = np.random.default_rng(seed)
    tables = [_Table(0, {0: 1})]  # a witness group first
    tables += [_Table(3 << (2 * k), _field(rng, 2 * k, 2)) for k in range(6)]  # six small conjuncts
    tables.append(_Table(((1 << 14) - 1) << 12, _field(rng, 12, 14, missing=0.02)))  # one too wide for a bundle
    narrow, wide = object(), object()
    tables += [_Table(3 << (2 * k), _field(rng, 2 * k, 2, (0, 1, RAISED)), narrow) for k in range(3)]
    tables += [_Table(3 << (2 * k), _field(rng, 2 * k, 2, (0, 1, RAISED)), wide) for k in range(8)]
    order = rng.permutation(len(tables) - 1) + 1  # groups in any order, a clause's alternatives kept in theirs
    moved = [tables[k] for k in order]
    for clause in (narrow, wide):
        mine = iter([t for t in tables if t.group.clause is clause])
        moved = [next(mine) if t.group.clause is clause else t for t in moved]
    return tables[:1] + moved


@pytest.mark.parametrize("seed", range(8))
def test_bundles_judge_as_the_groups_one_by_one(seed):
    """The same failing and deferred states with and without bundles, over answers that fail, raise (an
    alternative) and are missing."""
    tables = _tables(seed)
    plan = bundles.Plan(tables, 1)
    assert plan.bundles and any(b.clause is not None for b in plan.bundles)  # the wide clause is cut in runs
    assert any(b.clause is None and any(len(item) > 1 for item in b.items) for b in plan.bundles)  # a whole clause
    judged = [t for b in plan.bundles for item in b.items for t in item] + [tables[k] for k in plan.alone]
    assert sorted(map(id, judged)) == sorted(map(id, tables))
    states = np.random.default_rng(100 + seed).integers(0, 1 << 26, 20000).astype(np.uint64)
    one_by_one = judge_part([np.sort(states)], tables, 1)
    for _ in range(2):  # the second time from the entries learnt the first
        bundled = judge_part([np.sort(states)], tables, 1, plan)
        for mine, theirs in ((bundled.failing, one_by_one.failing), (bundled.deferred, one_by_one.deferred)):
            assert _flat(mine) == _flat(theirs)
        assert bundled.held == one_by_one.held
    assert _flat(one_by_one.failing) and _flat(one_by_one.deferred)


def _flat(arrays: list) -> list[int]:
    return sorted(int(v) for a in arrays for v in a)


def test_a_plan_keeps_what_its_unchanged_bundles_learnt():
    tables = _tables(0)
    first = bundles.Plan(tables, 1)
    judge_part([np.arange(5000, dtype=np.uint64)], tables, 1, first)
    changed = tables[:-1] + [_Table(tables[-1].mask, {0: 1}, tables[-1].group.clause)]
    second = bundles.Plan(changed, 1, first)
    kept = [b for b in second.bundles if any(b is old for old in first.bundles)]
    assert kept and len(kept) < len(second.bundles)  # the bundle of the new table learns again
    assert all((b.verdict != bundles.UNKNOWN).any() for b in kept)
