"""A plain hand-written breadth-first search of Paxos.tla, for comparison with ``consensuslab check paxos``.

The same state machine as ``consensuslab/protocols/paxos.py`` (Lamport's
Paxos.tla), written the way one would without a framework: a state is a
tuple ``(maxBal, maxVBal, maxVal, msgs)`` of tuples and a frozenset of
message tuples, the seen-set a Python ``set``, the queue a ``deque``.  No
packing, no memoisation.  Acceptors are ``0..n-1``, values ``0..v-1``, ``None``
is "no value", ballots ``0..ballots-1``, quorums the majorities.

Messages: ``("1a", b)``, ``("1b", a, b, mbal, mval)``, ``("2a", b, v)``,
``("2b", a, b, v)``.  The invariant checked on every state is ``Consistency``
(at most one value chosen); ``--invariant none`` checks nothing.

    python benchmarks/paxos_plain_bfs.py --ballots 3          # 185,369 states
    python benchmarks/paxos_plain_bfs.py --ballots 3 --json

Compare with ``consensuslab check paxos -p ballots=3 --property Consistency``
(the same invariant) and plain ``consensuslab check paxos -p ballots=3``
(which also checks ``TypeOK`` and the inductive invariant ``Inv``).
"""

from __future__ import annotations

import argparse
import json
import time
from collections import deque
from itertools import combinations


def make_next(n, nvalues, nballots):
    acceptors = range(n)
    values = range(nvalues)
    ballots = range(nballots)
    quorums = [frozenset(q) for q in combinations(acceptors, n // 2 + 1)]

    def successors(state):
        max_bal, max_vbal, max_val, msgs = state
        out = []
        # Phase1a(b)
        for b in ballots:
            out.append((max_bal, max_vbal, max_val, msgs | {("1a", b)}))
        for m in msgs:
            kind = m[0]
            if kind == "1a":
                # Phase1b(a, m)
                b = m[1]
                for a in acceptors:
                    if b > max_bal[a]:
                        new_bal = max_bal[:a] + (b,) + max_bal[a + 1:]
                        reply = ("1b", a, b, max_vbal[a], max_val[a])
                        out.append((new_bal, max_vbal, max_val, msgs | {reply}))
            elif kind == "2a":
                # Phase2b(a, m)
                b, v = m[1], m[2]
                for a in acceptors:
                    if b >= max_bal[a]:
                        out.append((max_bal[:a] + (b,) + max_bal[a + 1:],
                                    max_vbal[:a] + (b,) + max_vbal[a + 1:],
                                    max_val[:a] + (v,) + max_val[a + 1:],
                                    msgs | {("2b", a, b, v)}))
        # Phase2a(b, v)
        for b in ballots:
            if any(m[0] == "2a" and m[1] == b for m in msgs):
                continue
            for v in values:
                for q in quorums:
                    q1b = [m for m in msgs if m[0] == "1b" and m[1] in q and m[2] == b]
                    if {m[1] for m in q1b} != q:
                        continue
                    q1bv = [m for m in q1b if m[3] >= 0]
                    if not q1bv or any(m[4] == v and all(m[3] >= mm[3] for mm in q1bv) for m in q1bv):
                        out.append((max_bal, max_vbal, max_val, msgs | {("2a", b, v)}))
                        break
        return out

    def consistency(state):
        msgs = state[3]
        chosen = set()
        for b in ballots:
            for v in values:
                voters = {m[1] for m in msgs if m[0] == "2b" and m[2] == b and m[3] == v}
                if any(q <= voters for q in quorums):
                    chosen.add(v)
        return len(chosen) <= 1

    initial = ((-1,) * n, (-1,) * n, (None,) * n, frozenset())
    return initial, successors, consistency


def bfs(n, nvalues, nballots, check=True):
    initial, successors, consistency = make_next(n, nvalues, nballots)
    start = time.perf_counter()
    seen = {initial}
    queue = deque([initial])
    generated = 0
    violation = None
    while queue:
        state = queue.popleft()
        for nxt in successors(state):
            generated += 1
            if nxt not in seen:
                seen.add(nxt)
                if check and violation is None and not consistency(nxt):
                    violation = nxt
                queue.append(nxt)
    seconds = time.perf_counter() - start
    return {"distinct_states": len(seen), "states_generated": generated, "seconds": round(seconds, 3),
            "states_per_second": round(len(seen) / seconds) if seconds else None,
            "status": "ok" if violation is None else "violation"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--acceptors", type=int, default=3)
    parser.add_argument("--values", type=int, default=2)
    parser.add_argument("--ballots", type=int, default=3)
    parser.add_argument("--invariant", choices=("consistency", "none"), default="consistency")
    parser.add_argument("--json", action="store_true")
    opts = parser.parse_args()
    out = bfs(opts.acceptors, opts.values, opts.ballots, check=opts.invariant == "consistency")
    out.update({"acceptors": opts.acceptors, "values": opts.values, "ballots": opts.ballots,
                "invariant": opts.invariant})
    if opts.json:
        print(json.dumps(out, indent=2))
    else:
        print(f"paxos plain BFS (acceptors={opts.acceptors}, values={opts.values}, ballots={opts.ballots}): "
              f"{out['status']}, {out['distinct_states']:,} distinct states, "
              f"{out['states_generated']:,} generated, {out['seconds']:.2f} s")


if __name__ == "__main__":
    main()
