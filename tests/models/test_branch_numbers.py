"""Unlabelled branches are numbered by what each changes, field by field: the same order on every engine."""

from __future__ import annotations

from consensuslab import Spec, action, check, replace_at
from consensuslab.models.branch_numbers import change_order

from branch_cells import BASE, Cell


def test_a_set_is_ordered_by_the_elements_it_gains_then_loses_not_by_its_other_elements():
    gains_5, gains_0 = BASE._replace(b=BASE.b | {5}), BASE._replace(b=BASE.b | {0})
    loses_1, c_only = BASE._replace(b=BASE.b - {1}), BASE._replace(c=0)
    assert change_order(BASE, [gains_5, gains_0, loses_1, c_only]) == [c_only, loses_1, gains_0, gains_5]
    # the set's own order (canon of the whole set) would put {0, 1, 3} first and {1, 3, 5} before {3}


def test_equal_next_states_are_one_branch_and_fields_set_alike_order_nothing():
    one = BASE._replace(a=replace_at(BASE.a, 2, 0), c=5)
    two = BASE._replace(a=replace_at(BASE.a, 0, 9), c=5)
    assert change_order(BASE, [two, one, BASE._replace(a=replace_at(BASE.a, 2, 0), c=5)]) == [one, two]


class Spread(Spec):
    """Three plain branches, yielded in an order that depends on iterating a set."""

    name = "spread"
    check_deadlock = False

    def init(self):
        yield Cell((0, 0, 0), frozenset({"x", "yy", "zzz"}), 0)

    @action
    def Pick(self, s):
        if s.c == 0:
            for item in s.b:
                yield s._replace(b=s.b - {item}, c=len(item))


def test_the_numbers_are_the_same_on_both_engines_and_follow_the_changes():
    model = Spread().compile()
    steps = model.successors(model.initial_states()[0])
    assert [(str(a), t.c) for a, t in steps] == [("Pick(1)", 1), ("Pick(2)", 2), ("Pick(3)", 3)]
    for engine in ("interpreted", "compiled"):
        r = check(Spread().compile(), engine=engine, progress=False)
        assert (r.extra["engine"], r.status, r.distinct_states) == (engine, "ok", 4)
