"""Z3 queries on quorum systems: ``check``, ``split``, ``block`` (synthesis is ``synth.py``).

A violation is searched as three node sets: quorum ``A`` (of the first kind), quorum ``B``
(of the second kind) and a faulty set ``F`` within the budget, so one encoding serves every
system. Each satisfying model is shrunk and made canonical in plain Python, then re-checked
with the system's own ``is_quorum`` before it is returned.
"""

from __future__ import annotations

import z3

from consensuslab.checkers.quorum import encode as enc
from consensuslab.checkers.quorum.fbas import Fbas
from consensuslab.checkers.quorum.minimal import descend
from consensuslab.checkers.quorum.result import MinimalSet, QuorumResult, Report, Witness, show
from consensuslab.checkers.quorum.systems import (
    Availability,
    Budget,
    ByzantineIntersection,
    Intersection,
    Masking,
    QuorumSystem,
    Threshold,
    node_key,
    ordered,
)
from consensuslab.errors import ConsensuslabError, UsageError


def _canonical(system: QuorumSystem, a: set, b: set, f: set) -> tuple[set, set, set]:
    """Relabel interchangeable nodes so that equal problems give equal witnesses:
    overlap first, then A only, B only, faulty only (a symmetry of the system, so the
    witness stays one)."""
    rename = {}
    for cls in system.interchangeable():
        def code(v):
            return (v not in (a & b), v not in a, v not in b, v not in f, node_key(v))
        for new, old in zip(cls, sorted(cls, key=code)):
            rename[old] = new
    return ({rename.get(v, v) for v in a}, {rename.get(v, v) for v in b}, {rename.get(v, v) for v in f})


def _shrink(system: QuorumSystem, members: set, keep) -> set:
    """Drop nodes (last first) while ``keep(smaller)`` holds."""
    for v in sorted(members, key=node_key, reverse=True):
        if v in members and keep(members - {v}):
            members = members - {v}
    return members


def _why(req, system, a, b, f) -> str:
    overlap = set(a) & set(b)
    if isinstance(req, Availability):
        live = set(system.nodes) - set(f)
        return f"with {show(f)} failed, the remaining {len(live)} nodes hold no quorum"
    if isinstance(req, Intersection):
        return f"quorums {show(a)} and {show(b)} share no node"
    if isinstance(req, Masking):
        return (f"their overlap {show(overlap)} has {len(overlap)} nodes, not more than 2f: "
                f"the faulty {show(f)} can outvote the correct {show(overlap - set(f))}")
    if not overlap:
        return f"quorums {show(a)} and {show(b)} share no node"
    return f"their overlap {show(overlap)} is all faulty"


def _witness(system, req, a, b, f):
    """Shrink, make canonical and re-check a solver witness; ``None`` would be a bug."""
    sa, sb = system.sides()
    if isinstance(req, Availability):
        a = b = set()
        f = _shrink(system, f, lambda g: req.violated_by(system, (), (), g))
        if system.monotone:
            f = _canonical(system, set(), set(), f)[2]
    elif system.monotone:
        a = _shrink(system, a, lambda x: sa.is_quorum(x))
        b = _shrink(system, b, lambda x: sb.is_quorum(x))
        overlap = a & b
        f = set() if isinstance(req, Intersection) else overlap
        if isinstance(req, Masking):
            f = set(sorted(overlap, key=node_key)[: req.budget.count])
        a, b, f = _canonical(system, a, b, f)
    if not req.violated_by(system, ordered(a), ordered(b), ordered(f)):
        raise ConsensuslabError(f"internal error: the Z3 witness for {req.name} does not re-check")
    return Witness(ordered(a), ordered(b), ordered(f))


def _threshold_sides(system) -> bool:
    return all(isinstance(s, Threshold) for s in system.sides())


def _encode_nodes(solver, system, req):
    """One 0/1 integer per node and per set A, B, F."""
    nodes = system.nodes
    a, b, f = (enc.zero_one(solver, t, nodes) for t in "abf")
    sa, sb = system.sides()
    if isinstance(req, Availability):
        solver.add(enc.budget(system, req.budget, f))
        solver.add(z3.Or([z3.Not(enc.quorum(s, enc.complement(f))) for s in (sa, sb)]))
    else:
        solver.add(enc.quorum(sa, a), enc.quorum(sb, b))
        if isinstance(req, Intersection):
            solver.add([a[v] + b[v] <= 1 for v in nodes])
        else:
            solver.add([a[v] + b[v] - 1 <= f[v] for v in nodes])
            scale = 2 if isinstance(req, Masking) else 1
            solver.add(enc.budget(system, Budget(count=scale * req.budget.count, weight=req.budget.weight), f))
    return lambda m: (enc.chosen(m, a), enc.chosen(m, b), enc.chosen(m, f))


def _encode_counts(solver, system, req):
    """Symmetry reduction for threshold sides: the nodes are interchangeable, so only how many
    fall in each region of A x B x F matters; eight integer counts instead of 3n variables."""
    n = len(system.nodes)
    regions = [(x, y, z) for x in (1, 0) for y in (1, 0) for z in (1, 0)]
    c = {r: z3.Int("c%d%d%d" % r) for r in regions}
    solver.add([v >= 0 for v in c.values()] + [z3.Sum(list(c.values())) == n])

    def count(pick):
        return z3.Sum([c[r] for r in regions if pick(r)])
    sa, sb = system.sides()
    in_f = count(lambda r: r[2])
    if isinstance(req, Availability):
        solver.add(in_f <= req.budget.count, z3.Or([n - in_f < s.q for s in (sa, sb)]))
    else:
        solver.add(count(lambda r: r[0]) >= sa.q, count(lambda r: r[1]) >= sb.q)
        both = count(lambda r: r[0] and r[1])
        if isinstance(req, Intersection):
            solver.add(both == 0)
        else:
            solver.add(count(lambda r: r[0] and r[1] and not r[2]) == 0)
            solver.add(in_f <= (2 if isinstance(req, Masking) else 1) * req.budget.count)

    def extract(m):
        sets, names = (set(), set(), set()), iter(system.nodes)
        for r in regions:
            for _ in range(m.eval(c[r]).as_long()):
                v = next(names)
                for member, s in zip(r, sets):
                    if member:
                        s.add(v)
        return sets
    return extract


def check_requirement(system: QuorumSystem, req, time_limit: float | None = None,
                      encoding: str = "auto") -> QuorumResult:
    """Does ``system`` meet ``req``? ``holds``, ``violated`` with a witness, or ``unknown``.

    ``encoding``: ``counts`` (threshold sides only), ``nodes``, or ``auto`` (counts when possible).
    """
    if isinstance(system, Fbas):
        from consensuslab.checkers.quorum import fbas_queries as quorum_fbas
        return quorum_fbas.check_requirement(system, req, time_limit)
    if isinstance(req, Masking) and req.budget.weight is not None:
        raise UsageError("masking quorums take a number of faulty nodes, not a weight")
    if not isinstance(req, (Availability, Intersection, ByzantineIntersection, Masking)):
        raise UsageError(f"unknown requirement {req!r}")
    use_counts = encoding == "counts" or (encoding == "auto" and _threshold_sides(system)
                                          and req.budget.weight is None)
    if use_counts and not (_threshold_sides(system) and req.budget.weight is None):
        raise UsageError("the counts encoding needs threshold quorums and a number of faulty nodes")
    deadline = enc.Deadline.of(time_limit)
    solver, settings = enc.new_solver(deadline)
    extract = (_encode_counts if use_counts else _encode_nodes)(solver, system, req)
    answer, seconds, reason = enc.solve(solver, deadline)
    base = dict(requirement=_label(req), system=system.describe(),
                encoding="int-counts" if use_counts else enc.ENCODING, solver=settings, seconds=seconds)
    if answer == "unsat":
        return QuorumResult("holds", **base)
    if answer == "unknown":
        return QuorumResult("unknown", why=f"solver gave up: {reason}", **base)
    w = _witness(system, req, *extract(solver.model()))
    return QuorumResult("violated", witness=w, why=_why(req, system, w.quorum_a, w.quorum_b, w.faulty), **base)


def _label(req) -> str:
    return req.name if isinstance(req, Intersection) else f"{req.name} ({req.budget.describe()})"


def check(system: QuorumSystem, requirements, time_limit: float | None = None) -> Report:
    """Every requirement, within one time budget (``time_limit`` seconds for all of them)."""
    deadline = enc.Deadline.of(time_limit)
    return Report(tuple(check_requirement(system, r, deadline) for r in requirements))


def smallest_splitting_set(system: QuorumSystem, time_limit: float | None = None) -> MinimalSet:
    """Fewest nodes that, Byzantine, let two quorums share no correct node."""
    if isinstance(system, Fbas):
        from consensuslab.checkers.quorum import fbas_queries as quorum_fbas
        return quorum_fbas.smallest_splitting_set(system, time_limit)
    sa, sb = system.sides()
    req = ByzantineIntersection(Budget(count=len(system.nodes)))
    vs = {}

    def encode(solver):
        vs.update(a=enc.zero_one(solver, "a", system.nodes), b=enc.zero_one(solver, "b", system.nodes),
                  f=enc.zero_one(solver, "f", system.nodes))
        solver.add(enc.quorum(sa, vs["a"]), enc.quorum(sb, vs["b"]))
        solver.add([vs["a"][v] + vs["b"][v] - 1 <= vs["f"][v] for v in system.nodes])
        return vs["f"]

    def extract(m):
        w = _witness(system, req, enc.chosen(m, vs["a"]), enc.chosen(m, vs["b"]), enc.chosen(m, vs["f"]))
        return set(w.faulty), w.quorum_a, w.quorum_b

    return descend("splitting", system, encode, extract, time_limit)


def smallest_blocking_set(system: QuorumSystem, time_limit: float | None = None) -> MinimalSet:
    """Fewest nodes whose failure leaves no quorum (of some kind) among the others."""
    if isinstance(system, Fbas):
        from consensuslab.checkers.quorum import fbas_queries as quorum_fbas
        return quorum_fbas.smallest_blocking_set(system, time_limit)
    req = Availability(Budget(count=len(system.nodes)))
    vs = {}

    def encode(solver):
        vs["f"] = enc.zero_one(solver, "f", system.nodes)
        live = enc.complement(vs["f"])
        solver.add(z3.Or([z3.Not(enc.quorum(s, live)) for s in system.sides()]))
        return vs["f"]

    def extract(m):
        w = _witness(system, req, set(), set(), enc.chosen(m, vs["f"]))
        return set(w.faulty), (), ()

    return descend("blocking", system, encode, extract, time_limit)


__all__ = ["check", "check_requirement", "smallest_splitting_set", "smallest_blocking_set"]
