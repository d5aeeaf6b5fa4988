"""Federated quorum-slice systems (FBAS, as in the Stellar Consensus Protocol).

Each node names its slices through a nested quorum set: ``threshold`` of the entries
(``validators`` and ``innerQuorumSets``) must be present. A *quorum* is a non-empty set
of nodes that contains at least one node with a known quorum set and in which every
member with a known quorum set has a satisfied slice. A node whose quorum set is
missing or empty is *possibly faulty*: it may claim any slice, so it joins a quorum
freely, and it is never counted on to make a quorum available (the conventions of
python-fbas, whose published results on the Stellar snapshot we reproduce).

Definitions used by ``split``/``block`` (``consensuslab.checkers.quorum.fbas_queries``):

* ``F`` is *splitting* when, with the members of ``F`` Byzantine (free to claim any
  slice), there are two quorums ``A`` and ``B``, each with a correct node with a known
  quorum set, such that every node in both is in ``F``: the correct nodes are split.
* ``F`` is *blocking* when the nodes outside ``F`` and outside the possibly-faulty
  nodes contain no quorum: crash ``F`` and no correct quorum is left.
"""

from __future__ import annotations

import attrs

from consensuslab.checkers.quorum.systems import Nodes, QuorumSystem, node_key, ordered
from consensuslab.errors import UsageError
from consensuslab.files import read_json


@attrs.frozen(order=True)
class QuorumSet:
    """``threshold`` of ``validators`` plus ``inner`` sets; ``entries`` is their count."""

    threshold: int
    validators: Nodes = ()
    inner: tuple["QuorumSet", ...] = ()

    @property
    def entries(self) -> int:
        return len(self.validators) + len(self.inner)

    def satisfied_by(self, members) -> bool:
        hits = sum(v in members for v in self.validators)
        hits += sum(q.satisfied_by(members) for q in self.inner)
        return hits >= self.threshold

    def mentions(self) -> set[str]:
        out = set(self.validators)
        for q in self.inner:
            out |= q.mentions()
        return out


@attrs.frozen
class Fbas(QuorumSystem):
    """Nodes and their quorum sets (``None``: missing, so possibly faulty)."""

    qsets: tuple[tuple[str, QuorumSet | None], ...]
    nodes: Nodes = attrs.field(init=False)
    _pruner: object = attrs.field(init=False, default=None, eq=False, repr=False, hash=False)
    monotone = False

    def __attrs_post_init__(self):
        table = dict(self.qsets)
        for q in [q for q in table.values() if q is not None]:
            for v in q.mentions():
                table.setdefault(v, None)    # mentioned but not described: possibly faulty
        object.__setattr__(self, "qsets", tuple(sorted(table.items(), key=lambda p: node_key(p[0]))))
        object.__setattr__(self, "nodes", ordered(v for v, _ in self.qsets))

    @property
    def table(self) -> dict[str, QuorumSet | None]:
        return dict(self.qsets)

    def known(self) -> Nodes:
        """Nodes with a quorum set: the only ones whose slices constrain a quorum."""
        return ordered(v for v, q in self.qsets if q is not None)

    def relevant(self) -> Nodes:
        """Known nodes and the nodes they mention; the rest can never matter to a quorum."""
        out = set(self.known())
        for _, q in self.qsets:
            if q is not None:
                out |= q.mentions()
        return ordered(out)

    def is_quorum(self, members, faulty=()) -> bool:
        """Members in ``faulty`` (Byzantine) are free, like nodes without a quorum set."""
        s, bad, table = set(members), set(faulty), self.table
        if not s <= set(self.nodes) or not any(table[v] is not None and v not in bad for v in s):
            return False
        return all(table[v] is None or v in bad or table[v].satisfied_by(s) for v in s)

    def greatest_quorum_in(self, members, faulty=()) -> frozenset:
        """The union of all quorums inside ``members`` (empty if none): prune unsatisfied nodes."""
        if self._pruner is None:
            object.__setattr__(self, "_pruner", _Pruner(self))
        return self._pruner.greatest(members, faulty)

    def is_blocking(self, faulty) -> bool:
        live = set(self.known()) - set(faulty)
        return not self.greatest_quorum_in(live)

    def describe(self):
        return f"fbas, {len(self.nodes)} nodes ({len(self.known())} with a quorum set)"


class _Pruner:
    """Quorum sets compiled to counters, so that pruning costs one pass over the sets:
    the blocking search calls it thousands of times (pure-Python re-evaluation took 0.1 s)."""

    def __init__(self, fb: Fbas):
        self.names = fb.nodes
        self.index = {v: i for i, v in enumerate(fb.nodes)}
        self.threshold, self.parent, self.owner, self.size = [], [], [], []
        self.listed_in = [[] for _ in fb.nodes]
        self.root = [-1] * len(fb.nodes)
        for v, q in fb.qsets:
            if q is not None:
                self.root[self.index[v]] = self._add(q, -1, self.index[v])

    def _add(self, q: QuorumSet, parent: int, owner: int) -> int:
        g = len(self.threshold)
        self.threshold.append(q.threshold)
        self.parent.append(parent)
        self.owner.append(owner)
        for v in q.validators:
            self.listed_in[self.index[v]].append(g)
        for inner in q.inner:
            self._add(inner, g, owner)
        return g

    def greatest(self, members, faulty) -> frozenset:
        alive = [False] * len(self.names)
        for v in members:
            if v in self.index:
                alive[self.index[v]] = True
        free = [False] * len(self.names)
        for v in faulty:
            if v in self.index:
                free[self.index[v]] = True
        count = [0] * len(self.threshold)
        for i, on in enumerate(alive):
            if on:
                for g in self.listed_in[i]:
                    count[g] += 1
        sat = [False] * len(self.threshold)
        for g in range(len(self.threshold) - 1, -1, -1):       # children were added after parents
            sat[g] = count[g] >= self.threshold[g]
            if sat[g] and self.parent[g] >= 0:
                count[self.parent[g]] += 1
        queue = [i for i, on in enumerate(alive) if on and self.root[i] >= 0 and not free[i]
                 and not sat[self.root[i]]]
        while queue:
            i = queue.pop()
            if not alive[i]:
                continue
            alive[i] = False
            stack = list(self.listed_in[i])
            while stack:
                g = stack.pop()
                count[g] -= 1
                if sat[g] and count[g] < self.threshold[g]:
                    sat[g] = False
                    if self.parent[g] >= 0:
                        stack.append(self.parent[g])
                    elif alive[self.owner[g]] and not free[self.owner[g]]:
                        queue.append(self.owner[g])
        if not any(alive[i] and self.root[i] >= 0 and not free[i] for i in range(len(alive))):
            return frozenset()
        return frozenset(self.names[i] for i, on in enumerate(alive) if on)


# -- the Stellar crawler's JSON ------------------------------------------------------

def _bad(where: str, what: str):
    raise UsageError(f"malformed network file: {where}: {what}")


def _qset(raw, owner: str, depth: int = 0) -> QuorumSet | None:
    if depth == 0 and (raw is None or raw == {}):
        return None  # a node whose quorum set is unknown: possibly faulty
    if not isinstance(raw, dict):
        _bad(owner, "a quorum set must be an object of threshold, validators, innerQuorumSets"
             + (" (an inner quorum set may not be null or empty)" if depth else ""))
    if depth > 8:
        _bad(owner, "quorum sets nest deeper than 8 levels")
    t, vs, inner = raw.get("threshold", 0), _listed(raw, "validators", owner), _listed(raw, "innerQuorumSets", owner)
    if not isinstance(t, int) or isinstance(t, bool) or t < 0:
        _bad(owner, f"threshold must be a whole number >= 0, not {t!r}")
    if not all(isinstance(v, str) and v for v in vs):
        _bad(owner, "validators must be a list of public keys")
    subs = tuple(q for q in (_qset(i, owner, depth + 1) for i in inner) if q is not None)
    if not vs and not subs:
        return None
    q = QuorumSet(t, tuple(vs), subs)
    if not 1 <= t <= q.entries:
        _bad(owner, f"threshold {t} must be between 1 and its {q.entries} entries")
    if len(set(vs)) != len(vs):
        _bad(owner, "a validator is listed twice in one quorum set")
    return q


def _listed(raw: dict, key: str, owner: str) -> list:
    """``raw[key]``: a list, or nothing (missing or null); anything else is refused, not read as empty."""
    value = raw.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        what = "a list of public keys" if key == "validators" else "a list of quorum sets"
        _bad(owner, f"{key} must be {what}, not {type(value).__name__}")
    return value


def from_stellar(data) -> Fbas:
    """Read the crawler's list of ``{publicKey, quorumSet}``; unknown referenced keys get no set."""
    if not isinstance(data, list) or not data:
        _bad("top level", "expected a non-empty JSON list of nodes")
    table: dict[str, QuorumSet | None] = {}
    for i, node in enumerate(data):
        key = node.get("publicKey") if isinstance(node, dict) else None
        if not isinstance(key, str) or not key:
            _bad(f"node {i}", "missing publicKey")
        if key in table:
            _bad(key, "publicKey appears twice")
        table[key] = _qset(node.get("quorumSet"), key)
    if all(q is None for q in table.values()):
        _bad("top level", "no node has a quorum set with slices: there is no quorum to check")
    return Fbas(tuple(table.items()))


def load_stellar(path: str) -> Fbas:
    """Read a network file (bounded in size and nesting: ``files.read_json``) and check its shape."""
    return from_stellar(read_json(path, "network file", max_depth=64))
