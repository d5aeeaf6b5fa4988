"""The learnt renaming of a whole state (``structural``), and why it was retired if it was (``--symmetry``)."""

from __future__ import annotations

from consensuslab.checkers.reduction.renamings import Group
from consensuslab.checkers.reduction.structural import UNKNOWN, Place, Remembered


class Shape:
    """The whole state's place, and whether the rules still explain every image ``permute`` made."""

    def __init__(self, sets: list[tuple]):
        self.group = Group(sets)
        self.root = Place(self.group)
        self.alive = True
        self.why: str | None = None  # why it was retired, for the user who wrote ``permute``

    def vector(self, state):
        """Every image's fingerprint (numpy uint64, by renaming number), or None where the rules disagree.
        (Not remembered per state: the caller remembers each state's representative.)"""
        if not self.alive:
            return None
        node = self.root.node(state)
        return node.compute(state) if isinstance(node, Remembered) else node.vector(state)

    def image(self, state, k: int):
        if not self.alive:
            return UNKNOWN
        node = self.root.node(state)
        return node.make_image(state, k) if isinstance(node, Remembered) else node.image(state, k)

    def observe(self, state, image, k: int) -> None:
        if self.alive and not self.root.observe(state, image, k):
            node = self.root.node(state)
            where = getattr(node, "failed", None)
            self.retire("permute renames " + (f"field {where}" if where else "the state") + " in a way the "
                        "learnt rules do not describe (names renamed part by part, entries of a tuple indexed "
                        "by nodes moved to their node's new index)")

    def retire(self, why: str) -> None:
        self.alive, self.why = False, why
