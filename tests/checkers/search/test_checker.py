"""The exhaustive checker on models whose answers are known by hand."""

import pytest

from consensuslab import check

from tiny_models import Grid, Ring, TwoBits


@pytest.mark.parametrize("search", ["bfs", "dfs"])
@pytest.mark.parametrize("size", [1, 2, 5, 17])
def test_ring_has_exactly_size_states(size, search):
    r = check(Ring({"size": size}).compile(), search=search, progress=False)
    assert r.status == "ok"
    assert r.distinct_states == size
    assert r.states_generated == size  # one successor per state
    assert r.exit_code == 0


@pytest.mark.parametrize("size", [1, 3, 6])
def test_grid_counts_and_depth(size):
    r = check(Grid({"size": size}).compile(), progress=False)
    assert r.status == "ok"
    assert r.distinct_states == size * size
    assert r.depth == 2 * (size - 1)


def test_bfs_gives_shortest_counterexample_and_dfs_a_valid_one():
    model = Grid({"size": 6, "target": 7}).compile()
    bfs = check(model, progress=False)
    assert bfs.status == "violation" and bfs.violation.property == "avoid_target"
    assert len(bfs.violation.trace) == 7
    dfs = check(Grid({"size": 6, "target": 7}).compile(), search="dfs", progress=False)
    assert dfs.status == "violation"
    last = dfs.violation.trace.states[-1]
    assert last.a + last.b == 7
    assert bfs.exit_code == 12


def test_counterexample_replays_through_apply():
    model = Ring({"size": 9, "bad": 6}).compile()
    r = check(model, progress=False)
    trace = r.violation.trace
    assert len(trace) == 6
    state = trace.initial
    for act, after in trace.steps:
        state = model.apply(state, act)
        assert state == after
    assert state.n == 6


def test_transition_property_violation_includes_the_bad_step():
    r = check(Ring({"size": 9, "step_bad": 4}).compile(), progress=False)
    assert r.violation.kind == "transition"
    assert r.violation.property == "no_bad_step"
    assert len(r.violation.trace) == 4
    assert r.violation.trace.states[-1].n == 4


def test_deadlock_detected_unless_done_or_switched_off():
    r = check(TwoBits().compile(), progress=False)
    assert r.status == "deadlock" and r.exit_code == 11
    assert len(r.violation.trace) == 2
    model = TwoBits().compile()
    model.check_deadlock = False
    assert check(model, progress=False).status == "ok"
    assert check(Grid({"size": 3}).compile(), progress=False).status == "ok"  # done() final state


def test_unwitnessed_sometimes_is_a_failure_not_ok():
    model = TwoBits({"witness": False}).compile()
    model.check_deadlock = False
    r = check(model, progress=False)
    assert r.status == "violation"
    assert r.violation.kind == "sometimes"
    assert r.properties["both_set"] == "unwitnessed"


@pytest.mark.parametrize("limits,stopped", [
    ({"max_states": 10}, "max-states"),
    ({"max_depth": 3}, "max-depth"),
    ({"time_limit": 1e-9}, "time-limit"),
])
def test_limits_give_incomplete_never_ok(limits, stopped):
    r = check(Ring({"size": 5000}).compile(), progress=False, **limits)
    assert r.status == "incomplete"
    assert r.stopped_by == stopped
    assert r.exit_code == 3
    assert r.properties["not_bad"] == "unknown"


def test_max_depth_that_covers_everything_is_complete():
    r = check(Grid({"size": 3}).compile(), max_depth=4, progress=False)
    assert r.status == "ok" and r.distinct_states == 9


def test_successors_are_sorted_by_action():
    model = Grid({"size": 3}).compile()
    out = model.successors(model.initial_states()[0])
    assert [a.args for a, _ in out] == [("down",), ("right",)]


def _paused_then_resumed(model, seconds: float):
    """A search stopped by its time limit at least once, then resumed to the end (the rival's way)."""
    from consensuslab.checkers.search.explicit import Search

    search = Search(model, time_limit=seconds, progress=False)
    first = search.run()
    assert first.stopped_by == "time-limit" and search.resumable()
    return first, search.resume(None)


def test_a_resumed_search_counts_what_an_uninterrupted_one_counts():
    from consensuslab.protocols.two_phase import TwoPhase

    alone = check(TwoPhase({"rm": 5}).compile(), progress=False, engine="interpreted")
    first, resumed = _paused_then_resumed(TwoPhase({"rm": 5}).compile(), 0.05)
    assert 0 < first.distinct_states < alone.distinct_states == 8832
    assert (resumed.status, resumed.distinct_states, resumed.states_generated, resumed.depth) == \
        (alone.status, alone.distinct_states, alone.states_generated, alone.depth)


def test_a_resumed_search_finds_the_same_counterexample():
    from consensuslab.protocols import protocol_class

    def figure8():  # Figure 8's violation: 150,963 states, 48 steps deep
        return protocol_class("raft").configure({}, None, "figure8").compile()

    alone = check(figure8(), progress=False, engine="interpreted")
    _, resumed = _paused_then_resumed(figure8(), 0.5)
    assert alone.status == resumed.status == "violation"
    assert resumed.distinct_states == alone.distinct_states
    assert [str(a) for a, _ in resumed.violation.trace.steps] == [str(a) for a, _ in alone.violation.trace.steps]


def _paused_at(levels: list[int], pos: int, ahead: int):
    """A search as if paused at its time limit: whole levels of these sizes, the last expanded up to ``pos``, and
    ``ahead`` states of the next found so far."""
    from consensuslab.checkers.search.explicit import Search
    from consensuslab.protocols.two_phase import TwoPhase

    search = Search(TwoPhase({"rm": 3}).compile(), progress=False).keep_levels()
    search.levels = [[None] * n for n in levels]
    search._paused = ([None] * (levels[-1] - pos), pos, levels[-1], [None] * ahead)
    return search


def test_the_time_a_paused_search_has_left_follows_its_levels():
    # shrinking (10, 8, next projected 4): 4 left of this level, then 4 / (1 - 1/2) = 8; 15 expanded in 1.5 s
    assert _paused_at([1, 10, 8], pos=4, ahead=2).seconds_left(1.5) == pytest.approx(12 * 0.1)
    # growing (5, 20, next projected 60): at least the rest of this level and the next, and as long again
    assert _paused_at([1, 5, 20], pos=10, ahead=30).seconds_left(1.6) == pytest.approx(70 * 0.1)
    assert _paused_at([1, 5, 20], pos=10, ahead=1).seconds_left(1.6) == pytest.approx(1.6)
    # nothing of the level expanded yet, or a single level: unknown
    assert _paused_at([1, 5, 20], pos=0, ahead=0).seconds_left(1.0) is None
    assert _paused_at([20], pos=10, ahead=3).seconds_left(1.0) is None


def test_a_search_resumed_keeping_its_levels_lists_every_state_it_found_in_order():
    from consensuslab.checkers.search.explicit import Search
    from consensuslab.protocols.two_phase import TwoPhase

    search = Search(TwoPhase({"rm": 5}).compile(), time_limit=0.02, progress=False).keep_levels()
    result = search.run()
    slices = 1
    while result.stopped_by == "time-limit":
        result = search.resume(0.02, keep_levels=True)
        slices += 1
    assert slices > 1 and (result.status, result.distinct_states) == ("ok", 8832)
    listed = search.reached_in_order(10 ** 6)
    assert len(listed) == len(set(listed)) == 8832
    alone = Search(TwoPhase({"rm": 5}).compile(), progress=False).keep_levels()
    alone.run()
    assert listed == alone.reached_in_order(10 ** 6)
