"""What typed equality of ``@record`` states costs the interpreted search.

``@record`` gives NamedTuple classes an ``__eq__`` that compares the type too
(so records of two message types never compare equal).  The seen-set calls it
on every already-seen successor, so it is on the checker's hot loop.  This
script checks the same specs with that ``__eq__`` and with tuple's own, in one
process, interleaved, several rounds, and prints the fastest and the median
search time of each and their ratio.

    python benchmarks/bench_records.py                  # two-phase rm=7, paxos ballots=3, raft, 5 rounds
    python benchmarks/bench_records.py --rounds 7
"""

from __future__ import annotations

import argparse
import statistics
import time

from consensuslab import check
from consensuslab.protocols import protocol_class

CASES = [("two-phase", {"rm": 7}), ("paxos", {"ballots": 3}), ("raft", {"servers": 3})]


def state_types(model) -> list[type]:
    """The record classes found in the initial state: the state's and those nested inside it."""
    found, todo = [], list(model.initial_states())
    while todo:
        value = todo.pop()
        kind = type(value)
        if isinstance(value, tuple) and hasattr(kind, "_fields") and kind not in found:
            found.append(kind)
        if isinstance(value, (tuple, frozenset)):
            todo.extend(value)
    return found


def timed(name: str, params: dict, typed: bool) -> float:
    model = protocol_class(name)(params).compile()
    saved = []
    if not typed:
        for kind in state_types(model):
            saved.append((kind, kind.__eq__, kind.__ne__))
            kind.__eq__, kind.__ne__ = tuple.__eq__, tuple.__ne__
    try:
        started = time.perf_counter()
        result = check(model, engine="interpreted", progress=False)
        elapsed = time.perf_counter() - started
    finally:
        for kind, eq, ne in saved:
            kind.__eq__, kind.__ne__ = eq, ne
    assert result.status == "ok", result.status
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    opts = parser.parse_args()
    times: dict[tuple[str, bool], list[float]] = {}
    for r in range(opts.rounds):
        order = [True, False] if r % 2 == 0 else [False, True]
        for name, params in CASES:
            for typed in order:
                times.setdefault((name, typed), []).append(timed(name, params, typed))
    print(f"{'case':<20}{'typed s':>16}{'tuple s':>16}{'ratio (fastest)':>18}{'ratio (median)':>17}")
    for name, _ in CASES:
        t, u = times[(name, True)], times[(name, False)]
        print(f"{name:<20}{min(t):>7.2f} ({statistics.median(t):.2f}){min(u):>9.2f} ({statistics.median(u):.2f})"
              f"{min(t) / min(u):>18.3f}{statistics.median(t) / statistics.median(u):>17.3f}")


if __name__ == "__main__":
    main()
