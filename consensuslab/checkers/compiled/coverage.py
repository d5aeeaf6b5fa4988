"""Rows for the arguments a level's states first give a state-reading domain or a branched action, before the
level is expanded (``domains.py``).

The check that a state's arguments all have rows is memoised like any property; a state it fails on is
decoded and its arguments listed in Python, which is what the interpreted search does for every state.  So
the failing states are listed a batch at a time, and the check (with the new rows known) is asked again of
the rest: rows met once serve the others.  Why: a level where most states lack a row listed every one of them
(Bakery's ``ISpec`` with undeclared branches: 232,976 initial states; the compiled run took 28.6 s, 12.7 s
listed in batches), where the rows they lack are a few dozen.  Which rows are added does not depend on the batches: each state's missing arguments get rows,
and a state is listed unless all of its arguments already have rows.
"""

from __future__ import annotations

import numpy as np

from consensuslab.checkers.compiled.filling import failing_in
from consensuslab.checkers.compiled.packing import Unsupported
from consensuslab.checkers.compiled.words import from_ints, sort_states, words_for

#: states listed before the check is asked again of the rest
LISTED_AT_ONCE = 64


def cover_arguments(search, parts: list[list[np.ndarray]], workers) -> None:
    """Every argument a state-reading domain (or a branched action) yields on this level has its row."""
    rows = search.grow_domains()  # rows for the elements a set field numbered since the last level
    if rows:
        _joined(search, rows)
    uncovered = sorted(failing_in(search, search.domain_groups, parts, workers))
    while uncovered:
        decode = search.layout.decode
        listed = [row for s in uncovered[:LISTED_AT_ONCE] for row in search.domains.add(decode(s))]
        if not listed:
            raise Unsupported("a domain's coverage answers differently on a packed view than on the state")
        _joined(search, listed)
        rest = uncovered[LISTED_AT_ONCE:]
        if not rest:
            return
        states = sort_states(from_ints(rest, words_for(search.layout.bits)))
        uncovered = sorted(failing_in(search, search.domain_groups, [[states]], workers))


def _joined(search, rows: list) -> None:
    search.add_rows(rows)
    search.tables = {}  # the rows' numbers changed: every table is rebuilt
    search.label_ids = {u.label: i for i, u in enumerate(search.actions)}
