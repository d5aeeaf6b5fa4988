"""``--symmetry``: canonicalise states under the node permutations a protocol declares.

A protocol opts in with a class attribute naming the attributes that hold
interchangeable names, e.g. ``symmetry = ("RM",)`` (TLC's
``SYMMETRY Permutations(RM)``; several names mean the product group, as
``Permutations(Acceptor) \\cup Permutations(Value)``), and supplies either

- ``canonical(state)``: an exact representative of the state's orbit, usually
  by sorting per-node signatures (exact when a node's signature is a complete
  invariant of its role in the state, as in two-phase commit); or
- ``permute(state, mapping)``: the state with names renamed by ``mapping``;
  the framework then takes the least image under every permutation
  (``canon`` order, so the choice is the same in every process), which costs
  n! per state and is refused above ``MAX_PERMUTATIONS``.

Either way the seen-set holds one state per orbit, so distinct-state counts
equal TLC's with the same SYMMETRY.  Properties must be symmetric.  Traces are
rebuilt in the original names (``partition.rebuild``).  Liveness is refused:
a lasso in the quotient graph need not be one in the real graph, and TLC is
unsound there too.
"""

from __future__ import annotations

import itertools
import math
from typing import Any, Callable

from consensuslab.errors import ConsensuslabError, UsageError
from consensuslab.models.blame import call_hook
from consensuslab.models.values import canon as canon_key

MAX_PERMUTATIONS = 5040
#: the first answers of a ``canonical``/``permute`` hook are checked for shape (then trusted: a hot path)
CHECKED = 100


def declared(definition) -> tuple[str, ...]:
    names = getattr(definition, "symmetry", None) or ()
    return (names,) if isinstance(names, str) else tuple(names)


def mappings(definition) -> list[dict[str, Any]]:
    """Every renaming in the declared group (product of the per-attribute permutation groups)."""
    groups = []
    for attr in declared(definition):
        names = tuple(getattr(definition, attr))
        groups.append([dict(zip(names, perm)) for perm in itertools.permutations(names)])
    out = []
    for combo in itertools.product(*groups):
        merged: dict[str, Any] = {}
        for m in combo:
            merged.update(m)
        out.append(merged)
    return out


def group_size(definition) -> int:
    return math.prod(math.factorial(len(tuple(getattr(definition, a)))) for a in declared(definition))


def brute_force(definition) -> Callable:
    """The least image of the state under every declared permutation (exact, n! per state)."""
    maps = mappings(definition)
    permute = guarded(definition.name, "permute", definition.permute)

    def canonical(state):
        return min((permute(state, m) for m in maps), key=canon_key)

    return canonical


def canonicaliser(model) -> tuple[Callable, str]:
    """(canonical-representative function, description for the JSON ``reduction`` field).

    For safety only: ``checkers.run`` refuses symmetry with liveness properties.
    """
    definition = model.definition
    names = declared(definition)
    if not names:
        raise UsageError(f"{model.protocol} declares no symmetry (a class attribute `symmetry = (\"NODES\",)` "
                         f"and a canonical(state) or permute(state, mapping) method)")
    label = "symmetry(" + ", ".join(f"{n}:{len(tuple(getattr(definition, n)))}" for n in names) + ")"
    if callable(getattr(definition, "canonical", None)):
        return guarded(definition.name, "canonical", definition.canonical), label + " by signature sort"
    if not callable(getattr(definition, "permute", None)):
        raise UsageError(f"{model.protocol} declares symmetry but neither canonical(state) nor permute(state, mapping)")
    size = group_size(definition)
    if size > MAX_PERMUTATIONS:
        raise UsageError(f"{model.protocol}: symmetry group has {size} permutations (more than {MAX_PERMUTATIONS}) "
                         f"and the protocol gives no canonical(state); use fewer nodes")
    return brute_force(definition), label + f" by {size} permutations"



def guarded(protocol: str, hook: str, fn: Callable) -> Callable:
    """``fn`` (a ``canonical`` or ``permute`` hook) whose exceptions, and first answers of the wrong
    shape (not a state of the type it was given, or unhashable), are one ModelError line."""
    expected = "a state of the same type as the one it is given (hashable)"
    calls = [0]

    def same_kind(state):
        def check(out) -> bool:
            try:
                hash(out)
            except TypeError:
                return False
            return type(out) is type(state)
        return check

    def call(state, *rest):
        if calls[0] < CHECKED:
            calls[0] += 1
            return call_hook(protocol, hook, expected, fn, state, *rest, check=same_kind(state))
        try:
            return fn(state, *rest)
        except (ConsensuslabError, KeyboardInterrupt):
            raise
        except BaseException:  # noqa: BLE001 - named by the checked call
            return call_hook(protocol, hook, expected, fn, state, *rest)

    return call
