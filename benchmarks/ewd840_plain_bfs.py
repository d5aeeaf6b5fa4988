"""A plain hand-written breadth-first search of EWD840.tla (TLA+ Examples), as ``specs/ewd840.py`` models it.

A state is ``(active, color, tpos, tcolor)``: a tuple of booleans, a tuple of
colours, the token's position and colour.  A Python ``set`` of states, a
``deque``; the invariants ``TerminationDetection`` and ``Inv`` are checked on
every new state (``TypeOK`` holds by construction).

    python benchmarks/ewd840_plain_bfs.py --n 3      # 302 states, as TLC
    python benchmarks/ewd840_plain_bfs.py --n 7 --json
"""

from __future__ import annotations

import argparse
import json
import time
from collections import deque
from itertools import product


def put(t, i, v):
    return t[:i] + (v,) + t[i + 1:]


def make_next(n):
    nodes = range(n)

    def successors(state):
        active, color, tpos, tcolor = state
        out = []
        if tpos == 0 and (tcolor == "black" or color[0] == "black"):  # InitiateProbe
            out.append((active, put(color, 0, "white"), n - 1, "white"))
        i = tpos
        if i != 0 and (not active[i] or color[i] == "black" or tcolor == "black"):  # PassToken(i)
            out.append((active, put(color, i, "white"), i - 1, "black" if color[i] == "black" else tcolor))
        for i in nodes:
            if active[i]:
                for j in nodes:  # SendMsg(i) to j
                    if j != i:
                        out.append((put(active, j, True), put(color, i, "black") if j > i else color, tpos, tcolor))
                out.append((put(active, i, False), color, tpos, tcolor))  # Deactivate(i)
        return out

    def invariants(state):
        active, color, tpos, tcolor = state
        detected = tpos == 0 and tcolor == "white" and color[0] == "white" and not active[0]
        if detected and any(active):
            return False
        return (all(not active[i] for i in nodes if tpos < i)
                or any(color[j] == "black" for j in range(tpos + 1)) or tcolor == "black")

    initial = [(active, color, tpos, "black") for active in product((False, True), repeat=n)
               for color in product(("white", "black"), repeat=n) for tpos in nodes]
    return initial, successors, invariants


def bfs(n):
    initial, successors, invariants = make_next(n)
    start = time.perf_counter()
    seen = set(initial)
    queue = deque(initial)
    generated = 0
    ok = all(invariants(s) for s in initial)
    while queue:
        for nxt in successors(queue.popleft()):
            generated += 1
            if nxt not in seen:
                seen.add(nxt)
                ok = ok and invariants(nxt)
                queue.append(nxt)
    seconds = time.perf_counter() - start
    return {"distinct_states": len(seen), "states_generated": generated, "seconds": round(seconds, 3),
            "states_per_second": round(len(seen) / seconds) if seconds else None,
            "status": "ok" if ok else "violation"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    opts = parser.parse_args()
    out = bfs(opts.n)
    out["n"] = opts.n
    if opts.json:
        print(json.dumps(out, indent=2))
    else:
        print(f"ewd840 plain BFS (N={opts.n}): {out['status']}, {out['distinct_states']:,} distinct states, "
              f"{out['states_generated']:,} generated, {out['seconds']:.2f} s")


if __name__ == "__main__":
    main()
