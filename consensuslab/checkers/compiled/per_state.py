"""The compiled search one state at a time: for packed states wider than 64 bits, and for spilling.

The same memo tables as the level-at-a-time search (``checkers/compiled/levels.py``),
probed per state: a successor is ``state & keep | bits`` checked against a
Python set.  Kept apart from ``compiled.py`` (a mixin of ``CompiledSearch``)
because it is one of its two searches, and the less used one.
"""

from __future__ import annotations

import time

from consensuslab.checkers.compiled.audit import AUDIT_EVERY, CROSS_CHECKED
from consensuslab.checkers.compiled.evidence import SAMPLED
from consensuslab.checkers.compiled.memo import WARMUP
from consensuslab.checkers.compiled.packing import Overflow, Reshape, Unsupported
from consensuslab.checkers.search.ending import CHECK_EVERY, Stop
from consensuslab.traces.result import Trace, Violation, rebuild_trace


class StateByState:
    """The per-state breadth-first loop of ``CompiledSearch`` (a mixin: it uses the engine's memo)."""

    def _bfs(self, packed_initial: list[int], initial: list) -> None:
        """Breadth-first over packed states: the hot loop of this search, in one function so that its
        names stay local (measured with cProfile on two-phase rm=6 with ``spill_after``: 41% of the run
        in its own lines, 80% with the memo look-ups it calls)."""
        seen, parents, via = self.seen, self.parents, self.via
        seen_add, parents_append, via_append = seen.add, parents.append, via.append
        level = []
        for s0, state in zip(packed_initial, initial):
            if s0 in seen:
                continue
            seen_add(s0)
            idx = len(via)
            parents_append(-1)
            via_append(None)
            self.roots[idx] = state
            self._check_new(s0, idx)
            level.append(s0)
        size = len(level)
        base = 0
        frontier = self.frontier
        check_deadlock = self.model.check_deadlock
        max_states = self.max_states if self.max_states is not None else -1
        max_depth = self.max_depth
        groups = [(g.mask, g.table, g) for g in self.groups]
        invs = [(g.mask, g.table, g) for g in self.inv_groups]
        witnesses = [(u.mask, u.table, u) for u in self.witness_units]
        grown = self.grown
        judged_at = time.perf_counter()
        count = 0
        generated = 0
        new = len(via)
        try:
            while size:
                if max_depth is not None and self.depth >= max_depth:
                    if any(self._enabled(s) for s in level):
                        self.stopped_by = "max-depth"
                    return
                nxt = []
                push = nxt.append
                idx = base - 1
                for s in level:
                    idx += 1
                    count += 1
                    if count % CHECK_EVERY == 0:
                        if self._limits(size - (idx - base) + frontier.spilled + len(nxt)):
                            return
                        if frontier.due(len(nxt)):
                            frontier.spill(nxt)
                    if count <= CROSS_CHECKED or count % AUDIT_EVERY == 0:
                        audited_from = time.perf_counter()
                        self.cross_check(s)
                        judged_at += time.perf_counter() - audited_from  # a fixed cost, not a rate
                    if count % WARMUP == 0:
                        self.count = count
                        self.sample_interpreted(nxt[-SAMPLED:])
                        self.judge_speed(WARMUP, time.perf_counter() - judged_at, self.grouped)
                        judged_at = time.perf_counter()
                        if not self.grouped:
                            self._regroup()
                            groups, invs = self._tables()
                    enabled = 0
                    for mask, table, group in groups:
                        entry = table.get(s & mask)
                        if entry is None:
                            entry = group.miss(s)
                            if grown[0]:  # a key widened: this state's successors are judged on the new keys
                                invs = [(g.mask, g.table, g) for g in self.inv_groups]
                        enabled += entry[0]
                        for label, keep, bits in entry[1]:
                            t = s & keep | bits
                            if t in seen:
                                continue
                            seen_add(t)
                            parents_append(idx)
                            via_append(label)
                            for pmask, ptable, pgroup in invs:
                                ok = ptable.get(t & pmask)
                                if ok is None:
                                    ok = self._property_miss(pgroup, t, new)
                                if not ok:
                                    self._invariant_failed(t, new)
                            if witnesses:
                                witnesses = self._witness(t, witnesses)
                            push(t)
                            new += 1
                            if new == max_states:
                                self.stopped_by = "max-states"
                                generated += self._enabled_count(s)  # as if s were expanded whole
                                return
                    generated += enabled
                    if not enabled and check_deadlock:
                        self._deadlock(s, idx)
                    if grown[0]:
                        groups, invs = self._tables()
                base += size
                level, size = frontier.level(nxt)
                if size:
                    self.depth += 1
        except Stop:
            generated += self._enabled_count(s)  # all of s's steps, as the interpreted search
            raise
        finally:
            self.generated += generated

    def _tables(self):
        self.grown[0] = False
        return ([(g.mask, g.table, g) for g in self.groups],
                [(g.mask, g.table, g) for g in self.inv_groups])

    def _enabled(self, s: int) -> bool:
        return any((g.table.get(s & g.mask) or g.miss(s))[0] for g in self.groups)

    def _enabled_count(self, s: int) -> int:
        return sum((g.table.get(s & g.mask) or g.miss(s))[0] for g in self.groups)

    # -- properties, deadlocks, traces ------------------------------------------------------
    def _check_new(self, s: int, idx: int) -> None:
        for g in self.inv_groups:
            ok = g.table.get(s & g.mask)
            if ok is None:
                ok = self._property_miss(g, s, idx)
            if not ok:
                self._invariant_failed(s, idx)
        self._witness(s, [(u.mask, u.table, u) for u in self.witness_units])

    def _invariant_failed(self, s: int, idx: int):
        broken = self.model.first_broken_invariant(self.layout.decode(s))
        if broken is None:
            raise Unsupported("an invariant's conjuncts disagree with the invariant")
        raise Stop(Violation(broken.name, "invariant", self.trace_to(idx)))

    def _witness(self, s: int, tables: list) -> list:
        found = []
        for mask, table, unit in tables:
            hit = table.get(s & mask)
            if hit is None:
                try:
                    hit = unit.value(s)
                except (Overflow, Reshape, Unsupported):
                    raise
                except Exception:
                    self.model.holds(self.model.property_named(unit.label), self.layout.decode(s))
                    raise
            if hit:
                found.append(unit)
        if not found and all(mask == unit.mask and table is unit.table for mask, table, unit in tables):
            return tables
        for unit in found:
            self.witnessed.add(unit.label)
            self.pending_witnesses = [p for p in self.pending_witnesses if p.name != unit.label]
        self.witness_units = [u for u in self.witness_units if u not in found]
        return [(u.mask, u.table, u) for u in self.witness_units]

    def _deadlock(self, s: int, idx: int) -> None:
        if not self.model.is_done(self.layout.decode(s)):
            raise Stop(Violation("deadlock", "deadlock", self.trace_to(idx), message="no action is enabled"))

    # the same parent links, clock and limits as the interpreted search
    def trace_to(self, idx: int) -> Trace:
        return rebuild_trace(self.model, self.roots, self.parents, self.via, idx)

    def _limits(self, queue: int) -> bool:
        self.stopped_by = self.budget.spent(len(self.via), self.depth, queue)
        return self.stopped_by is not None

