"""Liveness under fairness: ``eventually``, ``leads_to`` and ``always_eventually``.

The reachable graph is explored breadth-first into CSR arrays (see
``checkers.fairness``); each property is then a search for a *fair* set of
states where the goal never holds:

* ``eventually(G)``: from an initial state, a G-free path into a fair
  G-free SCC (a single state counts: behaviours may stop where no fair
  action is enabled, a dead end being the extreme case);
* ``leads_to(P, G)``: the same from any reachable P-and-not-G state;
* ``always_eventually(G)``: any reachable fair G-free SCC.

Fairness is TLA+'s ``WF_vars(A)``/``SF_vars(A)``: only a step that changes
the state is an ``<<A>>_vars`` step, so a stuttering step (an action whose
next state is the state itself, as PlusCal's ``active' = FALSE`` on an
inactive node) neither makes a fairness class enabled nor fulfils it.

A counterexample is a lasso: the shortest BFS prefix, then a cycle that is
fair on its own states.  ``Trace.loop`` is the index of the state where the
cycle starts; the closing step is recorded, so the last state equals
``states[loop]`` (a dead end is a cycle of no steps) and ``replay`` can
re-execute every step.  ``confirm_lasso`` re-checks all of it from the model
alone, so a tampered trace fails.
"""

from __future__ import annotations

import gc
import time
from array import array
from collections import deque

from consensuslab.checkers.liveness.fair_cycles import Graph, fair_components, fair_cycle
from consensuslab.checkers.search.collector import resume_collection
from consensuslab.checkers.search.ending import Budget
from consensuslab.checkers.search.limits import STOPS, interrupted_by
from consensuslab.errors import ModelError, ReplayError
from consensuslab.models.fairness import Classifier
from consensuslab.models.properties import ALWAYS_EVENTUALLY, EVENTUALLY, LEADS_TO
from consensuslab.traces.result import CheckResult, Trace, Violation, rebuild_trace


class Explored:
    """The reachable graph plus, per state, its depth, BFS parent, goal and trigger bits."""

    def __init__(self, model, props, max_states=None, max_depth=None, time_limit=None):
        self.model = model
        self.props = props
        self.classifier = Classifier(model)
        self.graph = Graph()
        self.graph.strong = self.classifier.strong  # shared: grows as classes are interned
        self.graph.members = self.classifier.members  # shared: grows as labels are interned
        self.index: dict = {}  # state -> its number: the states themselves, as the safety search keeps them
        self.parents = array("i")
        self.depth = array("i")
        self.via: list = []  # the action that first reached each state (interned, so one pointer each)
        self.roots: dict[int, object] = {}
        self.goal = [bytearray() for _ in props]
        self.trigger = [bytearray() for _ in props]
        self.deadlock: int | None = None  # shallowest dead end that is not ``done``
        self.generated = 0
        self.stopped_by: str | None = None
        collecting = gc.isenabled()
        gc.disable()  # acyclic states: see checkers.explicit
        try:
            self._run(max_states, max_depth, time_limit)
        except STOPS as exc:  # Ctrl-C, SIGTERM, the watchdog, or memory: the graph so far is the result
            self.stopped_by = interrupted_by(exc)
        finally:
            if collecting:
                resume_collection()  # without walking every state the search made (``collector.py``)

    def _record(self, state, parent: int, act, depth: int, index: dict) -> int:
        v = len(self.via)
        index[state] = v
        self.parents.append(parent)
        self.depth.append(depth)
        self.via.append(act)
        view = self.model.view(state)
        for k, p in enumerate(self.props):
            try:
                self.goal[k].append(1 if p.fn(view) else 0)
                self.trigger[k].append(1 if p.trigger is None or p.trigger(view) else 0)
            except Exception as exc:
                raise ModelError(f"{self.model.protocol}: property {p.name} raised "
                                 f"{type(exc).__name__}: {exc}") from exc
        return v

    def _run(self, max_states, max_depth, time_limit) -> None:
        model, g, classify = self.model, self.graph, self.classifier.classes
        budget = Budget(time_limit)
        index = self.index
        queue = deque()
        for s0 in model.initial_states():
            if s0 not in index:
                v = self._record(s0, -1, None, 0, index)
                self.roots[v] = s0
                queue.append(s0)
        offsets, dst, cls = g.offsets, g.dst, g.cls
        while queue:
            v = g.expanded
            if max_depth is not None and self.depth[v] >= max_depth:
                self.stopped_by = "max-depth"
                return
            if v % 1024 == 0:
                self.stopped_by = budget.spent(len(self.via), self.depth[v], len(queue))
                if self.stopped_by:
                    return
            state = queue.popleft()
            out = model.successors(state)
            self.generated += len(out)
            if not out and self.deadlock is None and not model.is_done(state):
                self.deadlock = v
            d = self.depth[v] + 1
            targets = []
            for act, nxt in out:
                w = index.get(nxt)
                if w is None:
                    if max_states is not None and len(self.via) >= max_states:
                        self.stopped_by = "max-states"
                        return
                    w = self._record(nxt, v, act, d, index)
                    queue.append(nxt)
                targets.append(w)
            dst.extend(targets)
            labels = classify(state, [a for a, _ in out])
            for k, w in enumerate(targets):
                if w == v:  # a stuttering step is no <<A>>_vars step: it neither owes nor pays fairness
                    labels[k] = -1
            cls.extend(labels)
            offsets.append(len(dst))

    # -- traces ------------------------------------------------------------------
    def path_to(self, v: int) -> Trace:
        return rebuild_trace(self.model, self.roots, self.parents, self.via, v)

    def follow(self, trace: Trace, edges: list[int]) -> None:
        """Append the steps of ``edges`` (edge ``e`` is the k-th successor of its source)."""
        from bisect import bisect_right

        offsets, dst = self.graph.offsets, self.graph.dst
        state = trace.states[-1]
        for e in edges:
            u = bisect_right(offsets, e) - 1
            act, nxt = self.model.successors(state)[e - offsets[u]]
            if self.index.get(nxt) != dst[e]:
                raise ModelError(f"{self.model.protocol}: successors are not deterministic "
                                 f"(edge {e} of state {u} leads elsewhere on re-execution)")
            trace.steps.append((act, nxt))
            state = nxt


def find_lasso(ex: Explored, k: int) -> Trace | None:
    """A fair lasso on which property ``k``'s goal never holds (after its trigger), or None."""
    prop, goal, trig = ex.props[k], ex.goal[k], ex.trigger[k]
    n_exp = ex.graph.expanded
    alive = bytearray(len(ex.via))
    for v in range(n_exp):
        if not goal[v]:
            alive[v] = 1
    comps = fair_components(ex.graph, alive)
    if not comps:
        return None
    comp_of = {}
    for c, comp in enumerate(comps):
        for v in comp:
            comp_of[v] = c
    if prop.kind == ALWAYS_EVENTUALLY:
        entry = min(comp_of)
        trace, source_edges = ex.path_to(entry), []
    else:
        sources = ex.roots if prop.kind == EVENTUALLY else (v for v in range(n_exp) if trig[v])
        found = _multi_source(ex.graph, [v for v in sources if alive[v]], alive, comp_of)
        if found is None:
            return None
        start, source_edges = found
        trace = ex.path_to(start)
        entry = ex.graph.dst[source_edges[-1]] if source_edges else start
    ex.follow(trace, source_edges)
    trace.loop = len(trace)
    ex.follow(trace, fair_cycle(ex.graph, comps[comp_of[entry]], entry))
    return trace


def _multi_source(g: Graph, sources: list[int], alive: bytearray, targets: dict):
    """(source, edges) of a shortest alive path from some source into ``targets``; sources in BFS order."""
    parent_edge: dict[int, int] = {}
    origin: dict[int, int] = {}
    queue = deque()
    for s in sources:
        if s in targets:
            return s, []
        origin[s] = s
        parent_edge[s] = -1
        queue.append(s)
    offsets, dst = g.offsets, g.dst
    while queue:
        v = queue.popleft()
        for e in range(offsets[v], offsets[v + 1]):
            w = dst[e]
            if w in origin or not alive[w]:
                continue
            origin[w], parent_edge[w] = origin[v], e
            if w in targets:
                edges = []
                while parent_edge[w] >= 0:
                    edges.append(parent_edge[w])
                    w = _src(g, parent_edge[w])
                return origin[v], edges[::-1]
            queue.append(w)
    return None


def _src(g: Graph, e: int) -> int:
    from bisect import bisect_right

    return bisect_right(g.offsets, e) - 1


def check_liveness(model, max_states=None, max_depth=None, time_limit=None, symmetry=None,
                   props: list | None = None) -> CheckResult:
    """Explore ``model`` and check each of its liveness properties (or ``props``) under its declared fairness."""
    from consensuslab.errors import UsageError

    if symmetry:
        raise UsageError("symmetry reduction is unsound for liveness (a lasso in the quotient need not "
                         "be one in the model); run liveness without it")
    started = time.monotonic()
    props = list(model.liveness if props is None else props)
    ex = Explored(model, props, max_states, max_depth, time_limit)
    n = len(ex.via)
    verdicts, warnings, violation = {}, [], None
    for k, prop in enumerate(props):
        if n and all(ex.goal[k]):
            warnings.append(f"{prop.name}: the goal holds in every reachable state (vacuous)")
        if prop.kind == LEADS_TO and not any(ex.trigger[k]):
            warnings.append(f"{prop.name}: its trigger holds in no reachable state (vacuous)")
        trace = find_lasso(ex, k)
        if trace is not None:
            verdicts[prop.name] = "violated"
            if violation is None:
                stop = "stops in" if trace.loop == len(trace) else "loops through"
                violation = Violation(prop.name, "liveness", trace,
                                      message=f"a fair behaviour {stop} states where the goal never holds")
        else:
            verdicts[prop.name] = "unknown" if ex.stopped_by else "holds"
    if violation is not None:
        status = "violation"
    elif ex.stopped_by is not None:
        status = "incomplete"
    elif ex.deadlock is not None and model.check_deadlock:
        status = "deadlock"
        violation = Violation("deadlock", "deadlock", ex.path_to(ex.deadlock), message="no action is enabled")
    else:
        status = "ok"
    result = CheckResult(status=status, model_meta=model.meta(), distinct_states=n,
                         states_generated=ex.generated, depth=max(ex.depth, default=0),
                         seconds=time.monotonic() - started, violation=violation, stopped_by=ex.stopped_by)
    result.properties = verdicts
    result.extra["warnings"] = warnings
    result.extra["incomplete"] = ex.stopped_by is not None
    result.extra["fairness_classes"] = len(ex.classifier.keys)
    result.extra["edges"] = len(ex.graph.dst)
    if violation is not None and violation.kind == "liveness":
        result.extra["lasso"] = {"prefix": violation.trace.loop,
                                 "cycle": len(violation.trace) - violation.trace.loop}
    return result


def confirm_lasso(model, trace: Trace, name: str) -> None:
    """Check from the model alone that ``trace`` is a fair lasso on which ``name``'s goal never holds.

    Raises ``ReplayError`` naming the step that breaks it.
    """
    prop = model.property_named(name)
    last, loop = len(trace), trace.loop
    if loop is None or not 0 <= loop <= last:
        raise ReplayError(f"step {last}: a liveness trace needs a loop index in 0..{last}", last)
    states = trace.states
    if states[-1] != states[loop]:
        raise ReplayError(f"step {last}: the last state is not the state at the loop start ({loop})", last)
    view = model.view
    goal = [bool(prop.fn(view(s))) for s in states]
    if prop.kind == ALWAYS_EVENTUALLY:
        bad = next((i for i in range(loop, last + 1) if goal[i]), None)
    else:
        first = 0
        if prop.kind == LEADS_TO:
            first = next((i for i in range(last + 1) if prop.trigger(view(states[i])) and not goal[i]), None)
            if first is None:
                raise ReplayError(f"step {last}: the trigger of {name} never holds without the goal", last)
        bad = next((i for i in range(min(first, loop), last + 1) if goal[i]), None)  # the cycle repeats
    if bad is not None:
        raise ReplayError(f"step {bad}: the goal of {name} holds here", bad)
    classifier = Classifier(model)
    common, anywhere, taken = None, set(), set()
    for i in range(loop, last + 1):
        enabled = classifier.owed(states[i], [a for a, t in model.successors(states[i]) if t != states[i]])
        weak = {c for c in enabled if not classifier.strong[c]}
        common = weak if common is None else common & weak
        anywhere |= enabled - weak
        if i < last and trace.steps[i][1] != states[i]:
            taken |= classifier.owed(states[i], [trace.steps[i][0]])
    missing = sorted((common | anywhere) - taken)
    if missing:
        what = "stops" if loop == last else "cycles"
        raise ReplayError(f"step {loop}: the behaviour {what} here without taking an action it must take "
                          f"({classifier.describe(missing[0])}): not a fair behaviour", loop)
    from consensuslab.checkers.reduction.renaming import confirm_lifted, has_renaming

    if has_renaming(model):  # a cycle among renamed states: fair in real, growing values too
        confirm_lifted(model, trace)

