"""Quorum systems and the requirements protocols place on them, in plain Python.

Every system answers ``is_quorum(nodes)`` without a solver: the Z3 checker
(``consensuslab.checkers.quorum.queries``) re-checks each witness against it, and for small
systems ``quorums()`` enumerates every quorum so tests can cross-check the encoding.
Systems other than :class:`~consensuslab.checkers.quorum.fbas.Fbas` are monotone: a superset
of a quorum is a quorum. Node names sort naturally (``n2`` before ``n10``).
"""

from __future__ import annotations

import functools
import itertools
import re
from fractions import Fraction

import attrs

from consensuslab.errors import UsageError

Nodes = tuple[str, ...]


@functools.lru_cache(maxsize=65536)
def node_key(name: str):
    """Natural sort key, so that witnesses read n1, n2, ..., n10."""
    return tuple((0, int(p)) if p.isdigit() else (1, p) for p in re.split(r"(\d+)", name) if p)


def ordered(nodes) -> Nodes:
    return tuple(sorted(set(nodes), key=node_key))


#: the most nodes a system may have: the encodings are linear in it, the witnesses' checks quadratic
MAX_NODES = 100_000


def names(n: int, prefix: str = "n") -> Nodes:
    _need(n <= MAX_NODES, f"at most {MAX_NODES:,} nodes, not {n:,}")
    return tuple(f"{prefix}{i}" for i in range(1, n + 1))


def _need(ok: bool, message: str) -> None:
    if not ok:
        raise UsageError(message)


class QuorumSystem:
    """Shared behaviour: node universe, brute-force enumeration, the two sides."""

    nodes: Nodes
    monotone = True

    def is_quorum(self, members) -> bool:  # pragma: no cover - abstract
        raise NotImplementedError

    def sides(self) -> tuple["QuorumSystem", "QuorumSystem"]:
        """The two kinds of quorum that must intersect (both the same, except flexible Paxos)."""
        return self, self

    def interchangeable(self) -> tuple[Nodes, ...]:
        """Classes of nodes a permutation may exchange without changing the quorums."""
        return tuple((v,) for v in self.nodes)

    def quorums(self, limit: int = 20) -> tuple[frozenset, ...]:
        """Every quorum, by brute force (2^n subsets): only for small systems and tests."""
        _need(len(self.nodes) <= limit, f"brute force needs at most {limit} nodes, not {len(self.nodes)}")
        out = []
        for r in range(len(self.nodes) + 1):
            for combo in itertools.combinations(self.nodes, r):
                if self.is_quorum(combo):
                    out.append(frozenset(combo))
        return tuple(out)

    def weight(self, v: str) -> int:
        return 1

    def describe(self) -> str:  # pragma: no cover - overridden
        return type(self).__name__


@attrs.frozen
class Threshold(QuorumSystem):
    """Any ``q`` of ``n`` nodes."""

    n: int
    q: int
    nodes: Nodes = attrs.field(init=False)

    def __attrs_post_init__(self):
        _need(self.n >= 1, f"n must be at least 1, not {self.n}")
        _need(1 <= self.q <= self.n, f"quorum size must be between 1 and n={self.n}, not {self.q}")
        object.__setattr__(self, "nodes", names(self.n))

    def is_quorum(self, members) -> bool:
        return len(set(members) & set(self.nodes)) >= self.q

    def interchangeable(self):
        return (self.nodes,)

    def describe(self):
        return f"threshold {self.q} of {self.n}"


def majority(n: int) -> Threshold:
    """More than half of ``n``: Paxos's and Raft's quorums."""
    return Threshold(n, n // 2 + 1)


def byzantine(n: int, f: int) -> Threshold:
    """The smallest quorum with overlap > f, ceil((n+f+1)/2): 2f+1 of 3f+1."""
    return Threshold(n, -(-(n + f + 1) // 2))


@attrs.frozen
class Flexible(QuorumSystem):
    """Flexible Paxos: phase-1 quorums of ``q1`` and phase-2 quorums of ``q2`` nodes."""

    n: int
    q1: int
    q2: int
    nodes: Nodes = attrs.field(init=False)

    def __attrs_post_init__(self):
        for q in (self.q1, self.q2):
            Threshold(self.n, q)
        object.__setattr__(self, "nodes", names(self.n))

    def sides(self):
        return Threshold(self.n, self.q1), Threshold(self.n, self.q2)

    def is_quorum(self, members) -> bool:
        """A phase-1 or a phase-2 quorum."""
        return any(s.is_quorum(members) for s in self.sides())

    def interchangeable(self):
        return (self.nodes,)

    def describe(self):
        return f"flexible n={self.n} |Q1|={self.q1} |Q2|={self.q2}"


def _fraction(value) -> Fraction:
    try:
        return Fraction(str(value))
    except (ValueError, ZeroDivisionError):
        raise UsageError(f"expected a number, got {value!r}") from None


@attrs.frozen
class Weighted(QuorumSystem):
    """Stake-weighted: a quorum holds more than ``fraction`` of the total weight."""

    weights: tuple[tuple[str, Fraction], ...]
    fraction: Fraction = Fraction(2, 3)
    nodes: Nodes = attrs.field(init=False)

    def __attrs_post_init__(self):
        _need(len(self.weights) >= 1, "a weighted system needs at least one node")
        for v, w in self.weights:
            _need(w >= 0, f"weights must be >= 0, not {w} (node {v})")
        _need(sum(w for _, w in self.weights) > 0, "the total weight must be positive")
        _need(0 <= self.fraction < 1, f"the quorum fraction must be in [0, 1), not {self.fraction}")
        object.__setattr__(self, "nodes", ordered(v for v, _ in self.weights))
        _need(len(self.nodes) == len(self.weights), "node names must be distinct")

    @classmethod
    def of(cls, weights, fraction=Fraction(2, 3)) -> "Weighted":
        ws = [_fraction(w) for w in weights]
        return cls(tuple(zip(names(len(ws)), ws)), _fraction(fraction))

    @property
    def total(self) -> Fraction:
        return sum((w for _, w in self.weights), Fraction(0))

    def weight(self, v: str) -> Fraction:
        return dict(self.weights)[v]

    def weight_of(self, members) -> Fraction:
        table = dict(self.weights)
        return sum((table[v] for v in set(members) if v in table), Fraction(0))

    def is_quorum(self, members) -> bool:
        return self.weight_of(members) > self.fraction * self.total

    def interchangeable(self):
        by_weight: dict[Fraction, list[str]] = {}
        for v, w in self.weights:
            by_weight.setdefault(w, []).append(v)
        return tuple(ordered(vs) for _, vs in sorted(by_weight.items()))

    def describe(self):
        return f"weighted, {len(self.nodes)} nodes, quorum > {self.fraction} of weight {self.total}"


@attrs.frozen
class Hierarchical(QuorumSystem):
    """At least ``group_threshold`` groups, each with ``member_thresholds[g]`` of its members."""

    groups: tuple[Nodes, ...]
    group_threshold: int
    member_thresholds: tuple[int, ...]
    nodes: Nodes = attrs.field(init=False)

    def __attrs_post_init__(self):
        _need(len(self.groups) >= 1, "a hierarchical system needs at least one group")
        _need(len(self.member_thresholds) == len(self.groups), "one member threshold per group")
        _need(1 <= self.group_threshold <= len(self.groups),
              f"group threshold must be between 1 and {len(self.groups)}, not {self.group_threshold}")
        for g, t in zip(self.groups, self.member_thresholds):
            _need(1 <= t <= len(g), f"member threshold must be between 1 and {len(g)}, not {t}")
        flat = [v for g in self.groups for v in g]
        _need(len(flat) == len(set(flat)), "groups must not share nodes")
        object.__setattr__(self, "nodes", ordered(flat))

    @classmethod
    def majorities(cls, sizes) -> "Hierarchical":
        """A majority of groups, each by a majority of its members; nodes g1n1, g1n2, ..."""
        groups = tuple(names(k, f"g{i}n") for i, k in enumerate(sizes, 1))
        return cls(groups, len(groups) // 2 + 1, tuple(len(g) // 2 + 1 for g in groups))

    def is_quorum(self, members) -> bool:
        s = set(members)
        won = sum(len(s & set(g)) >= t for g, t in zip(self.groups, self.member_thresholds))
        return won >= self.group_threshold

    def interchangeable(self):
        return tuple(ordered(g) for g in self.groups)

    def describe(self):
        parts = ", ".join(f"{t}/{len(g)}" for g, t in zip(self.groups, self.member_thresholds))
        return f"hierarchical {self.group_threshold} of {len(self.groups)} groups ({parts})"


@attrs.frozen
class Explicit(QuorumSystem):
    """Listed quorums; any superset of a listed quorum is one too."""

    listed: tuple[Nodes, ...]
    nodes: Nodes = attrs.field(init=False)

    def __attrs_post_init__(self):
        _need(len(self.listed) >= 1 and all(self.listed), "list at least one non-empty quorum")
        object.__setattr__(self, "listed", tuple(sorted({ordered(q) for q in self.listed},
                                                        key=lambda q: [node_key(v) for v in q])))
        object.__setattr__(self, "nodes", ordered(v for q in self.listed for v in q))

    @classmethod
    def parse(cls, text: str) -> "Explicit":
        """``"a,b;b,c"``: quorums separated by ``;``, members by ``,``."""
        qs = tuple(tuple(v.strip() for v in q.split(",") if v.strip()) for q in text.split(";"))
        _need(all(qs) and qs, f"expected quorums like 'a,b;b,c', got {text!r}")
        return cls(qs)

    def is_quorum(self, members) -> bool:
        s = set(members)
        return any(s.issuperset(q) for q in self.listed)

    def describe(self):
        return f"explicit, {len(self.listed)} quorums over {len(self.nodes)} nodes"


# -- requirements -------------------------------------------------------------------

@attrs.frozen
class Budget:
    """How much may fail: at most ``count`` nodes, or at most ``weight`` (a fraction of the total)."""

    count: int = 0
    weight: Fraction | None = None

    def allows(self, system: QuorumSystem, faulty) -> bool:
        if self.weight is not None:
            return system.weight_of(faulty) <= self.weight * system.total
        return len(set(faulty)) <= self.count

    def describe(self) -> str:
        return f"faulty weight <= {self.weight}" if self.weight is not None else f"f={self.count}"


@attrs.frozen
class Intersection:
    """Any two quorums share a node (crash faults: agreement in Paxos and Raft)."""

    budget: Budget = Budget()
    name = "intersection"

    def violated_by(self, system, a, b, faulty) -> bool:
        sa, sb = system.sides()
        return sa.is_quorum(a) and sb.is_quorum(b) and not set(a) & set(b) and not faulty


@attrs.frozen
class ByzantineIntersection:
    """Any two quorums share a correct node whatever ``budget`` nodes are faulty (overlap > f)."""

    budget: Budget = Budget()
    name = "byzantine-intersection"

    def violated_by(self, system, a, b, faulty) -> bool:
        sa, sb = system.sides()
        return (sa.is_quorum(a) and sb.is_quorum(b) and set(a) & set(b) <= set(faulty)
                and self.budget.allows(system, faulty))


@attrs.frozen
class Masking:
    """Masking quorums: the correct part of any overlap outnumbers the faulty (overlap > 2f)."""

    budget: Budget = Budget()
    name = "masking"

    def violated_by(self, system, a, b, faulty) -> bool:
        sa, sb = system.sides()
        overlap = set(a) & set(b)
        return (sa.is_quorum(a) and sb.is_quorum(b) and set(faulty) <= overlap
                and self.budget.allows(system, faulty) and len(overlap - set(faulty)) <= len(faulty))


@attrs.frozen
class Availability:
    """Whatever ``budget`` nodes fail, the others still hold a quorum (of each kind)."""

    budget: Budget = Budget()
    name = "availability"

    def violated_by(self, system, a, b, faulty) -> bool:
        live = set(system.nodes) - set(faulty)
        return self.budget.allows(system, faulty) and not all(s.is_quorum(live) for s in system.sides())


def requirements_for(kind: str, amount) -> tuple:
    """The requirements a fault model implies: ``crash``, ``byzantine``, ``masking`` (count)
    or ``crash-weight`` / ``byzantine-weight`` (fraction of the total weight)."""
    if kind.endswith("-weight"):
        budget = Budget(weight=_fraction(amount))
        _need(0 <= budget.weight < 1, f"a faulty weight must be in [0, 1), not {amount}")
        kind = kind[: -len("-weight")]
    else:
        _need(str(amount).isdigit(), f"a number of faulty nodes must be a whole number >= 0, not {amount!r}")
        budget = Budget(count=int(amount))
    safety = {"crash": Intersection, "byzantine": ByzantineIntersection, "masking": Masking}.get(kind)
    _need(safety is not None, f"unknown fault kind {kind!r}; valid: crash, byzantine, masking, "
                              "crash-weight, byzantine-weight")
    return (safety(Budget() if safety is Intersection else budget), Availability(budget))
