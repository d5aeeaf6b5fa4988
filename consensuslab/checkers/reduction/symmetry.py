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
  (``orbit_order``: the same choice in every process), learning how
  ``permute`` renames each part of a state so that a state costs one pass
  rather than n! calls (``LeastImage``); refused above ``MAX_PERMUTATIONS``.

Either way the seen-set holds one state per orbit, so distinct-state counts
equal TLC's with the same SYMMETRY.  Properties must be symmetric.  Traces are
rebuilt in the original names (``partition.rebuild``).  Liveness is refused:
a lasso in the quotient graph need not be one in the real graph, and TLC is
unsound there too.
"""

from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np

from consensuslab.checkers.reduction.orbit_order import least
from consensuslab.checkers.reduction.renamings import numbered
from consensuslab.checkers.reduction.shape import Shape
from consensuslab.checkers.reduction.structural import UNKNOWN
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
    """Every renaming in the declared group (product of the per-attribute permutation groups), numbered."""
    sets = [tuple(getattr(definition, attr)) for attr in declared(definition)]
    out = []
    for combo in numbered(sets):
        merged: dict[str, Any] = {}
        for names, order in zip(sets, combo):
            merged.update(zip(names, order))
        out.append(merged)
    return out


def group_size(definition) -> int:
    return math.prod(math.factorial(len(tuple(getattr(definition, a)))) for a in declared(definition))


#: states canonicalised remembered (each maps to its orbit's representative); cleared when full
IMAGES_KEPT = 1 << 21
#: a protocol's own ``canonical`` is checked against every permutation on this many first states ...
CHECKED_STATES = 300
#: ... or until this many calls of it were spent on the check
CHECK_CALLS = 30000
#: representatives the learnt shape chose that are checked against every renaming ``permute`` makes; after
#: these, each new one is checked against ``permute`` at its own renaming, and every ``SPOT``-th at one other too
FULLY_CHECKED = 20
SPOT = 4
#: renamings of a state ``permute`` made that teach the shape (spread over the group)
TAUGHT = 16


class LeastImage:
    """The least image of a state under every declared permutation (``orbit_order``): exact, from ``permute`` alone.

    Why it is fast enough to be the default.  ``structural.Shape`` learns from
    ``permute``'s answers how each place of a state is renamed, and then gives
    the fingerprints of every image at once: a state costs one pass over it,
    and a new orbit one call of ``permute`` more, the check of the image
    chosen (``_confirmed``).  Where the shape cannot answer, ``permute`` makes
    every image and teaches the shape; all those images are remembered, so a
    state of that orbit then costs one dictionary probe.  The representative
    is the same either way: the least fingerprint, ties broken by ``canon``.
    """

    def __init__(self, definition):
        self.maps = mappings(definition)
        self.permute = guarded(definition.name, "permute", definition.permute)
        self.shape = Shape([tuple(getattr(definition, a)) for a in declared(definition)])  # numbered as maps
        self.fingerprint = self.shape.group.fingerprint
        self.images: dict = {}
        self.reps: dict = {}  # representatives the shape chose, each checked against permute once

    def orbit(self, state) -> list:
        return [self.permute(state, m) for m in self.maps]

    def __call__(self, state):
        found = self.images.get(state)
        if found is not None:
            return found
        rep = self._by_shape(state)
        if rep is None:
            return self._by_permute(state)
        if len(self.images) >= IMAGES_KEPT:
            self.images.clear()
        self.images[state] = rep
        return rep

    def _by_shape(self, state):
        """The representative from the shape's fingerprints, or None where it cannot tell (or was wrong)."""
        vec = self.shape.vector(state)
        if vec is None:
            return None
        ks = np.flatnonzero(vec == vec.min())
        tied: dict = {}
        for k in ks.tolist():
            image = self.shape.image(state, k)
            if image is UNKNOWN:
                return None
            tied.setdefault(image, k)
        rep = next(iter(tied)) if len(tied) == 1 else min(tied, key=canon_key)
        known = self.reps.get(rep)
        if known is not None:
            return known
        if not self._confirmed(state, rep, tied[rep]):
            return None
        if len(self.reps) >= IMAGES_KEPT:
            self.reps.clear()
        self.reps[rep] = rep
        return rep

    def _confirmed(self, state, rep, k: int) -> bool:
        """``permute`` makes the images the shape says it makes: every one on the first representatives, then
        the chosen one, and one other in turn.  A difference retires the shape (``permute`` answers alone)."""
        for j in self._to_check(k):
            expected = rep if j == k else self.shape.image(state, j)
            if expected is UNKNOWN or self.permute(state, self.maps[j]) != expected:
                self.shape.retire("permute made an image other than the one its first answers implied")
                return False
        return True

    def _to_check(self, k: int):
        """The renamings a new representative (made by renaming ``k``) is checked at."""
        n, size = len(self.reps), len(self.maps)
        if n < FULLY_CHECKED:
            return range(size)
        return (k, (n * 7919) % size) if n % SPOT == 0 else (k,)

    def warnings(self) -> list[str]:
        """What a user who wrote ``permute`` should know about the run: why it was slow, if it was."""
        if self.shape.why is None:
            return []
        return [f"--symmetry: {self.shape.why}, so permute made all {len(self.maps)} renamings of each new "
                f"state: exact, slower (docs/how-to/scale.md, Symmetry)"]

    def _by_permute(self, state):
        images = self.orbit(state)
        rep = least(images, self.fingerprint)
        if self.shape.alive:
            step = max(1, len(images) // TAUGHT)
            for k in range(0, len(images), step):
                self.shape.observe(state, images[k], k)
        if len(self.images) + len(images) > IMAGES_KEPT:
            self.images.clear()
        for image in images:
            self.images[image] = rep
        return rep


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
