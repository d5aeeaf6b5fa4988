"""What typed equality of ``@record`` states costs the interpreted search.

``@record`` gives NamedTuple classes an ``__eq__`` that compares the type too
(so records of two message types never compare equal).  The seen-set calls it
on every already-seen successor, so it is on the checker's hot loop.  This
script checks the same specs with that ``__eq__`` and with tuple's own, in one
process, interleaved, several rounds, and prints the fastest and the median
CPU time of each search (``time.process_time``: less disturbed than wall time
on a shared machine) and their ratio; then the cost of one ``==`` between equal
states, typed against tuple's.

    python benchmarks/bench_records.py                  # two-phase rm=6, paxos, raft, 5 rounds
    python benchmarks/bench_records.py --rounds 9
"""

from __future__ import annotations

import argparse
import statistics
import time

from consensuslab import check
from consensuslab.protocols import protocol_class

CASES = [("two-phase", {"rm": 6}), ("paxos", {}), ("raft", {"servers": 3})]


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
        started = time.process_time()
        result = check(model, engine="interpreted", progress=False)
        elapsed = time.process_time() - started
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
    print(f"{'case':<20}{'typed CPU s':>16}{'tuple CPU s':>16}{'ratio (fastest)':>18}{'ratio (median)':>17}")
    for name, _ in CASES:
        t, u = times[(name, True)], times[(name, False)]
        print(f"{name:<20}{min(t):>7.2f} ({statistics.median(t):.2f}){min(u):>9.2f} ({statistics.median(u):.2f})"
              f"{min(t) / min(u):>18.3f}{statistics.median(t) / statistics.median(u):>17.3f}")
    equality()


def equality() -> None:
    """Nanoseconds for one ``a == b`` of two equal, distinct two-phase states: typed against tuple's."""
    import timeit

    model = protocol_class("two-phase")({"rm": 6}).compile()
    a = model.initial_states()[0]
    b = type(a)(*[tuple(x) if isinstance(x, tuple) else x for x in a])
    kind = type(a)
    typed = min(timeit.repeat(lambda: a == b, number=200_000, repeat=7)) / 200_000 * 1e9
    saved, kind.__eq__ = kind.__eq__, tuple.__eq__
    try:
        plain = min(timeit.repeat(lambda: a == b, number=200_000, repeat=7)) / 200_000 * 1e9
    finally:
        kind.__eq__ = saved
    print(f"one == of equal states: typed {typed:.0f} ns, tuple's {plain:.0f} ns (fastest of 7 x 200,000, "
          f"including the lambda call)")


if __name__ == "__main__":
    main()
