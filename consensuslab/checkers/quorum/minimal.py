"""The smallest set of nodes with a property, proved smallest: find one, then ask for one node fewer.

The splitting and blocking queries of threshold and explicit systems
(``queries.py``) and of federated ones (``fbas_queries.py``) both end here.
"""

from __future__ import annotations

import time

from consensuslab.checkers.quorum import encode as enc
from consensuslab.checkers.quorum.result import MinimalSet
from consensuslab.checkers.quorum.systems import ordered


def descend(kind, system, encode, extract, time_limit, encoding=enc.ENCODING) -> MinimalSet:
    """Find any set, then ask for one node fewer until UNSAT: the last UNSAT is the proof."""
    started = time.perf_counter()
    deadline = enc.Deadline.of(time_limit)
    solver, settings = enc.new_solver(deadline)
    fs = encode(solver)
    queries, best, bound = [], None, None
    while True:
        solver.push()
        if bound is not None:
            solver.add(enc.at_most(fs, bound))
        answer, seconds, _ = enc.solve(solver, deadline)
        queries.append((bound if bound is not None else len(fs), answer, seconds))
        if answer != "sat":
            solver.pop()
            break
        best = extract(solver.model())
        solver.pop()
        bound = len(best[0]) - 1
        if bound < 0:
            answer = "unsat"
            break
    common = dict(system=system.describe(), queries=tuple(queries), encoding=encoding,
                  solver=settings, seconds=time.perf_counter() - started)
    if best is None:
        return MinimalSet(kind, "none" if answer == "unsat" else "unknown", **common)
    nodes, qa, qb = best
    return MinimalSet(kind, "found" if answer == "unsat" else "unknown", nodes=ordered(nodes),
                      quorum_a=ordered(qa), quorum_b=ordered(qb),
                      lower_bound_proved=answer == "unsat", **common)
