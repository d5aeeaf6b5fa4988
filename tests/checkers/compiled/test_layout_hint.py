"""The compiled layout numbers first the values of the states the interpreted probe or scout reached first, and
so has room for them from the start: no layout restart for them."""

from __future__ import annotations

from typing import NamedTuple

from consensuslab import Spec, action, always, check, record
from consensuslab.checkers.compiled.engine import CompiledSearch
from consensuslab.checkers.compiled.packing import Layout
from consensuslab.checkers.search.explicit import Search
from consensuslab.checkers.search.lint import lint
from consensuslab.protocols.two_phase import TwoPhase


@record
class Tally(NamedTuple):
    count: int
    history: tuple  # the last two counts
    seen: frozenset


class Growing(Spec):
    """Values every field outgrows: a field packed for the initial state's values overflows again and again."""

    def init(self):
        yield Tally(0, (0, 0), frozenset())

    @action
    def bump(self, s):
        if s.count < 40:
            return Tally(s.count + 1, (s.history[1], s.count), s.seen | {s.count})

    def done(self, s):
        return s.count == 40

    @always
    def bounded(self, s):
        return s.count <= 40


def test_a_search_keeping_levels_lists_states_in_the_order_found():
    probe = Search(Growing({}).compile(), progress=False).keep_levels()
    probe.run()
    found = probe.reached_in_order(5)
    assert [s.count for s in found] == [0, 1, 2, 3, 4]
    assert found[3] == Tally(3, (1, 2), frozenset({0, 1, 2}))
    assert len(probe.reached_in_order(1000)) == 41 and Search(Growing({}).compile()).reached_in_order(5) == []


def test_states_reached_first_spare_the_layout_restarts():
    model = Growing({}).compile()
    probe = Search(model, progress=False).keep_levels()
    probe.run()
    hinted = CompiledSearch(model, progress=False, insist=True, reached=probe.reached_in_order(1000)).run()
    plain = CompiledSearch(model, progress=False, insist=True).run()
    assert plain.extra["compiled"]["restarts"] > 0 and hinted.extra["compiled"]["restarts"] == 0
    assert (hinted.status, hinted.distinct_states, hinted.depth) == (plain.status, plain.distinct_states, plain.depth)


def test_engine_compiled_scouts_first():
    r = check(Growing({}).compile(), progress=False, engine="compiled")
    assert r.extra["compiled"]["restarts"] == 0
    assert r.extra["engine"] == "compiled" and r.extra["engine_reason"] == "--engine compiled"
    assert (r.status, r.distinct_states) == ("ok", 41)


def test_the_lint_s_first_states_spare_the_scout(monkeypatch):
    """A user's spec is linted first (``checkers/search/lint.py``): the states it reached are the hint, and no
    interpreted scout runs."""
    model = Growing({}).compile()
    lint(model)
    assert [s.count for s in model.first_reached] == list(range(41))

    def no_scout(self):
        raise AssertionError("the interpreted search ran")

    monkeypatch.setattr(Search, "run", no_scout)
    r = check(model, progress=False, engine="compiled")
    assert r.extra["compiled"]["restarts"] == 0 and (r.status, r.distinct_states) == ("ok", 41)


def test_no_hint_under_max_states():
    # which states a --max-states cut keeps depends on the numbering: it must not depend on how far a scout got
    r = check(Growing({}).compile(), progress=False, engine="compiled", max_states=30)
    assert r.extra["compiled"]["restarts"] > 0 and (r.distinct_states, r.stopped_by) == (30, "max-states")


def test_a_scout_that_finishes_does_not_answer_for_the_compiled_engine():
    r = check(Growing({}).compile(), progress=False, engine="compiled", workers=2)
    assert r.extra["engine"] == "compiled" and r.distinct_states == 41


def test_initial_states_are_encoded_again_only_once_a_field_moved():
    initial = [Tally(0, (0, 0), frozenset())]
    layout = Layout.learn(initial)
    first = layout.encode_initial(initial)
    assert layout.encode_initial(initial) is first  # learn encoded them: the search reuses that
    layout.widen("count")
    again = layout.encode_initial(initial)
    assert again is not first and layout.decode(again[0]) == initial[0]


def test_no_scout_in_a_run_shorter_than_two_scouts():
    # a scout would spend the whole limit and answer with its own, interpreted, partial result
    r = check(TwoPhase({"rm": 9}).compile(), progress=False, engine="compiled", time_limit=0.1)
    assert (r.status, r.stopped_by, r.extra["engine"]) == ("incomplete", "time-limit", "compiled")
