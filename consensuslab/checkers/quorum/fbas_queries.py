"""Z3 queries on federated (FBAS) quorum systems: intersection, splitting and blocking sets.

Definitions are in ``consensuslab.checkers.quorum.fbas``. Encoding, measured on the 637-node
Stellar snapshot: one Boolean per relevant node and per quorum (``A``, ``B``) and faulty
set ``F``; "``v`` in ``A`` and correct implies its quorum set is met in ``A``" as nested
``AtLeast``; ``Tactic('smt')``. Intersection takes ~50 ms; 0/1 integers took 2 s here.

Blocking needs "no quorum survives", a universal statement. A well-founded ranking
encoding (every correct node blocked by lower-ranked nodes) took 42 s just for f=0 and
timed out at 60 s for the minimum; the implicit hitting-set loop in ``_hitting`` (Z3 for
the hitting sets, the plain-Python fixpoint as oracle) answers in about a second.
"""

from __future__ import annotations

import time

import z3

from consensuslab.checkers.quorum import encode as enc
from consensuslab.checkers.quorum.fbas import Fbas, QuorumSet
from consensuslab.checkers.quorum.minimal import descend
from consensuslab.checkers.quorum.result import MinimalSet, QuorumResult, Witness, show
from consensuslab.checkers.quorum.systems import Availability, ByzantineIntersection, Intersection, node_key, ordered
from consensuslab.errors import ConsensuslabError, UsageError

ENCODING = "fbas-bool-atleast"
BLOCK_ENCODING = "fbas-implicit-hitting-set"


def _vars(tag: str, nodes) -> dict:
    return {v: z3.Bool(f"{tag}{i}") for i, v in enumerate(nodes)}


def _met(q: QuorumSet, xs: dict):
    return z3.AtLeast(*([xs[v] for v in q.validators] + [_met(i, xs) for i in q.inner]), q.threshold)


def _quorum(fb: Fbas, xs: dict, faulty: dict | None):
    """``xs`` is a quorum once the faulty nodes are free; it holds a correct known node."""
    table = fb.table
    correct = (lambda v: z3.Not(faulty[v])) if faulty else (lambda v: z3.BoolVal(True))
    out = [z3.Implies(z3.And(xs[v], correct(v)), _met(table[v], xs)) for v in fb.known()]
    out.append(z3.Or([z3.And(xs[v], correct(v)) for v in fb.known()]))
    return out


def _shrink_quorum(fb: Fbas, q: set, faulty: set) -> set:
    for v in sorted(q, key=node_key, reverse=True):
        if v in q:
            smaller = fb.greatest_quorum_in(q - {v}, faulty)
            if smaller:
                q = set(smaller)
    return q


def _minimal_quorums(fb: Fbas, alive, tries: int = 12) -> list:
    """Several minimal quorums inside ``alive``: each removal order yields one, and more
    quorums per round means fewer rounds of the hitting-set loop (828 rounds with one
    quorum per round on the Stellar snapshot). Orders are rotations: deterministic."""
    nodes = sorted(alive, key=node_key)
    out = []
    for k in range(tries):
        order = nodes[k * len(nodes) // tries:] + nodes[: k * len(nodes) // tries]
        q = set(alive)
        for v in order:
            if v in q:
                smaller = fb.greatest_quorum_in(q - {v})
                if smaller:
                    q = set(smaller)
        if q not in out:
            out.append(q)
    return out


def _split_witness(fb: Fbas, a: set, b: set, f: set) -> Witness:
    a, b = _shrink_quorum(fb, a, f), _shrink_quorum(fb, b, f)

    def ok(g):
        return fb.is_quorum(a, g) and fb.is_quorum(b, g) and a & b <= g
    for v in sorted(f, key=node_key, reverse=True):
        if ok(f - {v}):
            f = f - {v}
    if not ok(f):
        raise ConsensuslabError("internal error: the Z3 FBAS witness does not re-check")
    return Witness(ordered(a), ordered(b), ordered(f))


def _split_problem(fb: Fbas, solver, with_faults: bool):
    nodes = fb.relevant()
    a, b = _vars("a", nodes), _vars("b", nodes)
    f = _vars("f", nodes) if with_faults else None
    solver.add(_quorum(fb, a, f) + _quorum(fb, b, f))
    if f is None:
        solver.add([z3.Not(z3.And(a[v], b[v])) for v in nodes])
    else:
        solver.add([z3.Implies(z3.And(a[v], b[v]), f[v]) for v in nodes])
    return a, b, f


def _hitting(fb: Fbas, limit: int | None, time_limit: float | None):
    """Smallest blocking set by implicit hitting sets.

    ``F`` blocks iff it meets every quorum of known nodes. Z3 finds the smallest ``F`` meeting
    the quorums collected so far; the plain-Python fixpoint either confirms that no quorum
    avoids ``F`` or returns one, which is shrunk to a minimal quorum and added. Each UNSAT
    at size ``k`` is a proof that no blocking set has ``k`` nodes, since every blocking set
    meets every collected (real) quorum. Stops early once ``k`` exceeds ``limit``.
    Returns (blocking set or None, queries, settings, answer at the last bound).
    """
    deadline = enc.Deadline.of(time_limit)
    solver, settings = enc.new_solver(deadline)
    known = fb.known()
    f = _vars("f", known)
    queries, k, collected = [], 0, 0
    while limit is None or k <= limit:
        solver.push()
        solver.add(z3.AtMost(*f.values(), k))
        answer, seconds, _ = enc.solve(solver, deadline)
        cand = enc.chosen(solver.model(), f) if answer == "sat" else None
        solver.pop()
        queries.append((k, answer, seconds))
        if answer == "unknown":
            return None, queries, settings, "unknown"
        if answer == "unsat":
            k += 1
            continue
        alive = fb.greatest_quorum_in(set(known) - cand)
        if not alive:
            settings = dict(settings, quorums_collected=collected)
            return ordered(cand), queries, settings, "sat"
        for q in _minimal_quorums(fb, alive):
            solver.add(z3.Or([f[v] for v in q]))
            collected += 1
    settings = dict(settings, quorums_collected=collected)
    return None, queries, settings, "unsat"


def check_requirement(fb: Fbas, req, time_limit: float | None = None) -> QuorumResult:
    deadline = enc.Deadline.of(time_limit)
    solver, settings = enc.new_solver(deadline)
    encoding = ENCODING
    if req.budget.weight is not None:
        raise UsageError("an FBAS takes a number of faulty nodes (crash:F, byzantine:F), not a weight")
    if isinstance(req, Availability):
        return _availability(fb, req, deadline)
    if isinstance(req, (Intersection, ByzantineIntersection)):
        a, b, f = _split_problem(fb, solver, isinstance(req, ByzantineIntersection))
        if f is not None:
            solver.add(enc.at_most(f, req.budget.count))
    else:
        raise UsageError(f"{req.name} is not defined for an FBAS; use crash:F or byzantine:F")
    answer, seconds, reason = enc.solve(solver, deadline)
    label = req.name if isinstance(req, Intersection) else f"{req.name} ({req.budget.describe()})"
    base = dict(requirement=label, system=fb.describe(), encoding=encoding, solver=settings, seconds=seconds)
    if answer == "unsat":
        return QuorumResult("holds", **base)
    if answer == "unknown":
        return QuorumResult("unknown", why=f"solver gave up: {reason}", **base)
    m = solver.model()
    w = _split_witness(fb, enc.chosen(m, a), enc.chosen(m, b), enc.chosen(m, f) if f else set())
    overlap = set(w.quorum_a) & set(w.quorum_b)
    why = (f"their overlap {show(overlap)} is all faulty" if overlap
           else f"two quorums of {len(w.quorum_a)} and {len(w.quorum_b)} nodes share no node")
    return QuorumResult("violated", witness=w, why=why, **base)


def _availability(fb: Fbas, req, time_limit) -> QuorumResult:
    found, queries, settings, answer = _hitting(fb, req.budget.count, time_limit)
    base = dict(requirement=f"{req.name} ({req.budget.describe()})", system=fb.describe(),
                encoding=BLOCK_ENCODING, solver=settings, seconds=sum(q[2] for q in queries))
    if answer == "unknown":
        return QuorumResult("unknown", why="solver gave up", **base)
    if found is None:
        return QuorumResult("holds", **base)
    w = Witness(faulty=_shrink_blocking(fb, set(found)))
    return QuorumResult("violated", witness=w, why=f"with {show(w.faulty)} failed, the other nodes "
                                                   "hold no quorum", **base)


def _shrink_blocking(fb: Fbas, f: set) -> tuple:
    if not fb.is_blocking(f):
        raise ConsensuslabError("internal error: the Z3 blocking set does not re-check")
    for v in sorted(f, key=node_key, reverse=True):
        if fb.is_blocking(f - {v}):
            f = f - {v}
    return ordered(f)


def smallest_splitting_set(fb: Fbas, time_limit: float | None = None) -> MinimalSet:
    vs = {}

    def encode(solver):
        vs["a"], vs["b"], vs["f"] = _split_problem(fb, solver, True)
        return vs["f"]

    def extract(m):
        w = _split_witness(fb, enc.chosen(m, vs["a"]), enc.chosen(m, vs["b"]), enc.chosen(m, vs["f"]))
        return set(w.faulty), w.quorum_a, w.quorum_b

    return descend("splitting", fb, encode, extract, time_limit, ENCODING)


def smallest_blocking_set(fb: Fbas, time_limit: float | None = None) -> MinimalSet:
    started = time.perf_counter()
    found, queries, settings, answer = _hitting(fb, None, enc.Deadline.of(time_limit))
    common = dict(system=fb.describe(), queries=tuple(queries), encoding=BLOCK_ENCODING,
                  solver=settings, seconds=time.perf_counter() - started)
    if found is None:
        return MinimalSet("blocking", "unknown" if answer == "unknown" else "none", **common)
    proved = bool(queries) and (len(found) == 0 or any(k == len(found) - 1 and a == "unsat"
                                                        for k, a, _ in queries))
    return MinimalSet("blocking", "found", nodes=_shrink_blocking(fb, set(found)),
                      lower_bound_proved=proved, **common)
