"""Orbits counted by brute force, for the symmetry tests: every reachable state, under every renaming.

Nothing here uses the checker's canonicaliser: an orbit is the set of a state's
images under the protocol's own ``permute``, and names itself.
"""

from consensuslab.checkers.reduction.symmetry import mappings


def reachable(model, limit: int | None = None) -> list:
    """The reachable states in breadth-first order (the first ``limit`` levels' worth when given)."""
    seen = dict.fromkeys(model.initial_states())
    frontier = list(seen)
    while frontier and (limit is None or len(seen) < limit):
        frontier = [t for s in frontier for _, t in model.successors(s) if t not in seen and not seen.setdefault(t)]
    return list(seen) if limit is None else list(seen)[:limit]


def count_orbits(definition, states) -> int:
    """How many orbits ``states`` fall into under every renaming the definition declares."""
    maps = mappings(definition)
    return len({frozenset(definition.permute(s, m) for m in maps) for s in states})
