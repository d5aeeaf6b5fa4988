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

from consensuslab.errors import ConsensuslabError, ModelError, UsageError
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


#: images of canonicalised orbits remembered (each maps to its orbit's representative); cleared when full
IMAGES_KEPT = 1 << 21
#: a protocol's own ``canonical`` is checked against every permutation on this many first states ...
CHECKED_STATES = 300
#: ... or until this many calls of it were spent on the check
CHECK_CALLS = 30000


class LeastImage:
    """The least image of a state under every declared permutation (``canon`` order): exact, from ``permute`` alone.

    Why it is fast enough to be the default: every image of an orbit has the
    same least image, so once an orbit is canonicalised all its images are
    remembered, and a state of a known orbit (most generated states: a search
    revisits far more often than it finds) costs one dictionary probe, not n!
    calls of ``permute``.  Field values repeat across states, so their ``canon``
    keys are remembered too.  The dictionaries hold the states themselves
    (exact), and are emptied when full, which costs only time.
    """

    def __init__(self, definition):
        self.maps = mappings(definition)
        self.permute = guarded(definition.name, "permute", definition.permute)
        self.images: dict = {}
        self.field_keys: dict = {}

    def value_key(self, value) -> tuple:
        """``canon(value)``, remembered; a set's elements' keys are remembered one by one (images share them)."""
        keys = self.field_keys
        k = keys.get(value)
        if k is None:
            if len(keys) > IMAGES_KEPT:
                keys.clear()
            if type(value) is frozenset:
                k = (6, tuple(sorted(self.value_key(e) for e in value)))
            else:
                k = canon_key(value)
            keys[value] = k
        return k

    def least(self, images: list):
        """``min(images, key=canon)``, comparing field by field and only among the images still tied."""
        first = images[0]
        if not (isinstance(first, tuple) and hasattr(first, "_fields")):
            return min(images, key=canon_key)
        tied = images
        for i in range(len(first)):
            if len(tied) == 1:
                break
            keys = [self.value_key(image[i]) for image in tied]
            best = min(keys)
            tied = [image for image, k in zip(tied, keys) if k == best]
        return tied[0]  # equal in every field: the same state

    def orbit(self, state) -> list:
        return [self.permute(state, m) for m in self.maps]

    def __call__(self, state):
        found = self.images.get(state)
        if found is not None:
            return found
        images = self.orbit(state)
        least = self.least(images)
        if len(self.images) + len(images) > IMAGES_KEPT:
            self.images.clear()
        for image in images:
            self.images[image] = least
        return least


class CheckedCanonical:
    """A protocol's ``canonical``, checked on the first states against every permutation (``permute``).

    A representative function must give one state of the orbit, the same for
    every state of the orbit; a ``canonical`` that does not would merge states
    of different orbits or split one, and the count would be wrong, so the
    first failure is an error naming a state.
    """

    def __init__(self, definition, canonical):
        self.canonical = canonical
        self.orbits = LeastImage(definition)
        self.name = definition.name
        self.checked = 0
        self.calls = 0

    def __call__(self, state):
        rep = self.canonical(state)
        if self.checked < CHECKED_STATES and self.calls < CHECK_CALLS:
            self._check(state, rep)
        return rep

    def _check(self, state, rep) -> None:
        self.checked += 1
        images = self.orbits.orbit(state)
        self.calls += len(images)
        if rep not in images:
            raise ModelError(f"{self.name}: canonical(state) is not a permutation of the state "
                             f"(symmetry would merge different orbits); state: {state!r}")
        for image in images:
            if self.canonical(image) != rep:
                raise ModelError(f"{self.name}: canonical(state) differs between two permutations of one state, "
                                 f"so --symmetry would count one orbit more than once; state: {image!r}")


def brute_force(definition) -> Callable:
    """The least image of the state under every declared permutation (exact; see ``LeastImage``)."""
    return LeastImage(definition)


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
    own = getattr(definition, "canonical", None)
    can_permute = callable(getattr(definition, "permute", None))
    if callable(own):
        own = guarded(definition.name, "canonical", own)
    size = group_size(definition)
    if callable(own):
        if can_permute and size <= MAX_PERMUTATIONS:
            return CheckedCanonical(definition, own), label + " by signature sort (checked against permute)"
        return own, label + " by signature sort"
    if not can_permute:
        raise UsageError(f"{model.protocol} declares symmetry but neither canonical(state) nor permute(state, mapping)")
    if size > MAX_PERMUTATIONS:
        raise UsageError(f"{model.protocol}: symmetry group has {size} permutations (more than {MAX_PERMUTATIONS}) "
                         f"and the protocol gives no canonical(state); use fewer nodes")
    return LeastImage(definition), label + f" by the least of {size} permutations"


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
