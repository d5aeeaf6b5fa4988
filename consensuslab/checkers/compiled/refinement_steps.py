"""A refinement's step property (``@refines``) judged per state: the mapping once per packed state, each step a
look-up of two images.

Why: ``[][Abstract!Next]_vars`` under a mapping reads the whole of both states (EWD998's mapping reads every
node's bag), so as one memoised unit per action it missed on every state, and called directly per row it
mapped each successor again for every step that reaches it and listed each row's domain again (the compiled
search took longer than the interpreted one: EWD998.cfg, 255,000 states in 60 s against 321,370 in 41 s).
Here each packed state is mapped once, when it is first met as a step's target, and that image serves when
its own level is judged; the steps come from the memo's action groups, and the abstract successors of a
state's image are computed once for all its steps.

The answer is the property's own: ``image(after) == image(before)`` or ``image(after)`` is a successor of
``image(before)`` in the abstract spec, each image the mapping's result on the decoded state.  A state whose
mapping raises counts as failing, and the search then finds the step on the real state (``discovery.py``),
which reports what raised.
"""

from __future__ import annotations

import numpy as np

from consensuslab.checkers.compiled.filling import fill
from consensuslab.checkers.compiled.kernels import BLOCK, blocks, steps_by_parent
from consensuslab.checkers.compiled.packing import Overflow, Reshape, Unsupported
from consensuslab.checkers.compiled.words import to_ints


def refinement_of(prop):
    """``(mapping, abstract)`` of a refinement's step property, or None for any other transition property."""
    return getattr(prop.fn, "__consensuslab_refinement__", None)


class RefinementSteps:
    """The step properties of refinement mappings, judged over a level's states and the memo's steps."""

    def __init__(self, model, props: list, layout):
        self.model, self.layout = model, layout
        self.checks = [(p.name, *refinement_of(p)) for p in props]
        self.known: list[dict] = [{} for _ in self.checks]  # per check: packed state -> image, for this level
        self.found: list[dict] = [{} for _ in self.checks]  # ... and for the states the level's steps reach

    def __bool__(self) -> bool:
        return bool(self.checks)

    def names(self) -> list[str]:
        return [name for name, _, _ in self.checks]

    def failing(self, search, states: list[np.ndarray]) -> list[int]:
        """The packed states of a level (sorted runs) with a step that a check does not allow; the steps come
        from the memo's action groups (``kernels.steps_by_parent``), a step back to the state itself, a
        stutter, left out."""
        self.found = [{} for _ in self.checks]
        out = []
        for block in blocks(states, BLOCK):
            parent, after, _, _ = steps_by_parent(block, fill(search, search.groups, block))
            order = np.argsort(parent, kind="stable")  # each state's steps together, in the groups' order
            ends = np.searchsorted(parent[order], np.arange(1, len(block) + 1)).tolist()
            afters, start = to_ints(after[order]), 0
            for s, end in zip(to_ints(block), ends):
                steps, start = afters[start:end], end
                try:
                    if steps and not all(self._allowed(k, s, steps) for k in range(len(self.checks))):
                        out.append(s)
                except (Overflow, Reshape, Unsupported):
                    raise  # a new layout, or the interpreted search: not this state's verdict
                except Exception:
                    out.append(s)  # the real state says what raised (``discovery.py``)
        self.known = self.found  # the next level's states are among these steps' targets
        return out

    def _allowed(self, k: int, before: int, steps: list[int]) -> bool:
        a = self._image(k, before)
        nexts = None
        for after in steps:
            b = self._image(k, after)
            if b == a:
                continue
            if nexts is None:
                nexts = self.checks[k][2].next_states(a, plain=True)
            if b not in nexts:
                return False
        return True

    def _image(self, k: int, packed: int):
        image = self.known[k].get(packed)
        if image is None:
            found = self.found[k]
            image = found.get(packed)
            if image is None:
                image = found[packed] = self.checks[k][1](self.model.view(self.layout.decode(packed)))
        return image
