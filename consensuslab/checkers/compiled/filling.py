"""The memo's tables for a level: filled where they lack a key, and the deferred states run again.

Kept apart from ``levels.py`` (the search itself) because every pass over a
level (expanding, judging invariants, witnesses, transition properties,
argument coverage) fills its tables the same way: what it lacks is traced
in Python on this thread, least state per key first, so that what is traced,
and so the whole result, does not depend on how a level is cut.
"""

from __future__ import annotations

import numpy as np

from consensuslab.checkers.compiled.kernels import Tables, judge_part
from consensuslab.checkers.compiled.words import as_row, order_key, sort_states, to_ints

U64 = np.uint64
#: traces between two reads of the search's budget (progress line, limits) inside a level
TRACES_BETWEEN_CHECKS = 256


# -- the memo's tables, kept current on this thread ------------------------------------------------------
def tables_for(search, groups: list) -> list[Tables]:
    found = []
    for g in groups:
        t = search.tables.get(id(g))
        t = Tables(g, search.label_ids) if t is None or t.group is not g else t.refreshed(search.label_ids)
        search.tables[id(g)] = t
        found.append(t)
    return found


def trace_missing(search, group, states: np.ndarray) -> None:
    """Fill the memo for the keys of ``states`` it lacks, each traced on the least state that has it.

    So what is traced (and the order values are interned in) does not depend on
    the order of a level.  Stops early when the key widens: the caller looks again.
    """
    table = search.tables.get(id(group))
    if table is not None and table.group is group and table.mask == group.mask:
        states = states[table.index.rows(states) < 0]  # the arrays may lag the memo: checked again below
    if not len(states):
        return
    mask = group.mask
    known = group.table
    todo = [s for s in _least_per_key(states, mask) if s & mask not in known]

    traced = [0]

    def evaluate(s: int) -> bool:
        search.evaluate(group, s)
        traced[0] += 1
        if traced[0] % TRACES_BETWEEN_CHECKS == 0:
            search.within_level()  # a level whose keys are mostly new can trace for minutes
        return group.mask == mask

    helper = search.helper
    # a unit that iterates a set through a filter is traced here whatever the helper computes (``helper.py``:
    # its subscriptions are this process's), so sharing it only adds the helper's answers to read (paxos
    # ballots=3, two workers: 2.86 s of tracing against 1.62 s with one)
    if helper is None or group.is_action or any(u.filtered for u in group.units) or not helper.knows(group):
        for s in todo:
            if not evaluate(s):
                return
        return
    try:
        helper.traced(group, todo, evaluate)
    finally:
        for u in group.units:
            u.prepared.clear()


def _least_per_key(states: np.ndarray, mask: int) -> list[int]:
    """The least of the sorted ``states`` with each key ``state & mask``, in the order of their keys."""
    if states.ndim == 1:
        keys = states & U64(mask)
        order = np.lexsort((states, keys))
        keys, states = keys[order], states[order]
        first = np.ones(len(keys), dtype=bool)
        first[1:] = keys[1:] != keys[:-1]
        return states[first].tolist()
    keys = states & as_row(mask, states.shape[1])
    mixed = order_key(keys)  # rows grouped by a 64-bit mix: ``np.unique(axis=0)`` sorts rows 4 times slower
    order = np.argsort(mixed, kind="stable")  # a key's states in their order: its least first
    mixed = mixed[order]
    first = np.ones(len(order), dtype=bool)
    np.not_equal(mixed[1:], mixed[:-1], out=first[1:])
    tied = np.flatnonzero(~first)
    if len(tied) and not np.all(keys[order[tied]] == keys[order[tied - 1]]):
        _, least = np.unique(keys, axis=0, return_index=True)  # two keys share a mix: about never
    else:
        least = order[first]
        least = least[np.lexsort(keys[least].T[::-1])]  # the keys' order, word by word, as ``np.unique``'s
    return to_ints(states[least])


def fill(search, groups: list, states: np.ndarray) -> list[Tables]:
    """Every group's tables, once they hold the keys of all ``states``."""
    while True:
        tables = tables_for(search, groups)
        lacking = [g for g, t in zip(groups, tables) if len(states) and t.index.rows(states).min() < 0]
        if not lacking:
            return tables
        for group in lacking:
            trace_missing(search, group, states)


def settle(search, groups: list, deferred: list[np.ndarray], kernel) -> list:
    """Run ``kernel(states, tables)`` on the deferred states until none is left, tracing what they lack.

    Returns the kernel's results; called on this thread only.
    """
    results = []
    pending = [d for d in deferred if len(d)]
    while pending:
        states = sort_states(np.concatenate(pending))
        for group in groups:
            trace_missing(search, group, states)
        result = kernel([states], tables_for(search, groups))
        results.append(result)
        pending = [d for d in result.deferred if len(d)]
    return results


def failing_in(search, groups: list, parts: list[list[np.ndarray]], workers) -> list[int]:
    """The states of a level where one of ``groups`` (properties) does not hold, tracing the keys they lack."""
    if not groups:
        return []
    tables = tables_for(search, groups)
    found = workers.map(lambda part: judge_part(part, tables), parts)
    later = settle(search, groups, [d for j in found for d in j.deferred], lambda states, tabs: judge_part(states, tabs))
    failing = [f for j in found + later for f in j.failing if len(f)]
    return to_ints(np.concatenate(failing)) if failing else []
