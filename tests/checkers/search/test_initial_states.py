"""Initial states count against the limits too: a search may stop while it adds them."""

from __future__ import annotations

from typing import NamedTuple

from consensuslab import Spec, action, record
from consensuslab.checkers.search.explicit import Search

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
