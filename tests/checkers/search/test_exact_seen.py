"""Distinct states are never merged by Python's hash: ``hash(-1) == hash(-2)`` in CPython.

A seen-set of ``hash(state)`` values merges two states that differ only by
-1 against -2, and reports ``ok`` over states it never explored.  Every
search, whatever the engine, must count such states apart.
"""

from typing import NamedTuple

import pytest

from consensuslab import Spec, action, always, check, record


@record
class Counter(NamedTuple):
    x: int
    seen_minus_three: bool


class Descent(Spec):
    """x goes 0, -1, -2, -3; a bug lives only at -3, which is reached only through -2."""

    name = "descent"
    check_deadlock = False

    def init(self):
        yield Counter(0, False)

    @action
    def Down(self, s):
        if s.x > -3:
            return s._replace(x=s.x - 1, seen_minus_three=s.x - 1 == -3)

    @always
    def never_minus_three(self, s):
        return not s.seen_minus_three


def test_python_hash_merges_minus_one_and_minus_two():
    assert hash(Counter(-1, False)) == hash(Counter(-2, False))  # why the rest of this file exists


@pytest.mark.parametrize("options", [
    {"engine": "interpreted"},
    {"engine": "compiled"},
    {"engine": "interpreted", "workers": 2},
    {"engine": "interpreted", "search": "dfs"},
], ids=["interpreted", "compiled", "workers", "dfs"])
def test_every_engine_reaches_the_state_behind_minus_two(options):
    r = check(Descent({}).compile(), progress=False, **options)
    assert r.status == "violation" and r.violation.property == "never_minus_three"
    assert len(r.violation.trace) == 3


def test_partitioned_and_liveness_searches_count_them_apart():
    from consensuslab.checkers.liveness.check import check_liveness
    from consensuslab.checkers.scale.partition import check_local

    model = Descent({}).compile()
    model.invariants = []
    assert check_local(model).distinct_states == 4
    assert check_liveness(model).distinct_states == 4


def test_swarm_and_simulation_count_them_apart():
    from consensuslab.checkers.simulation.simulate import simulate

    model = Descent({}).compile()
    assert check(model, swarm=2, progress=False).status == "violation"
    model.invariants = []
    assert check(model, swarm=2, progress=False).extra["swarm"]["union_states"] == 4
    assert simulate(model, examples=1, walks=20).distinct_states == 4
