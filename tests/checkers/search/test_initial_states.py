"""Initial states count against the limits too: a search may stop while it adds them."""

from __future__ import annotations

from typing import NamedTuple

import pytest

from consensuslab import Spec, action, record
from consensuslab.checkers.search.explicit import Search
from consensuslab.checkers.search.lint import LINT_STATES, lint
from consensuslab.errors import ModelError

STARTS = 300_000


@record
class Start(NamedTuple):
    k: int


class ManyStarts(Spec):
    """Many initial states (EWD840 with N = 7 has 114,688): a time limit must bound adding them too."""

    def init(self):
        for k in range(STARTS):
            yield Start(k)

    @action
    def stay(self, s):
        return None


def test_a_time_limit_stops_the_search_among_its_initial_states():
    r = Search(ManyStarts({}).compile(), time_limit=0.02, progress=False).run()
    assert r.stopped_by == "time-limit" and 0 < r.distinct_states < STARTS


def test_the_probe_keeps_the_initial_states_it_added_as_its_first_level():
    probe = Search(ManyStarts({}).compile(), time_limit=0.02, progress=False).keep_levels()
    probe.run()
    assert [s.k for s in probe.reached_in_order(3)] == [0, 1, 2]


class CountedStarts(Spec):
    """``init`` counts the candidates it yields; ``drift`` makes the ``drift``-th state of a second run differ."""

    yielded = 0
    calls = 0
    drift: int | None = None

    def init(self):
        type(self).calls += 1
        for k in range(self.n):
            type(self).yielded += 1
            yield Start(k + 1 if type(self).calls > 1 and k == self.drift else k)

    @action
    def stay(self, s):
        return None


def counted(n: int, drift: int | None = None):
    class Counted(CountedStarts):
        name = "counted"

    Counted.n, Counted.drift = n, drift
    return Counted({}).compile(), Counted


def test_the_lint_compares_the_first_initial_states_without_running_init_twice_in_full():
    model, cls = counted(STARTS)
    lint(model)
    assert cls.calls == 2 and cls.yielded == STARTS + LINT_STATES + 1


@pytest.mark.parametrize("n,drift", [(5, 3), (LINT_STATES + 10, LINT_STATES - 1)])
def test_an_init_that_differs_on_its_second_run_is_still_not_deterministic(n, drift):
    model, _ = counted(n, drift)
    with pytest.raises(ModelError, match="not deterministic"):
        lint(model)


def test_an_init_that_yields_fewer_states_on_its_second_run_is_not_deterministic():
    class Shrinking(CountedStarts):
        name = "shrinking"
        n = 5

        def init(self):
            type(self).calls += 1
            yield from (Start(k) for k in range(self.n if type(self).calls == 1 else self.n - 1))

    with pytest.raises(ModelError, match="not deterministic"):
        lint(Shrinking({}).compile())
