"""A plain hand-written breadth-first search of EWD998PCal.tla (TLA+ Examples), as ``specs/ewd998.py`` models it.

A state is ``(network, active, color, counter)``: per node a bag of messages
(a frozenset of ``(message, count)`` pairs; messages ``("pl",)`` and
``("tok", q, color)``), and tuples of booleans, colours and ints.  The
state constraint ``counter[i] < 3`` is applied as TLC does: a successor that
breaks it is neither counted nor expanded.  A Python ``set`` of states, a
``deque``; no invariant is checked (the cfg has only a temporal property).

    python benchmarks/ewd998_plain_bfs.py            # N = 3: 321,370 states, as TLC
    python benchmarks/ewd998_plain_bfs.py --n 2 --json
"""

from __future__ import annotations

import argparse
import json
import time
from collections import deque
from itertools import product

PL = ("pl",)


def add(bag, m):
    d = dict(bag)
    d[m] = d.get(m, 0) + 1
    return frozenset(d.items())


def remove(bag, m):
    d = dict(bag)
    if d[m] == 1:
        del d[m]
    else:
        d[m] -= 1
    return frozenset(d.items())


def put(t, i, v):
    return t[:i] + (v,) + t[i + 1:]


def make_next(n, max_counter):
    nodes = range(n)

    def successors(state):
        network, active, color, counter = state
        out = []
        for i in nodes:
            msgs = [m for m, _ in network[i]]
            if active[i]:  # send a payload message to another node
                for to in nodes:
                    if to != i:
                        out.append((put(network, to, add(network[to], PL)), active, color,
                                    put(counter, i, counter[i] + 1)))
            if PL in msgs:  # receive a payload message
                out.append((put(network, i, remove(network[i], PL)), put(active, i, True),
                            put(color, i, "black"), put(counter, i, counter[i] - 1)))
            out.append((network, put(active, i, False), color, counter))  # terminate
            for tok in msgs:
                if tok[0] != "tok":
                    continue
                if i != 0 and not active[i]:  # pass the token on
                    new = ("tok", tok[1] + counter[i], "black" if color[i] == "black" else tok[2])
                    net = put(network, i, remove(network[i], tok))
                    net = put(net, i - 1, add(net[i - 1], new))
                    out.append((net, active, put(color, i, "white"), counter))
                if i == 0 and (color[i] == "black" or tok[1] + counter[i] != 0 or tok[2] == "black"):
                    net = put(network, i, remove(network[i], tok))
                    net = put(net, n - 1, add(net[n - 1], ("tok", 0, "white")))
                    out.append((net, active, put(color, i, "white"), counter))
        return [s for s in out if all(c < max_counter for c in s[3])]

    network = tuple(frozenset({(("tok", 0, "black"), 1)}) if i == 0 else frozenset() for i in nodes)
    initial = [(network, active, ("black",) * n, (0,) * n) for active in product((False, True), repeat=n)]
    return initial, successors


def bfs(n, max_counter):
    initial, successors = make_next(n, max_counter)
    start = time.perf_counter()
    seen = set(initial)
    queue = deque(initial)
    generated = 0
    while queue:
        for nxt in successors(queue.popleft()):
            generated += 1
            if nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    seconds = time.perf_counter() - start
    return {"distinct_states": len(seen), "states_generated": generated, "seconds": round(seconds, 3),
            "states_per_second": round(len(seen) / seconds) if seconds else None,
            "status": "ok"}  # the search ran to its end; it checks no property (nor the refinement)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=3)
    parser.add_argument("--max-counter", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    opts = parser.parse_args()
    out = bfs(opts.n, opts.max_counter)
    out.update({"n": opts.n, "max_counter": opts.max_counter})
    if opts.json:
        print(json.dumps(out, indent=2))
    else:
        print(f"ewd998 plain BFS (N={opts.n}, counter < {opts.max_counter}): {out['distinct_states']:,} distinct "
              f"states, {out['states_generated']:,} generated, {out['seconds']:.2f} s")


if __name__ == "__main__":
    main()
