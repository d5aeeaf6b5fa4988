"""Units grouped by node: one memo probe per node and state instead of one per unit.

A group holds every unit of one node (its deliveries, timers, local steps,
losses, copies, crash, recovery, forgeries; the ``gst`` step is a group of its
own).  Its key is the union of its units' keys; its entry lists the units whose
answer is not empty, each with its rank in the successor order:
``(count, ((rank, moves, steps), ...))``.  The search takes the moves of every
group, looks each successor up in the seen-set, and sorts only the new ones by
(rank, position) before adding them, so the order is the model's without
sorting every state's successors.  A unit's own memo stays beneath: a group
miss is a few unit probes.
"""

from __future__ import annotations


class Memo(dict):
    """A dict that computes a missing entry with ``fill`` (so a hit is one C-level probe)."""

    __slots__ = ("fill",)

    def __init__(self, fill):
        super().__init__()
        self.fill = fill

    def __missing__(self, key):
        value = self[key] = self.fill(key)
        return value


def unit_entry(unit, k: int) -> tuple:
    """A unit's entry for key ``k``: ``(count, moves, steps)``; a move is ``(action, x, y, position)``, a step
    that changes the state (a stale message consumed leaves it as it is: counted and checked, never added)."""
    steps = unit.compute(k)
    return len(steps), tuple((a, x, y, j) for j, (a, x, y) in enumerate(steps) if x or y), steps


class Group:
    """The units of one node (or of none), with a memo on the union of their keys."""

    def __init__(self, units: list):
        self.units = units
        for unit in units:
            unit.group = self
        self.mask = 0
        self.refresh()

    def refresh(self) -> None:
        """A fresh memo over the units' current masks (their ranks or keys changed)."""
        self.mask = 0
        for unit in self.units:
            self.mask |= unit.mask
        self.memo = Memo(self.fill)
        self.steps_ok: dict = {}

    def fill(self, key: int) -> tuple:
        items, n = [], 0
        for unit in self.units:
            entry = unit.memo[key & unit.mask]
            if entry[0]:
                items.append((unit.rank, entry[1], entry[2]))
                n += entry[0]
        return n, tuple(items)


def build_groups(units: list) -> list[Group]:
    """Rank the units in successor order and group them by node."""
    by_node: dict = {}
    for rank, unit in enumerate(units):
        unit.rank = rank
        by_node.setdefault(unit.i, []).append(unit)
    return [Group(members) for _, members in sorted(by_node.items(), key=lambda kv: (kv[0] is None, kv[0] or 0))]
