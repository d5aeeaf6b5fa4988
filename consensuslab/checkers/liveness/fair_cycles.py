"""Fair strongly connected components and fair cycles over a state graph in CSR form.

The graph is ``offsets``/``dst``/``cls`` arrays over state indices (edge ``e``
of state ``v`` is ``offsets[v] <= e < offsets[v+1]``, in successor order, with
fairness label ``cls[e]`` or -1), so a million states cost a few arrays of
ints, not a Python object per edge.  A label stands for the fairness classes
the edge's action owes (``members[label]``: one, or several where fairness
declarations overlap, as ``WF(A) /\\ WF(A \\/ B)`` do).

A behaviour that stays forever inside a set ``C`` of states is fair iff every
weakly-fair class enabled in *all* of ``C`` and every strongly-fair class
enabled *anywhere* in ``C`` is taken by an edge inside ``C``.  Every state
may stutter, so a single state is a cycle too (a dead end is the case where
nothing is enabled).  Weak fairness is decided per maximal SCC: a failing
SCC has no fair sub-SCC.  Strong fairness is Streett-style: drop the states
that enable an unfulfilled strong class and split what is left again.
"""

from __future__ import annotations

from array import array
from bisect import bisect_right
from collections import deque


class Graph:
    """Explored states ``0..n-1``; the first ``expanded`` of them have their edges recorded."""

    def __init__(self):
        self.offsets = array("q", [0])
        self.dst = array("i")
        self.cls = array("i")
        self.strong = bytearray()  # per class id: 1 when strongly fair
        self.members: list[tuple[int, ...]] = []  # per label: its class ids

    @property
    def expanded(self) -> int:
        return len(self.offsets) - 1

    def enabled(self, v: int) -> tuple[set, set]:
        """(weak classes, strong classes) enabled in ``v``."""
        weak, strong, flags, cls, members = set(), set(), self.strong, self.cls, self.members
        for e in range(self.offsets[v], self.offsets[v + 1]):
            label = cls[e]
            if label >= 0:
                for c in members[label]:
                    (strong if flags[c] else weak).add(c)
        return weak, strong

    def classes_of(self, e: int) -> tuple[int, ...]:
        """The fairness classes edge ``e`` pays."""
        label = self.cls[e]
        return self.members[label] if label >= 0 else ()


def tarjan(g: Graph, alive: bytearray, starts, index: array, low: array | None = None,
           on_stack: bytearray | None = None) -> list[list[int]]:
    """SCCs of the subgraph induced by ``alive``, from ``starts``; ``index`` is scratch (-1 = unvisited).

    Iterative, since protocol graphs are deeper than Python's recursion limit;
    per-state scratch lives in arrays (a dict/set would cost ~100 bytes a state).
    """
    offsets, dst = g.offsets, g.dst
    n = len(index)
    low = array("i", bytes(4 * n)) if low is None else low
    on_stack = bytearray(n) if on_stack is None else on_stack
    stack: list[int] = []
    comps: list[list[int]] = []
    counter = 0
    for s in starts:
        if not alive[s] or index[s] >= 0:
            continue
        index[s] = low[s] = counter
        counter += 1
        stack.append(s)
        on_stack[s] = 1
        work_v, work_e = [s], [offsets[s]]
        while work_v:
            v = work_v[-1]
            pos, end = work_e[-1], offsets[v + 1]
            descended = False
            while pos < end:
                w = dst[pos]
                pos += 1
                if not alive[w]:
                    continue
                if index[w] < 0:
                    work_e[-1] = pos
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on_stack[w] = 1
                    work_v.append(w)
                    work_e.append(offsets[w])
                    descended = True
                    break
                if on_stack[w] and index[w] < low[v]:
                    low[v] = index[w]
            if descended:
                continue
            work_v.pop()
            work_e.pop()
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on_stack[w] = 0
                    comp.append(w)
                    if w == v:
                        break
                comps.append(comp)
            if work_v and low[v] < low[work_v[-1]]:
                low[work_v[-1]] = low[v]
    return comps


def fair_components(g: Graph, alive: bytearray, starts=None) -> list[list[int]]:
    """The fair SCCs (after strong-fairness refinement) of the subgraph induced by ``alive``."""
    n = len(alive)
    index = array("i", [-1]) * n
    low, on_stack = array("i", bytes(4 * n)), bytearray(n)
    alive = bytearray(alive)  # refinement removes states; the caller's mask stays intact
    pending = tarjan(g, alive, range(n) if starts is None else starts, index, low, on_stack)
    inside = bytearray(n)
    fair: list[list[int]] = []
    while pending:
        comp = pending.pop()
        for v in comp:
            inside[v] = 1
        weak_missing, strong_missing = _missing(g, comp, inside)
        if not weak_missing and not strong_missing:
            fair.append(sorted(comp))
        elif not weak_missing:
            keep = []
            for v in comp:
                if g.enabled(v)[1] & strong_missing:
                    alive[v] = 0
                else:
                    keep.append(v)
            for v in keep:
                index[v] = -1
            for v in comp:
                inside[v] = 0
            pending.extend(tarjan(g, alive, keep, index, low, on_stack))
            continue
        for v in comp:
            inside[v] = 0
    fair.sort()
    return fair


def _missing(g: Graph, comp, inside: bytearray) -> tuple[set, set]:
    """Fair classes the component owes and never pays inside: (weak, strong)."""
    offsets, dst, cls, flags, members = g.offsets, g.dst, g.cls, g.strong, g.members
    common = None
    strong_any: set = set()
    taken: set = set()
    for v in comp:
        weak = set()
        for e in range(offsets[v], offsets[v + 1]):
            label = cls[e]
            if label < 0:
                continue
            for c in members[label]:
                if flags[c]:
                    strong_any.add(c)
                else:
                    weak.add(c)
                if inside[dst[e]]:
                    taken.add(c)
        common = weak if common is None else common & weak
    return (common or set()) - taken, strong_any - taken


def bfs_path(g: Graph, src: int, allowed: bytearray, goal) -> list[int] | None:
    """Edge indices of a shortest path from ``src`` to a state with ``goal(v)``, inside ``allowed``."""
    if goal(src):
        return []
    offsets, dst = g.offsets, g.dst
    via = {src: -1}
    queue = deque([src])
    while queue:
        v = queue.popleft()
        for e in range(offsets[v], offsets[v + 1]):
            w = dst[e]
            if w in via or not allowed[w]:
                continue
            via[w] = e
            if goal(w):
                path = []
                while w != src:
                    e = via[w]
                    path.append(e)
                    w = bisect_right(offsets, e) - 1  # the state edge e leaves
                return path[::-1]
            queue.append(w)
    return None


def fair_cycle(g: Graph, comp: list[int], entry: int) -> list[int]:
    """Edge indices of a cycle from ``entry`` inside fair ``comp`` that is itself fair.

    Visiting only part of ``comp`` can make a weak class continuously enabled
    on the visited states, so we grow the cycle until its own states pass:
    per missing class, a detour takes an edge of that class or (weak) passes a
    state where it is disabled.  Each class is fixed at most once.
    """
    inside = bytearray(max(comp) + 1)
    for v in comp:
        inside[v] = 1
    allowed = _Mask(inside)
    offsets, dst, classes_of = g.offsets, g.dst, g.classes_of
    enabled_cache: dict[int, tuple[set, set]] = {}

    def enabled(v):
        got = enabled_cache.get(v)
        if got is None:
            got = enabled_cache[v] = g.enabled(v)
        return got

    path: list[int] = []
    cur = entry
    nodes = [entry]
    taken: set = set()
    while True:
        close = bfs_path(g, cur, allowed, lambda v: v == entry)
        all_nodes = nodes + [dst[e] for e in close]
        all_taken = taken.union(*[classes_of(e) for e in close])
        common, anywhere = None, set()
        for v in all_nodes:
            weak, strong = enabled(v)
            common = set(weak) if common is None else common & weak
            anywhere |= strong
        missing = ((common or set()) | anywhere) - all_taken
        if not missing:
            return path + close
        f = min(missing)

        def has_edge(v, f=f):
            return any(f in classes_of(e) and allowed[dst[e]] for e in range(offsets[v], offsets[v + 1]))

        detour = bfs_path(g, cur, allowed, has_edge)
        if detour is not None:
            v = dst[detour[-1]] if detour else cur
            edge = next(e for e in range(offsets[v], offsets[v + 1]) if f in classes_of(e) and allowed[dst[e]])
            detour = detour + [edge]
        else:
            detour = bfs_path(g, cur, allowed, lambda v, f=f: f not in enabled(v)[0])
            if detour is None:  # cannot happen for a component fair_components accepted
                raise AssertionError(f"fairness class {f} cannot be met in the component")
        for e in detour:
            nodes.append(dst[e])
            taken.update(classes_of(e))
        path.extend(detour)
        if detour:
            cur = dst[detour[-1]]


class _Mask:
    """A membership mask that answers 0 beyond its length (states above the component's largest)."""

    __slots__ = ("bits",)

    def __init__(self, bits: bytearray):
        self.bits = bits

    def __getitem__(self, v: int) -> int:
        return self.bits[v] if v < len(self.bits) else 0
