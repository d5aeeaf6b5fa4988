"""The compiled breadth-first search: a spec's actions and invariants become table look-ups.

States are packed into ints (``checkers/compiled/packing.py``).  Each action and each
conjunct of each invariant is memoised on the bits it reads
(``checkers/compiled/memo.py``), and the memos are grouped so that expanding a state
costs a few dict probes and, per successor, ``state & keep | bits``, one set
probe and, when new, a few more probes for the invariants.  The user writes
nothing special: the spec's own methods are traced on views of packed states
and every traced answer is confirmed once on the real state.

The same search as ``explicit.Search`` in every other respect: the
distinct-state and generated counts are equal, a counterexample is a
shortest one and is rebuilt by re-applying the actions on real states, and
limits, progress, spilling and Ctrl-C behave the same.  A spec the packing
cannot represent (not NamedTuple states, a function that tells a view from a
record) is handed back to the interpreted search with the reason.
"""

from __future__ import annotations

import gc
import time
from array import array

from consensuslab.checkers.compiled.audit import audited, expected_steps
from consensuslab.checkers.compiled.constraint import StateConstraint
from consensuslab.checkers.compiled.direct import DirectPieces
from consensuslab.checkers.compiled.domains import StateDomains
from consensuslab.checkers.compiled.evidence import Evidence
from consensuslab.checkers.compiled.filtering import TracedSpec
from consensuslab.checkers.compiled.subscriptions import Subscriptions
from consensuslab.checkers.compiled.levels import level_search, trace_back
from consensuslab.checkers.compiled.grouping import plan_groups
from consensuslab.checkers.compiled.memo import WARMUP, Group, Unit, share_branch_traces
from consensuslab.checkers.compiled.records import records_of, type_tested
from consensuslab.checkers.compiled.packing import Layout, Overflow, Reshape, Unsupported
from consensuslab.checkers.compiled.per_state import StateByState
from consensuslab.checkers.compiled.piece_functions import invariant_pieces
from consensuslab.checkers.compiled.refinement_steps import RefinementSteps, refinement_of
from consensuslab.checkers.compiled.step_pairs import StepPairs
from consensuslab.checkers.compiled.steps import step_units
from consensuslab.checkers.compiled.support import unsupported_reason
from consensuslab.checkers.compiled.wholesale import WholeStateActions
from consensuslab.checkers.search.collector import resume_collection
from consensuslab.checkers.search.ending import Budget, Stop, finish
from consensuslab.checkers.search.frontier import SpillingFrontier
from consensuslab.checkers.search.limits import LimitReached, interrupted_by
from consensuslab.checkers.search.progress import Progress
from consensuslab.models.model import Model
from consensuslab.traces.result import CheckResult, Violation

__all__ = ["CompiledSearch", "unsupported_reason"]

#: layouts tried before giving up (each widening at least doubles a field's room)
MAX_RESTARTS = 24


class CompiledSearch(StateByState):
    def __init__(self, model: Model, max_states: int | None = None, max_depth: int | None = None,
                 time_limit: float | None = None, progress: bool = True, spill_after: int | None = None,
                 insist: bool = False, workers: int = 1, reached: list = (), rival=None, by_speed: bool = True):
        self.model = model
        self.rival = rival  # the interpreted search racing this one (``search/rival.py``), told our count
        self.reached = reached  # states the interpreted probe or scout reached first (``checkers/run.py``)
        self.workers = workers  # threads of the level-at-a-time search
        self.insist = insist  # engine=compiled: keep going even when the memo does not pay
        self.max_states = max_states
        self.max_depth = max_depth
        self.time_limit = time_limit
        self.show_progress = progress
        self.spill_after = spill_after
        self.restarts = 0
        # racing, the race decides: an estimate timed while the rival shares the machine misjudged (under CI's
        # load it called two-phase rm=9's first 1,169 states 6.6 times slower, and the run then waited minutes
        # for 10 million states interpreted where the compiled search takes seconds); its own cost is still timed
        # and ``by_speed`` False (``auto`` under ``--max-states``): which engine answers must not depend on timing
        self.evidence = Evidence(model, judging=by_speed and not insist and rival is None)
        self.twin = TracedSpec(model.definition)  # the spec's methods with filtered iteration, for views

    # -- set-up per layout --------------------------------------------------------------
    def _units(self, layout: Layout) -> None:
        model = self.model
        twin = self.twin
        layout.subscriptions = Subscriptions(layout)
        full = layout.full
        self.grown = [False]
        # the level search filters steps by the state constraint itself, so that a row reads only its action
        filtering = bool(getattr(model, "_constraints", ())) and self._levels_possible()
        self.constraint = StateConstraint(model, layout, twin, self.grown) if filtering else None
        self.domains.constrained = not filtering
        self.actions = [Unit(str(label), fn, args, label, True, layout, twin.method(fn))
                        for label, fn, args in (model._raw_table if filtering else model._table)]
        share_branch_traces(self.actions)
        self.branch_views: dict = {}  # per branched action and arguments met: its rows' shared views (``add_rows``)
        self.invariant_units = []
        alternatives = self._levels_possible()  # the per-state search takes conjuncts only
        for prop in model.invariants:
            for name, fn, view_fn, args, clause, element in invariant_pieces(prop, model.spec, twin, layout,
                                                                              alternatives):
                unit = Unit(name, fn, args, prop.name, False, layout, view_fn,
                            None if clause is None else (prop.name, clause), piece=True)
                self.invariant_units.append(unit)
                if element is not None and alternatives:  # the level search judges it per element
                    self.direct.judge_per_element(unit, *element)
        self.witness_units = [Unit(p.name, p.fn, (), p.name, False, layout, twin.method(p.fn))
                              for p in self.pending_witnesses]
        self.refinement_steps = RefinementSteps(  # the level search maps each state once (``refinement_steps``)
            model, [p for p in model.step_properties if refinement_of(p)] if alternatives else [], layout)
        refinements = frozenset(self.refinement_steps.names())
        self.step_units = step_units(model, self.actions, twin, layout, refinements)
        self.step_pairs = StepPairs(model, twin, layout, refinements)  # judged over whole levels, not by rows
        self.witness_groups = [Group([u], full, self.grown) for u in self.witness_units]  # set by any group whose key widens: the hot loop's tuples are then stale
        # one group per unit until the warm-up has shown the units' masks (merging "equal" masks now would
        # merge them all: none has been traced, every mask is 0, and the one group's key would soon be the
        # whole state, a miss for every state)
        self.groups = [Group([u], full, self.grown) for u in self.actions]
        judged_apart = self.direct.handled()
        self.inv_groups = [Group([u], full, self.grown) for u in self.invariant_units if id(u) not in judged_apart]
        self.step_groups = [Group([u], full, self.grown) for u in self.step_units if not self.step_pairs.takes(u)]
        self._coverage_groups()
        if self.domains:  # rows per argument met so far; the model then orders every step by its label
            self.domains.bind(layout, self.twin)
            self.add_rows(self.domains.rows())

    def _coverage_groups(self, keep: bool = False) -> None:
        """A memoised check per action whose domain reads the state (per argument of a branched one): its
        arguments all have rows.  ``keep``: only checks were added, so the others keep what they learnt."""
        old = {g.units[0].name: g for g in self.domain_groups} if keep else {}
        self.domain_groups = [old.get(name) or Group([Unit(name, fn, (), name, False, self.layout)],
                                                     self.layout.full, [False])
                              for name, fn in (self.domains.coverage() if self.domains else ())]

    def grow_domains(self) -> list:
        """Rows for the elements set fields numbered since the last level (``domains.py``), and the checks of
        the branched actions' new elements."""
        rows = self.domains.grow()
        if self.domains.elements_grew:
            self._coverage_groups(keep=True)
        return rows

    def add_rows(self, rows: list) -> None:
        """Rows for arguments a domain yields for the first time, joining the table now (``domains.py``)."""
        layout, full = self.layout, self.layout.full
        units = [Unit(str(label), fn, args, label, True, layout, self.domains.view_fn(label))
                 for label, fn, args in rows]
        for u in units:  # a branched action's rows for the same arguments: one traced run for all
            siblings = self.domains.siblings(u.label)
            if siblings is not None:
                u.shared = self.branch_views.setdefault(siblings, {})
        self.actions = sorted(self.actions + units, key=lambda u: u.label.key)
        self.groups += [Group([u], full, self.grown) for u in units]
        steps = step_units(self.model, units, self.twin, layout, frozenset(self.refinement_steps.names()))
        self.step_units += steps
        self.step_groups += [Group([u], full, self.grown) for u in steps if not self.step_pairs.takes(u)]
        self._coverage_groups()  # the known arguments grew: answers learnt before may be stale

    def _regroup(self, sample: list[int] | None = None) -> None:
        """Plan the groups from the units' masks; property units merge only where ``sample`` (packed states
        reached) shows the merge does not multiply their keys (``grouping.py``)."""
        full = self.layout.full
        self.groups = plan_groups(self.actions, full, self.grown)
        # a conjunct that reads nothing is constant, and it held: no need to look it up again
        direct = self.direct.handled()  # called on the decoded state, or judged per element (``direct.py``)
        varying = [u for u in self.invariant_units
                   if (u.mask or not u.traced) and u.clause is None and id(u) not in direct]
        self.inv_groups = plan_groups(varying, full, self.grown, sample=sample) + self._alternative_groups()
        direct_steps = {id(u) for u in self.direct_steps.units}
        self.step_groups = plan_groups([u for u in self.step_units if (u.mask or not u.traced)
                                        and id(u) not in direct_steps and not self.step_pairs.takes(u)],
                                       full, self.grown, sample=sample)
        self.grouped = True

    def _alternative_groups(self) -> list:
        """One group per alternative (each its own table, combined by ``kernels.judge_part``), but none for a
        clause with an alternative that reads nothing and held (the clause always holds)."""
        clauses: dict = {}
        for u in self.invariant_units:
            if u.clause is not None:
                clauses.setdefault(u.clause, []).append(u)
        groups = []
        for units in clauses.values():
            if any(u.traced and not u.mask and u.table.get(0) is True for u in units):
                continue
            groups += [Group([u], self.layout.full, self.grown) for u in units if u.mask or not u.traced]
        return groups

    # -- running ----------------------------------------------------------------------
    def run(self) -> CheckResult | None:
        """The result, or None (with ``self.declined``) when the spec cannot be compiled."""
        self.declined = None
        model = self.model
        started = time.monotonic()
        collecting = gc.isenabled()
        gc.disable()
        try:
            initial = model.initial_states()
            self.progress = Progress(enabled=self.show_progress)
            try:
                layout = Layout.learn(initial, records_of(type_tested(model.definition)))
                self.domains = StateDomains(model)
                if self.reached:  # their values numbered now, in the order they were found: no restart for them
                    layout.encode_all(self.reached)
                    self.domains.confirm(self.reached)
                    self.reached = ()
                self.domains.seed(initial)
            except Unsupported as exc:
                self.declined = str(exc)
                return None
            while True:
                try:
                    return self._attempt(layout, initial, started)
                except Overflow as exc:
                    layout.widen(exc.args[0])
                except Reshape as exc:
                    layout.demote(exc.field)
                except Unsupported as exc:
                    self.declined = str(exc)
                    return None
                self.restarts += 1
                if self.restarts > MAX_RESTARTS:
                    self.declined = "the state's fields keep outgrowing their packing"
                    return None
        finally:
            if collecting:
                resume_collection()  # without walking every state the search made (``collector.py``)

    def _attempt(self, layout: Layout, initial: list, started: float) -> CheckResult:
        self.layout = layout
        self.budget = Budget(self.time_limit, self.progress, started, rival=self.rival)  # one line across restarts
        self.frontier = SpillingFrontier(self.spill_after)
        self.seen: set[int] = set()
        self.parents = array("q")
        self.via: list = []
        self.roots: dict = {}
        self.seen_count = 0  # the level search's count (an interrupt may come before its first level)
        self.generated = 0
        self.depth = 0
        self.judged_depth = 0  # the depth of the states whose properties are judged now (``levels.py``)
        self.stopped_by = None
        self.pending_witnesses = list(self.model.witnesses)
        self.witnessed: set[str] = set()
        self.grouped = False
        self.count = 0
        self.traced_judged = 0
        self.moved_judged = 0  # units moved out of the memo when the speed was last judged
        self.warmup = WARMUP
        self.direct = DirectPieces()
        self.direct_steps = DirectPieces()  # transition property units called directly (``levels.judge_steps``)
        self.wholesale = WholeStateActions()  # action units keyed by the whole state (``wholesale.py``)
        packed = layout.encode_initial(initial)
        self._units(layout)
        self.mode = "levels" if self._levels_possible() else "states"
        if self.domains and self.mode != "levels":
            raise Unsupported("actions whose domain reads the state are compiled in the level search only")
        if self.model.step_properties and self.mode != "levels":
            raise Unsupported("transition properties are checked by the interpreted search when a level spills")
        violation = None
        try:
            if self.mode == "levels":
                level_search(self, packed, initial)
            else:
                self._bfs(packed, initial)
        except Stop as stop:
            violation = stop.violation
        except KeyboardInterrupt as exc:  # Ctrl-C, or a limit reached inside a level (``within_level``)
            self.stopped_by = interrupted_by(exc)
        finally:
            self.budget.progress.close()
            self.frontier.close()
        return self._result(violation)

    def _levels_possible(self) -> bool:
        """Whole levels in numpy (states of any width: ``words.py``); spilling is the per-state search's."""
        return self.spill_after is None

    # -- safeguards ---------------------------------------------------------------------
    def within_level(self) -> None:
        """Inside a level that traces much: the progress line, and a stop when a limit is reached (the
        states counted are those of the levels before)."""
        reached = self.budget.spent(self.seen_count, self.depth, 0)
        if reached is not None:
            raise LimitReached(reached) if reached != "interrupted" else KeyboardInterrupt()

    def traced(self) -> int:
        constraint = [self.constraint.unit] if self.constraint is not None else []
        units = self.actions + self.invariant_units + self.step_units + constraint
        return sum(u.traced for u in units) + self.step_pairs.traced()

    def freed_core(self) -> bool:
        """Whether the rival racing this search was overtaken and stopped: its core is free, and the level
        search takes it, as ``--workers 2`` does (the same counts and traces)."""
        return self.rival is not None and self.rival.overtaken

    def judge_speed(self, states: int, seconds: float, grouped: bool) -> None:
        """Hand over to the interpreted search (engine auto, no race) once the levels show it would be faster;
        ``grouped``: whether these states were expanded past the memo's warm-up."""
        traced = self.traced()
        moved = len(self.wholesale.moved) + len(self.direct.units) + len(self.direct_steps.units)
        slower = self.evidence.level(states, seconds, traced - self.traced_judged, warm=grouped,
                                     reshaped=moved != self.moved_judged)
        self.traced_judged, self.moved_judged = traced, moved
        if slower is not None:
            raise Unsupported(slower)

    def sample_interpreted(self, packed: list[int]) -> None:
        """Measure the interpreted search's cost on a few states (while the choice is open)."""
        if not self.evidence.settled:
            self.evidence.sample([self.layout.decode(s) for s in packed])

    def cross_check(self, s: int) -> None:
        """The compiled steps of ``s`` must be exactly ``model.successors`` of the real state."""
        self.audited(s, self.compiled_steps(s), expected_steps(self.model, self.layout, s))

    def compiled_steps(self, s: int) -> list:
        """``(label, successor)`` of packed state ``s`` from the memo, sorted (tracing what it lacks)."""
        compiled = []
        for u in self.actions:
            out = u.value(s)
            if out is not None:
                nxt = s & ~out[0] | out[1]
                if self.constraint is None or self.constraint.keeps(s, u.label, nxt):
                    compiled.append((str(u.label), nxt))
        return sorted(compiled)

    audited = staticmethod(audited)

    # -- hooks of the level-at-a-time search (checkers/compiled/levels.py) --------------------------
    def evaluate(self, group, s: int) -> None:
        """Fill ``group``'s memo entry for packed state ``s``."""
        if self.constraint is not None and group is self.constraint.group:
            self.constraint.evaluate(s)
        elif group.is_action:
            group.miss(s)
        else:
            self._property_miss(group, s, None)

    def invariant_failed_at(self, s: int, depth: int) -> None:
        broken = self.model.first_broken_invariant(self.layout.decode(s))
        if broken is None:
            raise Unsupported("an invariant's conjuncts disagree with the invariant")
        raise Stop(Violation(broken.name, "invariant", trace_back(self, s, depth)))

    def witnessed_group(self, group) -> None:
        name = group.units[0].label
        self.witnessed.add(name)
        self.pending_witnesses = [p for p in self.pending_witnesses if p.name != name]
        self.witness_groups = [g for g in self.witness_groups if g is not group]

    def distinct(self) -> int:
        return self.seen_count if self.mode == "levels" else len(self.via)

    def _property_miss(self, group, s: int, idx: int | None) -> bool:
        try:
            return group.miss(s)
        except (Overflow, Reshape, Unsupported):
            raise
        except Exception:
            # as the interpreted search: the first property that fails or raises, in declaration order
            state = self.layout.decode(s)
            broken = self.model.first_broken_invariant(state)
            if broken is not None:
                if idx is None:
                    self.invariant_failed_at(s, self.judged_depth)
                raise Stop(Violation(broken.name, "invariant", self.trace_to(idx)))
            for unit in group.units:  # a witness raised, or a transition property on one of the state's steps
                prop = self.model.property_named(unit.label)
                if prop in self.model.step_properties:
                    for act, nxt in self.model.successors(state):
                        self.model.step_holds(prop, state, act, nxt)
                else:
                    self.model.holds(prop, state)
            raise

    # -- the result ------------------------------------------------------------------------
    def _result(self, violation: Violation | None) -> CheckResult:
        levels = self.mode == "levels"
        extra = {"frontier_spilled_states": self.frontier.spilled_total} if self.frontier.spilled_total else {}
        extra.update({
            "engine": "compiled", "workers": self.workers if levels else 1, "symmetry": False, "reduction": None,
            "compiled": {"state_bits": self.layout.bits, "search": "levels" if levels else "states",
                         "restarts": self.restarts, "action_groups": len(self.groups),
                         "invariant_groups": len(self.inv_groups), "traced_calls": self.traced(),
                         "direct_pieces": self.direct.describe() + self.direct_steps.describe()
                         + [f"{name} (mapped once per state)" for name in self.refinement_steps.names()],
                         "whole_state_actions": self.wholesale.describe(),
                         "evidence": self.evidence.describe(),
                         "took_rival_core": levels and self.workers == 1 and self.freed_core()},
        })
        return finish(self.model, violation=violation, stopped_by=self.stopped_by, witnessed=self.witnessed,
                      distinct=self.distinct(), generated=self.generated, depth=self.depth,
                      seconds=time.monotonic() - self.budget.started, fingerprints=False, extra=extra)
